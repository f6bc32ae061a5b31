#pragma once
// The `hazards:` section of `gale products` (shared/CONVENTIONS.md, "Disaster products"):
//
// products:
//   hazards:
//     efi:                         # Extreme Forecast Index against a model climate
//       climate: clim.nc           # written by `gale climate` (relative to the config)
//       variables: [t850]          # optional; default every products.members variable
//       maps: true                 # optional (false): efi_<key>_<lead>h.png, -1..1 diverging
//     cyclones:                    # tropical-cyclone tracks and strike probability
//       field: msl                 # the tracked minimum: msl, z1000, z850 (a members variable)
//       start: {lat: 20, lon: 130} # optional first guess (else: deepest closed low in box)
//       start_radius_km: 300       # optional, search radius around start
//       box: {lat_min: 0, lat_max: 40, lon_min: 100, lon_max: 180}   # optional, without start
//       radius_km: 120             # strike radius (default 120)
//       window_hours: 120          # strike window from the reference time (default 120)
//       max_displacement_km: 500   # per 6 h (default 500)
//       min_depth: 200             # closed-contour depth, field units (default 200)
//       closed_radius_km: 600      # optional
//       vorticity: {u: u850, v: v850, min: 5.0e-5, radius_km: 300}   # optional criterion
//       maps: true                 # optional (false): strike_probability.png
//
// Files (in <output>/hazards, each atomic with `.sha256` beside it):
//   efi_<key>.nc              CF NetCDF-4, efi_<key>(time, latitude, longitude | values),
//                             units 1, valid_min -1, valid_max 1; comment names the climate
//                             file and its sha256
//   efi_<key>_<lead>h.png     maps (maps: true)
//   tracks.csv                member,time,lead_hours,lat,lon,value,end_reason (the reason
//                             on each member's last row; a member without a track: one row
//                             with the reason only)
//   strike_probability.nc     probability_of_tropical_cyclone_strike(latitude, longitude |
//                             values), units 1, radius_km / window attributes
//   strike_probability.png    (maps: true)
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/state.hpp"
#include "core/variable.hpp"
#include "export/cf_axes.hpp"
#include "products/hazards.hpp"
#include "products/model_climate.hpp"
#include "products/vortex_tracker.hpp"

namespace gale {

struct EfiPlan {
  std::string climate_path, climate_sha256;
  std::shared_ptr<const ModelClimate> climate;
  std::vector<std::string> variables;  // keys
  bool maps = false;
};

struct CyclonePlan {
  TrackerOptions tracker;
  double radius_km = 120;
  double window_hours = 120;
  bool maps = false;
};

struct HazardsPlan {
  std::optional<EfiPlan> efi;
  std::optional<CyclonePlan> cyclones;
};

// Validates the section and reads the model climate (ConfigError for the config,
// InputError for an unreadable climate file, DataError when it lacks a variable).
// `variables`: the members' variables (products.members.variables).
HazardsPlan parse_hazards_plan(const ConfigNode& section, const Config& config, const std::vector<Variable>& variables);

// Writes the products into `dir` (created); returns the files in order. Every check
// (grids, variables) happens before the first file is written: a DataError leaves none.
std::vector<std::string> write_hazard_products(const State& members, const HazardsPlan& plan, const std::string& dir,
                                               const CfGlobals& globals);

}  // namespace gale
