#pragma once
// `gale climate`: a model climate (products/model_climate.hpp) from forecasts or a
// reanalysis, for the Extreme Forecast Index of `gale products` (hazards.efi.climate).
//
// climate:
//   sources: [{path: ../../shared/data/era5-levels-members.grib}]   # one input State each
//   variables: [t850, z500]
//   percentiles: [0, 1, 2, ..., 100]   # optional; default 0..100 step 1 (0 and 100 give
//                                      # the EFI its -1 / +1 limits)
//   check_ranges: true                 # optional, as in ingest
//   output: clim.nc                    # relative to this file; `.sha256` written beside it
//
// Each source is read on its own (all its valid times and members) and every sample of
// every source enters the percentiles; the sources must share one grid.
#include <string>

#include "core/config.hpp"

namespace gale {

// Validates the whole config, reads the sources, writes the climate file atomically and
// returns its path.
std::string run_climate_command(const Config& config);

}  // namespace gale
