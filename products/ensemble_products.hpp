#pragma once
// The ensemble products of one variable as a CF NetCDF-4 file (IMPROVER practice, see
// shared/CONVENTIONS.md), one file per variable so that each probability variable is
// `probability_of_<standard_name>_above_threshold` with one `threshold` coordinate:
//
//   <dir>/<key>.nc            e.g. z500.nc, 2t.nc, ws500.nc
//   dimensions  realization (members, optional), time, percentile, threshold, latitude x
//               longitude (regular grids) or values
//   data        <name>(time, realization, y, x)        the members (name: z, t, 2t, ...)
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
#include <string>
#include <vector>

#include "core/state.hpp"
#include "export/cf_axes.hpp"

namespace gale {

struct EnsembleProductSpec {
  std::vector<double> percentiles{10, 50, 90};            // 0..100, ascending
  std::map<std::string, std::vector<double>> thresholds;  // variable key -> thresholds (canonical units)
  bool members = true;                                    // also write the members
  int deflate_level = 1;                                  // 0..9 (shuffle on when > 0)
  CfGlobals globals;                                      // title, provenance attributes, ...
};

// Mean, standard deviation, percentiles and probabilities of variable `v` at lead `t`:
// [1 + 1 + percentiles + thresholds] x points, probabilities as fractions of members.
std::vector<float> ensemble_fields(const State& members, std::size_t t, std::size_t v, const EnsembleProductSpec& spec);

// One file per variable of `members` (all members, all leads in memory); returns the paths.
std::vector<std::string> write_ensemble_netcdf(const State& members, const std::string& dir,
                                               const EnsembleProductSpec& spec);

}  // namespace gale
