#include "ingest/normalisation.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/errors.hpp"
#include "grids/cells.hpp"

namespace gale {

namespace {
// Weighted running moments (West's incremental algorithm): stable over a year of fields.
struct Moments {
  double weight = 0, mean = 0, m2 = 0;
  void add(double x, double w) {
    weight += w;
    const double delta = x - mean;
    mean += delta * w / weight;
    m2 += w * delta * (x - mean);
  }
  double stddev() const { return weight > 0 ? std::sqrt(m2 / weight) : 0; }
};
}  // namespace

NormalisationStats compute_normalisation(const DatasetIndex& data, const std::vector<TimePoint>& times,
                                         Duration step) {
  const auto weights = latitude_weights(*data.grid());
  const std::size_t nvar = data.variables().size(), points = data.grid()->size();
  std::vector<Moments> state(nvar), diff(nvar);
  for (const auto t : times) {
    const auto now = data.load(t);
    const bool has_next = data.has(t + step);
    const auto next = has_next ? data.load(t + step) : std::vector<float>{};
    for (std::size_t v = 0; v < nvar; ++v)
      for (std::size_t p = 0; p < points; ++p) {
        const float x = now[v * points + p];
        if (std::isnan(x)) continue;
        state[v].add(x, weights[p]);
        if (has_next && !std::isnan(next[v * points + p])) diff[v].add(next[v * points + p] - x, weights[p]);
      }
  }
  NormalisationStats stats;
  for (std::size_t v = 0; v < nvar; ++v) {
    const auto& key = data.variables()[v].key();
    if (!(state[v].stddev() > 0) || !(diff[v].stddev() > 0))
      throw DataError(fmt::format("normalisation: {} does not vary over the {} training times (or over one step): "
                                  "it cannot be normalised",
                                  key, times.size()));
    stats.mean.push_back(state[v].mean);
    stats.stddev.push_back(state[v].stddev());
    // The root mean square of the differences (their mean is part of the residual).
    stats.diff_stddev.push_back(std::sqrt(diff[v].m2 / diff[v].weight + diff[v].mean * diff[v].mean));
  }
  return stats;
}

}  // namespace gale
