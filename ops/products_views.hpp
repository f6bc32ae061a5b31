#pragma once
// The `maps:` and `sites:` sections of `gale products` (see products_command.hpp):
//
//   maps:                             # PNG maps with coastlines, <output>/maps/<key>_<field>_<lead>h.png
//     variables: [t850]               # default: every member variable
//     fields: [mean, std, p90, probability]   # mean | std | p<q> (one of `percentiles`) |
//                                     # probability (one map per threshold of the variable)
//     leads: [0, 24]                  # forecast_period in hours; default: every lead
//     box: {lat: [30, 75], lon: [-30, 45]}    # default: the grid's extent
//   sites:                            # <output>/sites/sites.nc (CF timeSeries), sites.csv
//     file: sites.csv                 # name,lat,lon[,capacity]; relative to the config
//     variables: [t850]               # default: every member variable
//     plumes: true                    # plume_<site>_<key>.png per site and variable
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "products/ensemble_products.hpp"
#include "products/maps.hpp"
#include "products/sites.hpp"

namespace gale {

struct MapsPlan {
  std::vector<std::string> variables;  // keys; empty: all
  std::vector<std::string> fields{"mean", "std"};
  std::vector<double> leads_hours;     // empty: all
  std::optional<MapBox> box;
};
MapsPlan parse_maps_plan(const ConfigNode& section, const std::vector<Variable>& variables,
                         const EnsembleProductSpec& spec);
// Maps of one ensemble variable (when the plan selects it); returns the PNG paths.
std::vector<std::string> write_maps(const EnsembleVariable& variable, const LeadStatistics& statistics, const MapsPlan& plan,
                                    const EnsembleProductSpec& spec, const std::string& dir);

struct SitesPlan {
  std::vector<Site> sites;
  std::string file;
  std::vector<std::string> variables;  // keys; empty: all
  bool plumes = true;
};
SitesPlan parse_sites_plan(const ConfigNode& section, const Config& config, const std::vector<Variable>& variables);
// sites.nc, sites.csv and the plumes for the selected variables; returns the paths.
std::vector<std::string> write_site_products(const std::vector<EnsembleVariable>& variables, const SitesPlan& plan,
                                             const EnsembleProductSpec& spec, const std::string& dir);

}  // namespace gale
