#pragma once
// The ensemble products of one variable as a CF NetCDF-4 file (IMPROVER practice, see
// shared/CONVENTIONS.md), one file per variable so that each probability variable is
// `probability_of_<standard_name>_above_threshold` with one `threshold` coordinate:
//
//   <dir>/<key>.nc            e.g. z500.nc, 2t.nc, wind_capacity_factor.nc
//   dimensions  time, realization (members, optional), percentile, threshold, latitude x
//               longitude (regular grids) or values
//   data        <name>(time, realization, y, x)        the members (name: z, t, t2m, ...)
//               <name>_mean(time, y, x)                cell_methods "realization: mean"
//               <name>_std(time, y, x)                 "realization: standard_deviation" (ddof 1)
//               <name>_percentile(time, percentile, y, x)   numpy-linear order statistics
//               probability_of_<standard_name>_above_threshold(time, threshold, y, x)
//                                                      fraction of members > threshold, units 1
//               (time first, and realization / percentile / threshold carry axis "Z": cdo
//               reads a (time, Z, y, x) variable and nothing else without warnings)
//   scalar      forecast_reference_time, pressure_level (upper-air variables; named in the
//               `coordinates` of mean and std, as cdo allows one vertical axis per variable)
//
// Chunks: one member and one lead time per chunk (one lead per chunk for statistics);
// deflate + shuffle at the configured level. Written atomically with `.sha256` beside.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/state.hpp"
#include "export/cf_axes.hpp"

namespace gale {

// What a product variable is called and measured in: from the lexicon for State
// variables, or given by a derived product (capacity factors, degree days).
struct ProductVariable {
  std::string key;            // file name and config key: "t850", "wind_capacity_factor"
  std::string name;           // NetCDF variable name of the members: "t", "wind_capacity_factor"
  std::string standard_name;  // CF standard name, or "" when CF has none
  std::string long_name, units;
  std::optional<double> pressure_hpa;  // upper-air variables
};
ProductVariable product_variable(const Variable& variable);

// One variable of an ensemble: every member at every lead, on one grid.
struct EnsembleVariable {
  ProductVariable description;
  std::shared_ptr<const Grid> grid;
  TimePoint reference{};
  std::vector<TimePoint> valid;
  std::size_t members = 0;
  std::vector<float> values;  // [time][member][point]
  // Quantities over an interval (daily degree days, mean irradiance): [start, end] per
  // time and the CF method over it ("time: sum", "time: mean"). Empty: instants.
  std::vector<std::pair<TimePoint, TimePoint>> time_bounds;
  std::string time_cell_method;
  std::size_t points() const { return grid->size(); }
  const float* field(std::size_t t, std::size_t m) const { return values.data() + (t * members + m) * points(); }
  float* field(std::size_t t, std::size_t m) { return values.data() + (t * members + m) * points(); }
};
// Variable `v` of a State with all members (a copy in [time][member][point] order).
EnsembleVariable ensemble_variable(const State& state, std::size_t v);

struct EnsembleProductSpec {
  std::vector<double> percentiles{10, 50, 90};            // 0..100, ascending
  std::map<std::string, std::vector<double>> thresholds;  // variable key -> thresholds (its units)
  bool members = true;                                    // also write the members
  int deflate_level = 1;                                  // 0..9 (shuffle on when > 0)
  CfGlobals globals;                                      // title, provenance attributes, ...
};

// Mean, standard deviation, percentiles and probabilities at lead `t`:
// [1 + 1 + percentiles + thresholds] x points, probabilities as fractions of members.
std::vector<float> ensemble_fields(const EnsembleVariable& variable, std::size_t t, const EnsembleProductSpec& spec);

// ensemble_fields of every lead, computed once and shared by every writer of a variable
// (NetCDF, GRIB2, maps).
using LeadStatistics = std::vector<std::vector<float>>;
LeadStatistics ensemble_statistics(const EnsembleVariable& variable, const EnsembleProductSpec& spec);

// <dir>/<key>.nc from the members and their statistics; returns its path.
std::string write_ensemble_netcdf(const EnsembleVariable& variable, const LeadStatistics& statistics,
                                  const std::string& dir, const EnsembleProductSpec& spec);

}  // namespace gale
