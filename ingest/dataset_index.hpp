#pragma once
// A dataset index over many GRIB/NetCDF files (one or many variables per file, any time
// chunking): which file and field holds each (valid time, variable), built from headers
// only. Values are read on demand, one time at a time, so a training run streams the
// archive instead of loading it.
#include <memory>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"
#include "core/variable.hpp"
#include "ingest/field.hpp"

namespace gale {

class DatasetIndex {
 public:
  // Indexes member 0 (the deterministic / control field) of `variables` in `files`. Times
  // at which any variable is missing are left out; a variable found twice at one time, or
  // fields on different grids, is a DataError naming both files.
  DatasetIndex(const std::vector<std::string>& files, std::vector<Variable> variables);

  const std::vector<Variable>& variables() const { return variables_; }
  const std::shared_ptr<const Grid>& grid() const { return grid_; }
  const std::vector<TimePoint>& times() const { return times_; }  // ascending, complete
  bool has(TimePoint t) const;

  // Values at valid time t: [variable][point] floats in canonical units, NaN missing.
  // Thread-safe (readers serialise their library calls).
  std::vector<float> load(TimePoint t) const;

  // SHA-256 over the grid, the variables, the indexed times and each file's name and
  // size: two indexes of the same archive agree, any added or changed file changes it.
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  struct Location {
    std::size_t reader = 0, header = 0;
  };
  std::vector<std::unique_ptr<Reader>> readers_;
  std::vector<Variable> variables_;
  std::shared_ptr<const Grid> grid_;
  std::vector<TimePoint> times_;
  std::vector<std::vector<Location>> locations_;  // [time][variable]
  std::string fingerprint_;
};

// Files matching a glob pattern (sorted); InputError when nothing matches.
std::vector<std::string> expand_glob(const std::string& pattern);

}  // namespace gale
