#pragma once
// Site time series: a list of named points (wind farms, cities, stations), the weights
// that take a field to them, and the products written per site: a CF discrete sampling
// geometry NetCDF file (featureType timeSeries) and a CSV of percentiles per lead time.
#include <cstddef>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"

namespace gale {

struct Site {
  std::string name;
  double lat = 0, lon = 0;  // degrees; lon as given (-180..360)
  double capacity = 1;      // installed capacity (any unit, used as a weight); 1 when absent
};

// CSV with a header naming the columns (any order, names case-insensitive, surrounding
// spaces ignored): name, lat, lon and optionally capacity. Blank lines and lines starting
// with '#' are skipped. Throws InputError for a missing/unreadable file and every bad
// line: the message names the file, the line number and the field (a number that does
// not parse, lat outside -90..90, lon outside -180..360, capacity negative, duplicate or
// empty name, a missing column, a wrong number of fields). No sites is an error too.
std::vector<Site> read_sites_csv(const std::string& path);

// The grid points and weights giving a value at one site: value = sum weight[k] * field[index[k]].
struct SiteWeights {
  std::vector<std::size_t> index;
  std::vector<double> weight;  // sum to 1; zero weights are dropped
  bool bilinear = false;       // false: the nearest grid point
};

// Regular lat-lon and regular Gaussian grids (global or regional): bilinear between the
// four surrounding points. Longitudes wrap: a global grid interpolates between its last
// longitude and 360 + its first; a regional grid crossing 0 E (stored 0..2, 350..359.75)
// is handled as one run 350..362. The grid's row order is read, not assumed.
// Reduced Gaussian grids: bilinear along the two bracketing rows (grids/regrid.hpp).
// Meshes: the nearest node (great circle). A site outside a regional grid (beyond its
// edge rows/columns) is a DataError naming the site and the grid.
std::vector<SiteWeights> site_weights(const Grid& grid, const std::vector<Site>& sites);

// Values at the sites from one field of grid.size() values. NaN at a point with weight > 0
// gives NaN (missing stays missing).
std::vector<float> interpolate_to_sites(const std::vector<SiteWeights>& weights, const float* field);

// One variable at every site.
struct SiteProduct {
  std::string name;           // NetCDF variable / CSV "variable" column: "wind_cf", "t2m"
  std::string standard_name;  // CF standard name; empty: none written
  std::string long_name, units;
  std::vector<float> values;  // [site][member][time], NaN missing
};

// Everything the site writers need: which sites, which valid times, how many members.
struct SiteSeries {
  std::vector<Site> sites;
  TimePoint reference_time{};
  std::vector<TimePoint> valid_times;  // strictly ascending
  std::size_t members = 1;
  std::vector<SiteProduct> products;
  // InternalError naming the product when sizes disagree; DataError for bad times.
  void check(const std::string& path) const;
};

struct SiteWriteOptions {
  std::vector<double> percentiles{10, 50, 90};  // 0..100, numpy-linear over members
  bool write_members = true;  // NetCDF: the members themselves (realization dimension)
  int deflate_level = 1;      // NetCDF: 0..9
  std::string title, source, institution, comment, references;
  std::vector<std::string> history;  // as NetcdfWriteOptions: lines, oldest first
};

// CF-1.10 discrete sampling geometry, featureType "timeSeries", orthogonal multidimensional
// representation (NetCDF-4; atomic, with `<path>.sha256`):
//   dimensions  time, realization (when write_members), percentile (when percentiles are
//               asked for), station
//   station(station) int 0..N-1, cf_role = "timeseries_id", site_names = the names, one
//               per line (cdo skips char and string variables with a warning)
//   latitude(station), longitude(station) double; capacity(station) double;
//   time(time) "hours since <reference time>"; forecast_period(time) hours;
//   forecast_reference_time scalar; realization(realization) int, axis Z;
//   percentile(percentile) "%", axis Z
//   <name>(time, realization, station) float and <name>_percentile(time, percentile,
//   station) float, coordinates "latitude longitude" (time first and the Z axes: cdo
//   reads (time, Z, station) variables without warnings).
// Throws InputError naming the path when it cannot be written, ConfigError for bad options.
void write_sites_netcdf(const SiteSeries& series, const std::string& path,
                        const SiteWriteOptions& options = {});

// CSV, one row per site, variable and valid time, atomic (with `<path>.sha256`):
//   site,variable,valid_time,lead_hours,p10,p50,p90
// valid_time ISO 8601 UTC; percentile columns from options.percentiles ("p<q>"), computed
// as ensemble/statistics.hpp point_statistics does (numpy linear). Fields containing a
// comma or quote are quoted.
void write_sites_csv(const SiteSeries& series, const std::string& path,
                     const SiteWriteOptions& options = {});

}  // namespace gale
