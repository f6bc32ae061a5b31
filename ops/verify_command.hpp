#pragma once
// `gale verify`: scores forecasts against truth (and baselines) and writes a score NetCDF,
// a CSV scorecard, and a table on stdout.
//
// verify:
//   forecasts:                      # one entry per case (a forecast run: members x leads)
//     - sources: [{path: run1/forecast.nc}]
//   truth: {sources: [{path: era5.grib}], member: 0}
//   climatology: {sources: [{path: clim.nc}]}    # optional: ACC and the climatology baseline
//   variables: [z500, t850]
//   regions: [global, tropics, northern_extratropics, southern_extratropics]   # optional
//   thresholds: {t850: [273.15]}    # optional: Brier scores
//   output: verify-out              # directory for scores.nc and scores.csv
#include <string>

#include "core/config.hpp"

namespace gale {

struct VerifyOutputs {
  std::string netcdf, csv, table;
};

VerifyOutputs run_verify_command(const Config& config);

}  // namespace gale
