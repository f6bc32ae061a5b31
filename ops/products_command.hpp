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
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/state.hpp"
#include "ops/products_energy.hpp"
#include "ops/products_hazards.hpp"
#include "ops/products_views.hpp"
#include "products/ensemble_products.hpp"

namespace gale {

// Everything a `products:` section asks for (also a forecast's `products:` section).
struct ProductsPlan {
  EnsembleProductSpec ensemble;  // percentiles, thresholds, members on/off, deflate, title
  bool netcdf = true;
  bool grib2 = false;
  int bits_per_value = 16;
  std::optional<MapsPlan> maps;
  std::optional<SitesPlan> sites;
  std::optional<EnergyPlan> energy;
  std::optional<HazardsPlan> hazards;
};

// Parses the product keys of `node` (every key validated; `other_keys` are the caller's,
// e.g. members and output). `variables`: what the members will hold.
ProductsPlan parse_products_section(const ConfigNode& node, const Config& config, const std::vector<Variable>& variables,
                                    const std::vector<std::string>& other_keys);

struct ProductsOutputs {
  std::vector<std::string> files;  // every product written, in order
  std::string manifest;
};

ProductsOutputs run_products_command(const Config& config);

// Writes every product of `plan` for `members` (>= 2 members) into `output`, with the
// provenance (inputs and their SHA-256, the config's SHA-256, code version) in each file
// and in manifest.json.
ProductsOutputs write_products(const State& members, ProductsPlan plan, const std::string& output,
                               const std::vector<std::string>& inputs, const std::string& config_sha256);

}  // namespace gale
