#pragma once
// `gale products`: ensemble products from member files (GRIB or NetCDF with members, e.g.
// a Gale forecast's members or ERA5's EDA), for grid operators and disaster agencies.
// Every file appears atomically with `.sha256` beside it, and `manifest.json` lists them
// with their hashes and the provenance (inputs, config, code version).
//
// products:
//   members:                        # an ingest section (see ops/ingest_config.hpp)
//     sources: [{path: ../../shared/data/era5-levels-members.grib}]
//     variables: [z500, t850]
//   output: ../runs/products-era5   # directory (relative to this file)
//   title: ERA5 EDA products        # optional
//   percentiles: [10, 50, 90]
//   thresholds: {t850: [273.15]}    # event: value > threshold (canonical units)
//   netcdf: {members: true, deflate_level: 1}     # <output>/netcdf/<key>.nc
//   grib2: {enabled: true, bits_per_value: 16}    # <output>/grib2/<key>.grib2
#include <string>
#include <vector>

#include "core/config.hpp"

namespace gale {

struct ProductsOutputs {
  std::vector<std::string> files;  // every product written, in order
  std::string manifest;
};

ProductsOutputs run_products_command(const Config& config);

}  // namespace gale
