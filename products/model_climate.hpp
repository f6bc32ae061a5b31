#pragma once
// Model climate: per grid point and variable, percentiles of a variable over every valid time
// and member of a set of States (re-forecasts of the same model, or a reanalysis). The
// Extreme Forecast Index compares a forecast with it (products/hazards.hpp).
//
// File layout (CF-1.10, NetCDF-4, written atomically with `<path>.sha256` beside it):
//   dimensions  percentile, and latitude, longitude (regular grids) or values (others)
//   coordinates percentile(percentile) double "%"; latitude/longitude as 1-D axes, or
//               auxiliary latitude(values), longitude(values) named in `coordinates`
//   data        one float variable per Variable, [percentile, latitude, longitude | values],
//               named by the lexicon's NetCDF name plus the level ("z500", "t2m", "msl"),
//               standard_name, long_name, units, gale_variable (the key, "2t"),
//               sample_count; _FillValue NaN; one percentile per chunk, deflate + shuffle
//   global      Conventions, title, source, history, comment, gale_sources (one input
//               per line), gale_sample_count, gale_first_valid_time, gale_last_valid_time,
//               gale_grid_kind, gale_grid (description), gale_grid_fingerprint
#include <memory>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"
#include "core/variable.hpp"

namespace gale {

class State;

struct ModelClimate {
  std::vector<double> percentiles;  // strictly ascending, 0..100
  std::vector<Variable> variables;
  std::shared_ptr<const Grid> grid;
  // Per variable: percentiles.size() x grid->size() floats, percentile-major. NaN where a
  // point had no finite sample.
  std::vector<std::vector<float>> values;
  std::size_t sample_count = 0;       // samples per point and variable (times x members)
  std::vector<std::string> sources;   // one description per input
  TimePoint first_valid_time{}, last_valid_time{};
  std::string path;                   // the file it was read from (empty when built)

  // Quantiles of one variable ("z500", "2t"): percentiles.size() x points. Throws DataError
  // naming the file and the variable, and listing the variables the climate has.
  const float* quantiles(const std::string& key) const;
  // Throws DataError naming both grids when `forecast_grid` differs from the climate's.
  void expect_grid(const Grid& forecast_grid, const std::string& forecast_what) const;
};

// Percentiles (numpy's default linear interpolation between order statistics) per point of
// every valid time and member of `inputs`, for each variable key. NaN samples are skipped
// (a point with none gets NaN). Memory: samples x points floats for one variable at a time.
// `source_names` describes the inputs (file names); empty: each State's "source" metadata,
// or its reference time. Throws DataError when an input lacks a variable or is on another
// grid (naming the input and both grids), ConfigError for invalid percentiles.
ModelClimate build_model_climate(const std::vector<State>& inputs, const std::vector<std::string>& variables,
                                 const std::vector<double>& percentiles,
                                 const std::vector<std::string>& source_names = {});

// Writes the layout above. `history` lines should start with an ISO 8601 timestamp (a line
// that does not gets the current time); empty: one line saying Gale wrote the file. Throws
// InputError naming the path when the file cannot be written (nothing partial is left).
void write_model_climate(const ModelClimate& climate, const std::string& path,
                         const std::vector<std::string>& history = {});

// Reads a file written by write_model_climate. Throws InputError naming the path for a
// missing or unreadable file, DataError for a file that lacks the layout (naming what).
ModelClimate read_model_climate(const std::string& path);

}  // namespace gale
