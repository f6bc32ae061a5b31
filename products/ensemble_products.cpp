#include "products/ensemble_products.hpp"

#include <fmt/format.h>
#include <netcdf.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/errors.hpp"
#include "core/lexicon.hpp"
#include "ensemble/statistics.hpp"
#include "export/atomic_file.hpp"
#include "export/nc_writer.hpp"
#include "export/writable_variable.hpp"

namespace gale {

namespace {

const std::vector<double>& thresholds_of(const EnsembleProductSpec& spec, const std::string& key) {
  static const std::vector<double> none;
  const auto it = spec.thresholds.find(key);
  return it == spec.thresholds.end() ? none : it->second;
}

class VariableFile {
 public:
  VariableFile(const EnsembleVariable& s, const LeadStatistics& statistics, const std::string& path,
               const std::string& temp, const EnsembleProductSpec& spec)
      : s_(s), statistics_(statistics), d_(s.description), spec_(spec), nc_(path, temp), thresholds_(thresholds_of(spec, d_.key)) {
    name_ = d_.name;
    auto globals = spec.globals;
    globals.attributes["ensemble_members"] = std::to_string(s.members);
    globals.attributes["gale_variable"] = d_.key;
    put_cf_globals(nc_, path, globals);
    define();
    nc_.check(nc_enddef(nc_.id()), "leaving define mode");
    put_coordinates();
  }

  void write() {
    const auto& grid = *s_.grid;
    const auto shape = horizontal_.shape(grid);
    std::vector<float> buffer;
    auto put = [&](int var, std::vector<std::size_t> start, const float* data, const std::string& what) {
      std::vector<std::size_t> count(start.size(), 1);
      for (const auto n : shape) start.push_back(0), count.push_back(n);
      nc_.check(nc_put_vara_float(nc_.id(), var, start.data(), count.data(), horizontal_.file_order(grid, data, buffer)),
                what);
    };
    const std::size_t points = s_.points(), nq = spec_.percentiles.size(), leads = s_.valid.size();
    for (std::size_t t = 0; t < leads; ++t) {
      const auto& fields = statistics_[t];
      if (spec_.members)
        for (std::size_t m = 0; m < s_.members; ++m) put(members_var_, {t, m}, s_.field(t, m), name_);
      put(mean_var_, {t}, fields.data(), name_ + "_mean");
      put(std_var_, {t}, fields.data() + points, name_ + "_std");
      for (std::size_t q = 0; q < nq; ++q)
        put(percentile_var_, {t, q}, fields.data() + (2 + q) * points, name_ + "_percentile");
      for (std::size_t h = 0; h < thresholds_.size(); ++h)
        put(probability_var_, {t, h}, fields.data() + (2 + nq + h) * points, "probability");
    }
    nc_.check(nc_sync(nc_.id()), "flushing");
    nc_.close();
  }

 private:
  // `leading`: 1 for (time, y, x), 2 for (time, realization | percentile | threshold, y, x).
  int data_var(const std::string& name, std::vector<int> dims, std::size_t leading, const std::string& standard_name,
               const std::string& units, const std::string& long_name) {
    const auto& grid = *s_.grid;
    for (const int d : horizontal_.dims()) dims.push_back(d);
    std::vector<std::size_t> chunks(leading, 1);
    for (const auto n : horizontal_.shape(grid)) chunks.push_back(n);
    const int var = nc_.var(name, NC_FLOAT, dims);
    nc_.check(nc_def_var_chunking(nc_.id(), var, NC_CHUNKED, chunks.data()), "chunking of " + name);
    if (spec_.deflate_level > 0)
      nc_.check(nc_def_var_deflate(nc_.id(), var, 1, 1, spec_.deflate_level), "compression of " + name);
    const float fill = std::numeric_limits<float>::quiet_NaN();
    nc_.check(nc_def_var_fill(nc_.id(), var, NC_FILL, &fill), "_FillValue of " + name);
    if (!standard_name.empty()) nc_.text(var, "standard_name", standard_name);
    nc_.text(var, "long_name", long_name);
    nc_.text(var, "units", units);
    // forecast_reference_time and forecast_period are found by their standard names; named
    // here, cdo would warn that it cannot assign them. The scalar pressure is named only
    // by variables without a second "level" axis (cdo allows one per variable).
    std::string coordinates = horizontal_.auxiliary();
    if (pressure_var_ >= 0 && leading == 1)
      coordinates += std::string(coordinates.empty() ? "" : " ") + "pressure_level";
    if (!coordinates.empty()) nc_.text(var, "coordinates", coordinates);
    if (!s_.time_cell_method.empty()) nc_.text(var, "cell_methods", s_.time_cell_method);
    return var;
  }

