#include "verify/verification.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"
#include "grids/cells.hpp"
#include "verify/scores.hpp"

namespace gale {

const std::vector<Region>& standard_regions() {
  static const std::vector<Region> regions{{"global", -90, 90},
                                           {"tropics", -20, 20},
                                           {"northern_extratropics", 20, 90},
                                           {"southern_extratropics", -90, -20}};
  return regions;
}

const Region& region_by_name(const std::string& name) {
  std::string known;
  for (const auto& r : standard_regions()) {
    if (r.name == name) return r;
    known += (known.empty() ? "" : ", ") + r.name;
  }
  throw ConfigError(fmt::format("unknown region '{}' (known: {})", name, known));
}

Verification::Verification(VerifyOptions options) : options_(std::move(options)) {
  for (const auto& r : options_.regions) region_by_name(r);
}

namespace {
std::size_t time_index(const State& s, TimePoint t, const char* what) {
  const auto& times = s.valid_times();
  const auto it = std::find(times.begin(), times.end(), t);
  if (it == times.end())
    throw DataError(fmt::format("verify: the {} has no field at {}", what, iso8601(t)));
  return std::size_t(it - times.begin());
}

// The climatology time for a valid time: its month when the climatology is a
// month-of-year axis (times in 1970, as ingest gives a `month` axis), else the same time.
std::size_t climatology_index(const State& clim, TimePoint t) {
  const auto& times = clim.valid_times();
  const bool monthly = std::all_of(times.begin(), times.end(), [](TimePoint c) {
    return iso8601(c).rfind("1970-", 0) == 0;
  });
  if (!monthly) return time_index(clim, t, "climatology");
  const std::string month = iso8601(t).substr(5, 2);
  for (std::size_t i = 0; i < times.size(); ++i)
    if (iso8601(times[i]).substr(5, 2) == month) return i;
  throw DataError(fmt::format("verify: the climatology has no month {} (needed for {})", month, iso8601(t)));
}
}  // namespace

void Verification::add_case(const State& forecast, const State& truth, const State* climatology) {
  if (!forecast.grid()->same_as(*truth.grid()))
    throw DataError(fmt::format("verify: forecast on {} but truth on {}: regrid to one grid first",
                                forecast.grid()->describe(), truth.grid()->describe()));
  if (climatology && !climatology->grid()->same_as(*forecast.grid()))
    throw DataError("verify: the climatology is not on the verification grid");
  const auto& grid = *forecast.grid();
  const auto weights = grid.rows() > 0 ? latitude_weights(grid) : std::vector<double>(grid.size(), 1.0);
  std::vector<std::vector<double>> region_weights;
  for (const auto& name : options_.regions) {
    const auto& r = region_by_name(name);
    std::vector<double> w(weights.size(), 0.0);
    for (std::size_t p = 0; p < w.size(); ++p)
      if (grid.lat()[p] >= r.south && grid.lat()[p] <= r.north) w[p] = weights[p];
    region_weights.push_back(std::move(w));
  }
  const TimePoint reference = forecast.reference_time();
  const auto& truth_times = truth.valid_times();
  const bool have_persistence = std::find(truth_times.begin(), truth_times.end(), reference) != truth_times.end();
  const std::size_t members = forecast.members(), n = forecast.points();
  std::vector<double> mean(n);  // double: a float mean would bias small biases
  for (std::size_t v = 0; v < forecast.variable_count(); ++v) {
    const std::string key = forecast.variables()[v].key();
    const std::size_t tv = truth.index_of(key);
    const std::size_t cv = climatology ? climatology->index_of(key) : 0;
    for (std::size_t t = 0; t < forecast.times(); ++t) {
      const TimePoint valid = forecast.valid_times()[t];
      const double lead = std::chrono::duration<double>(valid - reference).count() / 3600.0;
      const float* y = truth.field(0, time_index(truth, valid, "truth"), tv);
      const float* clim = climatology ? climatology->field(0, climatology_index(*climatology, valid), cv) : nullptr;
      const float* persistence = have_persistence ? truth.field(0, time_index(truth, reference, "truth"), tv) : nullptr;
      std::vector<const float*> ptrs;
      for (std::size_t m = 0; m < members; ++m) ptrs.push_back(forecast.field(m, t, v));
      for (std::size_t p = 0; p < n; ++p) {
        double s = 0;
        for (const float* x : ptrs) s += x[p];
        mean[p] = s / double(members);
      }
      for (std::size_t r = 0; r < region_weights.size(); ++r) {
        const auto& w = region_weights[r];
        auto& sum = sums_[{key, lead, options_.regions[r]}];
        const auto d = deterministic_scores(mean.data(), y, w);
        sum.w += d.weight;
        sum.bias += d.bias * d.weight;
        sum.mse += d.mse * d.weight;
        sum.mae += d.mae * d.weight;
        if (clim) {
          double ft = 0, ff = 0, tt = 0;
          for (std::size_t p = 0; p < n; ++p) {
            const double f = mean[p] - clim[p], o = y[p] - clim[p];
            if (!std::isfinite(f) || !std::isfinite(o)) continue;
            ft += w[p] * f * o, ff += w[p] * f * f, tt += w[p] * o * o;
          }
          if (ff > 0 && tt > 0) {
            sum.acc_sum += ft / std::sqrt(ff * tt);
            ++sum.acc_cases;
          }
          const auto c = deterministic_scores(clim, y, w);
          sum.climatology_w += c.weight;
          sum.climatology_mse += c.mse * c.weight;
        }
        if (persistence) {
          const auto ps = deterministic_scores(persistence, y, w);
          sum.persistence_w += ps.weight;
          sum.persistence_mse += ps.mse * ps.weight;
        }
        if (members >= 2) {
          const auto e = ensemble_scores(ptrs, y, w, options_.seed ^ (cases_ * 7919 + t));
          sum.ens_w += e.weight;
          sum.crps += e.crps * e.weight;
          sum.variance += e.variance * e.weight;
          sum.unbiased_variance += e.variance * (double(members) + 1) / double(members) * e.weight;
          if (sum.ranks.empty()) sum.ranks.assign(e.rank_histogram.size(), 0.0);
          const auto ranks = rebin_rank_histogram(e.rank_histogram, sum.ranks.size());
          for (std::size_t b = 0; b < ranks.size(); ++b) sum.ranks[b] += ranks[b];
          if (const auto it = options_.thresholds.find(key); it != options_.thresholds.end())
            for (double threshold : it->second) {
              const auto b = probability_scores(ptrs, y, w, threshold);
              sum.brier[threshold].first += b.weight;
              sum.brier[threshold].second += b.brier * b.weight;
            }
        }
      }
    }
  }
  ++cases_;
}

std::vector<double> rebin_rank_histogram(const std::vector<double>& histogram, std::size_t bins) {
  const std::size_t n = histogram.size();
  if (n == bins) return histogram;
  std::vector<double> out(bins, 0.0);
  for (std::size_t r = 0; r < n; ++r) {
    const double lo = double(r) / double(n), hi = double(r + 1) / double(n);
    for (auto b = std::size_t(lo * double(bins)); b < bins && double(b) / double(bins) < hi; ++b) {
      const double overlap = std::min(hi, double(b + 1) / double(bins)) - std::max(lo, double(b) / double(bins));
      if (overlap > 0) out[b] += histogram[r] * overlap * double(n);
    }
  }
  return out;
}

std::vector<ScoreRow> Verification::rows() const {
  std::vector<ScoreRow> out;
  for (const auto& [k, s] : sums_) {
    const auto& [var, lead, region] = k;
    auto add = [&](const std::string& score, double value) { out.push_back({var, lead, region, score, value}); };
    if (s.w <= 0) continue;
    const double rmse = std::sqrt(s.mse / s.w);
    add("bias", s.bias / s.w);
    add("rmse", rmse);
    add("mae", s.mae / s.w);
    if (s.acc_cases > 0) add("acc", s.acc_sum / s.acc_cases);
    if (s.ens_w > 0) {
      const double spread = std::sqrt(s.variance / s.ens_w);
      add("crps", s.crps / s.ens_w);
      add("spread", spread);
      add("spread_skill", rmse > 0 ? std::sqrt(s.unbiased_variance / s.ens_w) / rmse : NAN);
      for (const auto& [threshold, b] : s.brier) add(fmt::format("brier_{:g}", threshold), b.second / b.first);
    }
    if (s.persistence_w > 0) add("rmse_persistence", std::sqrt(s.persistence_mse / s.persistence_w));
    if (s.climatology_w > 0) add("rmse_climatology", std::sqrt(s.climatology_mse / s.climatology_w));
  }
  return out;
}

std::map<std::tuple<std::string, double, std::string>, std::vector<double>> Verification::rank_histograms() const {
  std::map<std::tuple<std::string, double, std::string>, std::vector<double>> out;
  for (const auto& [k, s] : sums_) {
    if (s.ranks.empty()) continue;
    double total = 0;
    for (double c : s.ranks) total += c;
    std::vector<double> freq;
    for (double c : s.ranks) freq.push_back(total > 0 ? c / total : 0);
    out[k] = freq;
  }
  return out;
}

std::string format_scores_table(const std::vector<ScoreRow>& rows, const std::string& region) {
  // One line per (variable, lead): the scores present, in a fixed order.
  static const std::vector<std::string> order{"rmse", "rmse_persistence", "rmse_climatology", "bias", "acc",
                                              "crps", "spread", "spread_skill"};
  std::map<std::pair<std::string, double>, std::map<std::string, double>> table;
  for (const auto& r : rows)
    if (r.region == region) table[{r.variable, r.lead_hours}][r.score] = r.value;
  std::string out = fmt::format("{:<8} {:>6}", "variable", "lead h");
  for (const auto& s : order) out += fmt::format(" {:>16}", s);
  out += fmt::format("   ({})\n", region);
  for (const auto& [key, scores] : table) {
    out += fmt::format("{:<8} {:>6g}", key.first, key.second);
    for (const auto& s : order) {
      const auto it = scores.find(s);
      out += it == scores.end() ? fmt::format(" {:>16}", "-") : fmt::format(" {:>16.6g}", it->second);
    }
    out += "\n";
  }
  return out;
}

}  // namespace gale
