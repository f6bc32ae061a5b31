#pragma once
// Ensemble statistics of one lead time as a NetCDF-4 file: one float variable per
// (variable, statistic), e.g. z500_mean, ws500_p90, ws500_count_gt_20, on latitude x
// longitude (regular grids) or values (others); time, forecast_reference_time and
// forecast_period coordinates. Written atomically with a .sha256 beside it. (The full CF
// product layout with percentile/threshold coordinates comes with the products issue.)
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"

namespace gale {

struct StatisticsField {
  std::string name;       // "z500_mean"
  std::string units;      // canonical units of the variable, "1" for counts
  std::string long_name;  // "ensemble mean of z500"
};

// data: fields.size() x grid.size() floats.
void write_statistics_netcdf(const std::string& path, const Grid& grid, TimePoint reference, TimePoint valid,
                             int members, const std::vector<StatisticsField>& fields, const std::vector<float>& data);

}  // namespace gale