  void define() {
    const auto& grid = *s_.grid;
    const std::string std_name = d_.standard_name, units = d_.units, label = d_.long_name;
    const std::string where = d_.pressure_hpa ? fmt::format(" at {:g} hPa", *d_.pressure_hpa) : "";
    int real_dim = -1;
    if (spec_.members) {
      real_dim = nc_.dim("realization", s_.members);
      real_var_ = nc_.var("realization", NC_INT, {real_dim});
      nc_.text(real_var_, "standard_name", "realization");
      nc_.text(real_var_, "long_name", "ensemble member");
      nc_.text(real_var_, "units", "1");
      nc_.text(real_var_, "axis", "Z");  // cdo reads a (time, Z, y, x) variable, nothing else
    }
    time_ = define_time_axes(nc_, s_.reference, s_.valid.size());
    if (!s_.time_bounds.empty()) time_bounds_ = define_time_bounds(nc_, time_);
    int pct_dim = -1, thr_dim = -1;
    if (!spec_.percentiles.empty()) {
      pct_dim = nc_.dim("percentile", spec_.percentiles.size());
      pct_var_ = nc_.var("percentile", NC_FLOAT, {pct_dim});
      nc_.text(pct_var_, "long_name", "percentile over realizations");
      nc_.text(pct_var_, "units", "%");
      nc_.text(pct_var_, "axis", "Z");
    }
    if (!thresholds_.empty()) {
      thr_dim = nc_.dim("threshold", thresholds_.size());
      thr_var_ = nc_.var("threshold", NC_FLOAT, {thr_dim});
      if (!std_name.empty()) nc_.text(thr_var_, "standard_name", std_name);
      nc_.text(thr_var_, "long_name", label + " threshold");
      nc_.text(thr_var_, "units", units);
      nc_.text(thr_var_, "spp__relative_to_threshold", "greater_than");
      nc_.text(thr_var_, "axis", "Z");
    }
    if (d_.pressure_hpa) pressure_var_ = define_scalar_pressure(nc_, "pressure_level");
    horizontal_ = define_horizontal_axes(nc_, grid);

    const int t = time_.dim;
    const std::string time_method = s_.time_cell_method.empty() ? "" : s_.time_cell_method + " ";
    if (spec_.members) members_var_ = data_var(name_, {t, real_dim}, 2, std_name, units, label + where);
    mean_var_ = data_var(name_ + "_mean", {t}, 1, std_name, units, "ensemble mean of " + label + where);
    nc_.text(mean_var_, "cell_methods", time_method + "realization: mean");
    std_var_ = data_var(name_ + "_std", {t}, 1, std_name, units, "ensemble standard deviation of " + label + where);
    nc_.text(std_var_, "cell_methods", time_method + "realization: standard_deviation");
    if (pct_dim >= 0)
      percentile_var_ = data_var(name_ + "_percentile", {t, pct_dim}, 2, std_name, units,
                                 "percentiles over the ensemble of " + label + where);
    if (thr_dim >= 0)
      probability_var_ = data_var("probability_of_" + (std_name.empty() ? name_ : std_name) + "_above_threshold", {t, thr_dim}, 2, "", "1",
                                  "probability of " + label + where + " above threshold");
  }

  void put_coordinates() {
    if (spec_.members) {
      std::vector<int> m(s_.members);
      for (std::size_t k = 0; k < m.size(); ++k) m[k] = int(k);
      nc_.check(nc_put_var_int(nc_.id(), real_var_, m.data()), "realization values");
    }
    put_time_axes(nc_, time_, s_.reference, s_.valid);
    if (time_bounds_ >= 0) put_time_bounds(nc_, time_bounds_, s_.reference, s_.time_bounds);
    if (pct_var_ >= 0) {
      const std::vector<float> q(spec_.percentiles.begin(), spec_.percentiles.end());
      nc_.check(nc_put_var_float(nc_.id(), pct_var_, q.data()), "percentile values");
    }
    if (thr_var_ >= 0) {
      const std::vector<float> h(thresholds_.begin(), thresholds_.end());
      nc_.check(nc_put_var_float(nc_.id(), thr_var_, h.data()), "threshold values");
    }
    if (pressure_var_ >= 0) {
      const float level = float(*d_.pressure_hpa);
      nc_.check(nc_put_var_float(nc_.id(), pressure_var_, &level), "pressure_level value");
    }
    put_horizontal_axes(nc_, horizontal_, *s_.grid);
  }

