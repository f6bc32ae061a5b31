#pragma once
// The `energy:` section of `gale products` (shared/CONVENTIONS.md, "Energy products"):
// hub-height wind, turbine and solar PV capacity factors and heating/cooling degree days,
// computed per member and lead time from the member variables, then written as ensemble
// products (CF NetCDF through write_ensemble_netcdf: members, mean, std, the products'
// percentiles and the probabilities above each configured threshold) and, per product with
// `regions`, a CSV of capacity-weighted regional means.
//
// products:
//   members: {..., variables: [10u, 10v, 100u, 100v, 2t, ssrd]}   # every input must be loaded
//   energy:
//     wind:
//       levels: [{height: 10, u: 10u, v: 10v}, {height: 100, u: 100u, v: 100v}]  # speed = hypot(u, v)
//       hub_height: 100              # m (default 100)
//       profile: fitted_power_law    # power_law (alpha) | log_law (roughness) | fitted_power_law (default)
//       alpha: 0.143                 # power_law, and fitted_power_law's fallback (default 1/7)
//       roughness: 0.03              # m, log_law (default 0.03)
//       turbine: iec-II              # iec-I | iec-II | iec-III, or
//                                    # {name: x, cut_in: 3, rated: 12, cut_out: 25, table: [[speed, fraction], ...]}
//       thresholds: [0.2, 0.5]       # probability of capacity factor above these (optional)
//       speed_thresholds: [15]       # probability of hub-height speed above these, m s-1 (optional)
//       regions: [{name: uk, lat: [49, 61], lon: [-8, 2]}]   # optional; lon west..east, eastwards
//     solar:
//       irradiance: ssrd             # accumulated J m-2
//       temperature: 2t              # K
//       accumulation_hours: 1        # optional: each value accumulates over the hours before its
//                                    # valid time (ERA5 reanalysis: 1); absent: running accumulation
//                                    # since the forecast reference time (forecasts)
//       thresholds: [0.3]
//       regions: [...]
//     degree_days:
//       temperature: 2t              # hourly .. 6-hourly samples (a step dividing 24 h)
//       base_celsius: 18             # default 18
//       thresholds: [5, 10]          # K day, for both heating and cooling degree days
//       regions: [...]
//
// Products in <output>/energy (each atomic, with .sha256):
//   hub_height_wind_speed.nc   standard_name wind_speed, m s-1, at the valid times of the members
//   wind_capacity_factor.nc    units 1 (no CF standard name)
//   solar_capacity_factor.nc   units 1; mean irradiance over the interval ending at each valid
//                              time (running accumulations: valid times after the reference time)
//   heating_degree_days.nc, cooling_degree_days.nc   K day; one time per complete UTC day,
//                              valid time = 00 UTC of the day (incomplete days are left out; a
//                              DataError when none is complete)
//   regions_<product>.csv      per product with regions (wind_capacity_factor,
//                              solar_capacity_factor, heating_/cooling_degree_days):
//                              region,valid_time,lead_hours,mean,p<q>...,prob_above_<t>...
//                              where each member's capacity-weighted regional mean (uniform
//                              capacity over the grid points in the box) is computed first, then
//                              the mean, percentiles (numpy-linear) and fraction of members above
//                              each threshold over members.
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/state.hpp"
#include "products/energy.hpp"
#include "products/ensemble_products.hpp"

namespace gale {

struct EnergyWindLevel {
  double height = 10;  // m
  std::string u, v;    // member variable keys
};

struct EnergyWindPlan {
  std::vector<EnergyWindLevel> levels;
  double hub_height = 100;
  HubHeightOptions hub;
  PowerCurve turbine;
  std::vector<double> thresholds;        // capacity factor
  std::vector<double> speed_thresholds;  // hub-height wind speed, m s-1
  std::vector<SupplyRegion> regions;
};

struct EnergySolarPlan {
  std::string irradiance = "ssrd", temperature = "2t";
  std::optional<double> accumulation_hours;  // empty: running since the reference time
  std::vector<double> thresholds;
  std::vector<SupplyRegion> regions;
};

struct EnergyDegreeDayPlan {
  std::string temperature = "2t";
  double base_celsius = 18;
  std::vector<double> thresholds;
  std::vector<SupplyRegion> regions;
};

struct EnergyPlan {
  std::optional<EnergyWindPlan> wind;
  std::optional<EnergySolarPlan> solar;
  std::optional<EnergyDegreeDayPlan> degree_days;
};

// Parses `products.energy` (every key validated; ConfigError naming the key).
// `variables`: the member variables the products config loads; an input not among them is a
// ConfigError naming the key and telling the user to add it to products.members.variables.
EnergyPlan parse_energy_plan(const ConfigNode& section, const Config& config, const std::vector<Variable>& variables);

// Computes and writes every configured energy product into `dir` (which must exist);
// returns the paths written, in order.
std::vector<std::string> write_energy_products(const State& members, const EnergyPlan& plan, const std::string& dir,
                                               const EnsembleProductSpec& base);

}  // namespace gale