  const EnsembleVariable& s_;
  const LeadStatistics& statistics_;
  const ProductVariable& d_;
  const EnsembleProductSpec& spec_;
  NcWriter nc_;
  const std::vector<double>& thresholds_;
  std::string name_;
  TimeAxes time_;
  HorizontalAxes horizontal_;
  int real_var_ = -1, pct_var_ = -1, thr_var_ = -1, pressure_var_ = -1, time_bounds_ = -1;
  int members_var_ = -1, mean_var_ = -1, std_var_ = -1, percentile_var_ = -1, probability_var_ = -1;
};

}  // namespace

ProductVariable product_variable(const Variable& variable) {
  const auto& entry = writable_entry(variable, variable.key(), "NetCDF");
  ProductVariable d;
  d.key = variable.key();
  d.name = entry.netcdf_names.empty() ? entry.name : entry.netcdf_names.front();
  d.standard_name = entry.standard_name;
  d.long_name = entry.long_name;
  d.units = entry.units;
  if (variable.level_kind == LevelKind::isobaric) d.pressure_hpa = variable.level;
  return d;
}

EnsembleVariable ensemble_variable(const State& s, std::size_t v) {
  EnsembleVariable e;
  e.description = product_variable(s.variables()[v]);
  e.grid = s.grid();
  e.reference = s.reference_time();
  e.valid = s.valid_times();
  e.members = s.members();
  e.values.resize(s.times() * s.members() * s.points());
  for (std::size_t t = 0; t < s.times(); ++t)
    for (std::size_t m = 0; m < s.members(); ++m) std::copy_n(s.field(m, t, v), s.points(), e.field(t, m));
  return e;
}

std::vector<float> ensemble_fields(const EnsembleVariable& e, std::size_t t, const EnsembleProductSpec& spec) {
  StatisticsSpec stats;
  stats.percentiles = spec.percentiles;
  stats.thresholds = thresholds_of(spec, e.description.key);
  const std::size_t points = e.points(), nq = stats.percentiles.size(), nh = stats.thresholds.size();
  std::vector<float> all(stats.names().size() * points);
  // [member][point] at lead t is contiguous, as point_statistics wants it.
  point_statistics(e.field(t, 0), e.members, points, stats, all.data());
  // point_statistics gives mean, std, min, max, percentiles, counts: keep mean, std,
  // percentiles, and turn counts into fractions of members.
  std::vector<float> out((2 + nq + nh) * points);
  std::copy_n(all.begin(), 2 * points, out.begin());
  std::copy_n(all.begin() + std::ptrdiff_t(4 * points), nq * points, out.begin() + std::ptrdiff_t(2 * points));
  const float members = float(e.members);
  for (std::size_t i = 0; i < nh * points; ++i) out[(2 + nq) * points + i] = all[(4 + nq) * points + i] / members;
  return out;
}

LeadStatistics ensemble_statistics(const EnsembleVariable& variable, const EnsembleProductSpec& spec) {
  LeadStatistics out;
  for (std::size_t t = 0; t < variable.valid.size(); ++t) out.push_back(ensemble_fields(variable, t, spec));
  return out;
}

std::string write_ensemble_netcdf(const EnsembleVariable& variable, const LeadStatistics& statistics,
                                  const std::string& dir, const EnsembleProductSpec& spec) {
  if (spec.deflate_level < 0 || spec.deflate_level > 9)
    throw ConfigError(fmt::format("products: NetCDF deflate_level {} is outside 0..9", spec.deflate_level));
  if (variable.members < 2)
    throw DataError(fmt::format("products: {} has {} member; ensemble products need at least 2",
                                variable.description.key, variable.members));
  if (!variable.time_bounds.empty() && variable.time_bounds.size() != variable.valid.size())
    throw InternalError(fmt::format("products: {}: time bounds do not match the times", variable.description.key));
  if (statistics.size() != variable.valid.size())
    throw InternalError(fmt::format("products: {}: statistics for {} leads, {} expected", variable.description.key,
                                    statistics.size(), variable.valid.size()));
  if (variable.values.size() != variable.valid.size() * variable.members * variable.points())
    throw InternalError(fmt::format("products: {}: values do not match times x members x points",
                                    variable.description.key));
  const auto path = (std::filesystem::path(dir) / (variable.description.key + ".nc")).string();
  AtomicOutput out(path);
  {
    std::lock_guard lock(netcdf_write_mutex());
    VariableFile(variable, statistics, path, out.temp_path(), spec).write();
  }
  out.commit();
  return path;
}

}  // namespace gale
