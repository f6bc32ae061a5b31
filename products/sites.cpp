#include "products/sites.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netcdf.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "core/errors.hpp"
#include "ensemble/statistics.hpp"
#include "export/atomic_file.hpp"
#include "export/cf_axes.hpp"
#include "export/nc_writer.hpp"
#include "grids/regrid.hpp"
#include "grids/spatial_index.hpp"
#include "grids/sphere.hpp"

// The version is a compile definition of gale_export only; products name it when it is given.
#ifdef GALE_VERSION
#define GALE_SITES_SOURCE "Gale " GALE_VERSION
#else
#define GALE_SITES_SOURCE "Gale"
#endif

namespace gale {

// --- sites CSV -------------------------------------------------------------------------

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One CSV record: fields split on commas, "double ""quoted"" fields" allowed (site names
// such as "Aberdeen, Scotland"). Returns false for an unterminated quote.
bool split_csv(const std::string& line, std::vector<std::string>& fields) {
  fields.assign(1, "");
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else fields.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  for (auto& f : fields) f = trim(f);
  return !quoted;
}

struct CsvPlace {
  const std::string& path;
  std::size_t line;
  [[noreturn]] void fail(const std::string& why) const {
    throw InputError(fmt::format("{}:{}: {}", path, line, why));
  }
};

double parse_number(const CsvPlace& at, const std::string& field, const std::string& text) {
  if (text.empty()) at.fail(fmt::format("field '{}' is empty", field));
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v))
    at.fail(fmt::format("field '{}': '{}' is not a finite number", field, text));
  return v;
}

// Column positions by header name; capacity is optional (-1).
struct Columns {
  int name = -1, lat = -1, lon = -1, capacity = -1;
  std::size_t count = 0;
};

Columns parse_header(const CsvPlace& at, const std::vector<std::string>& fields) {
  Columns c;
  c.count = fields.size();
  std::map<std::string, int*> known{{"name", &c.name}, {"lat", &c.lat}, {"lon", &c.lon}, {"capacity", &c.capacity}};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto key = lower(fields[i]);
    auto it = known.find(key);
    if (it == known.end()) continue;  // extra columns (country, notes) are the user's business
    if (*it->second >= 0) at.fail(fmt::format("header names column '{}' twice", key));
    *it->second = int(i);
  }
  for (const char* required : {"name", "lat", "lon"})
    if (*known[required] < 0)
      at.fail(fmt::format("header has no '{}' column (expected name,lat,lon[,capacity], got '{}')", required,
                          fmt::join(fields, ",")));
  return c;
}

Site parse_site(const CsvPlace& at, const Columns& c, const std::vector<std::string>& fields) {
  if (fields.size() != c.count)
    at.fail(fmt::format("{} fields where the header has {}", fields.size(), c.count));
  Site s;
  s.name = fields[std::size_t(c.name)];
  if (s.name.empty()) at.fail("field 'name' is empty");
  s.lat = parse_number(at, "lat", fields[std::size_t(c.lat)]);
  if (s.lat < -90 || s.lat > 90) at.fail(fmt::format("field 'lat': {} is outside -90..90", s.lat));
  s.lon = parse_number(at, "lon", fields[std::size_t(c.lon)]);
  if (s.lon < -180 || s.lon > 360) at.fail(fmt::format("field 'lon': {} is outside -180..360", s.lon));
  if (c.capacity >= 0 && !fields[std::size_t(c.capacity)].empty()) {
    s.capacity = parse_number(at, "capacity", fields[std::size_t(c.capacity)]);
    if (s.capacity < 0) at.fail(fmt::format("field 'capacity': {} is negative", s.capacity));
  }
  return s;
}

}  // namespace

std::vector<Site> read_sites_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open sites file: {}", path, std::strerror(errno)));
  std::vector<Site> sites;
  std::map<std::string, std::size_t> line_of;  // name -> line, for duplicate messages
  std::optional<Columns> columns;
  std::string line;
  std::vector<std::string> fields;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // spreadsheet BOM
    const CsvPlace at{path, number};
    const auto text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    if (!split_csv(text, fields)) at.fail("unterminated quoted field");
    if (!columns) {
      columns = parse_header(at, fields);
      continue;
    }
    auto site = parse_site(at, *columns, fields);
    if (auto [it, fresh] = line_of.emplace(site.name, number); !fresh)
      at.fail(fmt::format("duplicate site name '{}' (first on line {})", site.name, it->second));
    sites.push_back(std::move(site));
  }
  if (in.bad()) throw InputError(fmt::format("{}: read error", path));
  if (!columns) throw InputError(fmt::format("{}: no header line (expected name,lat,lon[,capacity])", path));
  if (sites.empty()) throw InputError(fmt::format("{}: no sites after the header", path));
  return sites;
}

// --- weights ---------------------------------------------------------------------------

namespace {

constexpr double kEps = 1e-9;

double wrap360(double lon) {
  double l = std::fmod(lon, 360.0);
  if (l < 0) l += 360.0;
  return l >= 360.0 ? 0.0 : l;
}

// A regular grid's longitudes as one eastward run: `lon` ascending (may exceed 360),
// `column` the grid column of each. A global grid closes the circle with its first column
// again at +360; a regional one starts after its largest gap (so 0..2, 350..359.75
// becomes 350..362).
struct LonRun {
  std::vector<double> lon;
  std::vector<std::size_t> column;
};

LonRun longitude_run(const Grid& grid) {
  const auto& lons = grid.longitudes();
  const std::size_t n = lons.size();
  LonRun run;
  std::size_t start = 0;
  if (!grid.global_in_longitude() && n > 1) {
    double widest = 360.0 - lons.back() + lons.front();  // the gap through 0 E
    start = 0;
    for (std::size_t i = 1; i < n; ++i)
      if (lons[i] - lons[i - 1] > widest) widest = lons[i] - lons[i - 1], start = i;
  }
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t c = (start + k) % n;
    run.lon.push_back(lons[c] + (start + k >= n ? 360.0 : 0.0));
    run.column.push_back(c);
  }
  if (grid.global_in_longitude()) {
    run.lon.push_back(run.lon.front() + 360.0);
    run.column.push_back(run.column.front());
  }
  return run;
}

// Bracketing pair in a sorted axis and the weight of the second; nullopt outside.
struct Bracket {
  std::size_t i0, i1;
  double w1;
};

std::optional<Bracket> bracket(const std::vector<double>& axis, double x) {
  const std::size_t n = axis.size();
  const bool ascending = n < 2 || axis[1] > axis[0];
  const double lo = ascending ? axis.front() : axis.back(), hi = ascending ? axis.back() : axis.front();
  if (x < lo - kEps || x > hi + kEps) return std::nullopt;
  if (n == 1) return Bracket{0, 0, 0};
  x = std::clamp(x, lo, hi);
  std::size_t i1 = ascending ? std::size_t(std::upper_bound(axis.begin(), axis.end(), x) - axis.begin())
                             : std::size_t(std::upper_bound(axis.begin(), axis.end(), x, std::greater<double>()) -
                                           axis.begin());
  i1 = std::clamp<std::size_t>(i1, 1, n - 1);
  const std::size_t i0 = i1 - 1;
  return Bracket{i0, i1, (x - axis[i0]) / (axis[i1] - axis[i0])};
}

void add(SiteWeights& w, std::size_t index, double weight) {
  if (weight == 0) return;
  for (std::size_t k = 0; k < w.index.size(); ++k)
    if (w.index[k] == index) {
      w.weight[k] += weight;
      return;
    }
  w.index.push_back(index);
  w.weight.push_back(weight);
}

[[noreturn]] void outside(const Site& s, const Grid& grid) {
  throw DataError(fmt::format("site '{}' ({}, {}) is outside the grid {}", s.name, s.lat, s.lon, grid.describe()));
}

SiteWeights regular_bilinear(const Grid& grid, const LonRun& run, const Site& s) {
  const auto& rows = grid.row_latitudes();
  auto y = bracket(rows, s.lat);
  if (!y) {
    // Between a global grid's outermost row and its pole (Gaussian rows stop short of the
    // poles) the outermost row is held, as grids/regrid.hpp does; a regional grid (or a
    // latitude band) does not extrapolate.
    const bool north = s.lat > std::max(rows.front(), rows.back());
    const std::size_t j = (north == (rows.front() > rows.back())) ? 0 : rows.size() - 1;
    const std::size_t inner = j == 0 ? std::min<std::size_t>(1, rows.size() - 1) : j - 1;
    const double spacing = std::abs(rows[j] - rows[inner]);
    if (!grid.global_in_longitude() || 90 - std::abs(rows[j]) > spacing + kEps) outside(s, grid);
    y = Bracket{j, j, 0};
  }
  double x = wrap360(s.lon);
  if (x < run.lon.front() - kEps) x += 360.0;
  const auto b = bracket(run.lon, x);
  if (!b) outside(s, grid);
  const auto& offset = grid.row_offsets();
  SiteWeights w;
  w.bilinear = true;
  for (auto [j, wy] : {std::pair{y->i0, 1 - y->w1}, std::pair{y->i1, y->w1}})
    for (auto [i, wx] : {std::pair{b->i0, 1 - b->w1}, std::pair{b->i1, b->w1}})
      add(w, offset[j] + run.column[i], wy * wx);
  return w;
}

// Nearest node by chord distance (= great-circle order), through the k-d tree: meshes
// have up to millions of nodes and site lists thousands of sites.
std::vector<SiteWeights> nearest_nodes(const Grid& grid, const std::vector<Site>& sites) {
  std::vector<Vec3> xyz(grid.size());
  for (std::size_t p = 0; p < grid.size(); ++p) xyz[p] = lat_lon_to_xyz(grid.lat()[p], grid.lon()[p]);
  const PointIndex index(std::move(xyz));
  std::vector<SiteWeights> out;
  for (const auto& s : sites) {
    SiteWeights w;
    w.index = {index.nearest(lat_lon_to_xyz(s.lat, s.lon), 1).at(0)};
    w.weight = {1.0};
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace

std::vector<SiteWeights> site_weights(const Grid& grid, const std::vector<Site>& sites) {
  std::vector<SiteWeights> out;
  out.reserve(sites.size());
  if (grid.size() == 0) throw DataError("site weights: the grid has no points");
  switch (grid.kind()) {
    case GridKind::regular_ll:
    case GridKind::regular_gaussian: {
      const auto run = longitude_run(grid);
      for (const auto& s : sites) out.push_back(regular_bilinear(grid, run, s));
      break;
    }
    case GridKind::reduced_gaussian: {
      std::vector<double> lat, lon;
      for (const auto& s : sites) lat.push_back(s.lat), lon.push_back(wrap360(s.lon));
      const auto m = bilinear_weights(grid, lat, lon);
      for (std::size_t r = 0; r < sites.size(); ++r) {
        SiteWeights w;
        w.bilinear = true;
        for (auto k = m.row_start[r]; k < m.row_start[r + 1]; ++k) add(w, m.col[k], m.weight[k]);
        out.push_back(std::move(w));
      }
      break;
    }
    case GridKind::mesh:
      out = nearest_nodes(grid, sites);
      break;
  }
  return out;
}

std::vector<float> interpolate_to_sites(const std::vector<SiteWeights>& weights, const float* field) {
  std::vector<float> out(weights.size());
  for (std::size_t s = 0; s < weights.size(); ++s) {
    double v = 0;
    for (std::size_t k = 0; k < weights[s].index.size(); ++k) v += weights[s].weight[k] * field[weights[s].index[k]];
    out[s] = float(v);
  }
  return out;
}

// --- series checks ---------------------------------------------------------------------

void SiteSeries::check(const std::string& path) const {
  if (sites.empty()) throw InternalError(fmt::format("{}: site series without sites", path));
  if (valid_times.empty()) throw InternalError(fmt::format("{}: site series without valid times", path));
  if (members == 0) throw InternalError(fmt::format("{}: site series with 0 members", path));
  for (std::size_t t = 1; t < valid_times.size(); ++t)
    if (valid_times[t] <= valid_times[t - 1])
      throw DataError(fmt::format("{}: valid times not ascending at {}", path, iso8601(valid_times[t])));
  std::set<std::string> names;
  const std::size_t expected = sites.size() * members * valid_times.size();
  for (const auto& p : products) {
    if (p.name.empty()) throw InternalError(fmt::format("{}: a site product without a name", path));
    if (!names.insert(p.name).second)
      throw InternalError(fmt::format("{}: site product '{}' given twice", path, p.name));
    if (p.values.size() != expected)
      throw InternalError(fmt::format("{}: site product '{}' has {} values, expected {} ({} sites x {} members x {} times)",
                                      path, p.name, p.values.size(), expected, sites.size(), members,
                                      valid_times.size()));
  }
  if (products.empty()) throw InternalError(fmt::format("{}: no site products to write", path));
}

namespace {

void check_percentiles(const std::vector<double>& percentiles, const std::string& path) {
  for (double q : percentiles)
    if (!(q >= 0 && q <= 100))
      throw ConfigError(fmt::format("{}: percentile {} is outside 0..100", path, q));
}

// Percentiles of one product at one site: [percentile][time], numpy-linear over members.
std::vector<float> site_percentiles(const SiteSeries& series, const SiteProduct& p, std::size_t site,
                                    const std::vector<double>& percentiles) {
  const std::size_t nt = series.valid_times.size(), nm = series.members;
  StatisticsSpec spec;
  spec.percentiles = percentiles;
  const std::size_t nstat = spec.names().size();
  std::vector<float> stats(nstat * nt);
  point_statistics(p.values.data() + site * nm * nt, nm, nt, spec, stats.data());
  return {stats.begin() + 4 * std::ptrdiff_t(nt), stats.begin() + std::ptrdiff_t((4 + percentiles.size()) * nt)};
}

double lead_hours(const SiteSeries& s, std::size_t t) {
  return double((s.valid_times[t] - s.reference_time).count()) / 3600.0;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// --- NetCDF ----------------------------------------------------------------------------

void write_global_attributes(NcWriter& nc, const std::string& path, const SiteWriteOptions& o) {
  // No history line unless given: the same inputs give the same bytes.
  put_cf_globals(nc, path, CfGlobals{o.title, o.institution, o.source.empty() ? GALE_SITES_SOURCE : o.source,
                                     o.comment, o.references, o.history, {}});
  nc.text(NC_GLOBAL, "featureType", "timeSeries");
}

struct Dims {
  int station = -1, time = -1, realization = -1, percentile = -1;
};

struct Vars {
  int name = -1, lat = -1, lon = -1, capacity = -1, realization = -1, percentile = -1;
  TimeAxes time;  // time, forecast_reference_time, forecast_period
  std::vector<int> members, percentiles;  // per product
};

// Defines the dimensions (their ids into `d`) and coordinate variables: station, time (with
// forecast_reference_time and forecast_period, export/cf_axes.hpp), then realization and
// percentile when `members` / `percentiles` (their lengths) are not 0.
Vars define_coordinates(NcWriter& nc, const SiteSeries& s, Dims& d, std::size_t members, std::size_t percentiles) {
  Vars v;
  d.station = nc.dim("station", s.sites.size());
  // The site identifier is the site's index, with the names (one per line, in order) as an
  // attribute: cdo skips char and string variables with a warning, and users open these
  // files with cdo as well as xarray. The CSV beside carries the names per row.
  v.name = nc.var("station", NC_INT, {d.station});
  nc.text(v.name, "long_name", "site index (names in site_names)");
  nc.text(v.name, "cf_role", "timeseries_id");
  std::string names;
  for (const auto& site : s.sites) names += (names.empty() ? "" : "\n") + site.name;
  nc.text(v.name, "site_names", names);
  v.lat = nc.var("latitude", NC_DOUBLE, {d.station});
  nc.text(v.lat, "standard_name", "latitude");
  nc.text(v.lat, "long_name", "site latitude");
  nc.text(v.lat, "units", "degrees_north");
  v.lon = nc.var("longitude", NC_DOUBLE, {d.station});
  nc.text(v.lon, "standard_name", "longitude");
  nc.text(v.lon, "long_name", "site longitude");
  nc.text(v.lon, "units", "degrees_east");
  v.capacity = nc.var("capacity", NC_DOUBLE, {d.station});
  nc.text(v.capacity, "long_name", "installed capacity at the site (weight, units of the sites file)");
  v.time = define_time_axes(nc, s.reference_time, s.valid_times.size());
  d.time = v.time.dim;
  if (members > 0) d.realization = nc.dim("realization", members);
  if (percentiles > 0) d.percentile = nc.dim("percentile", percentiles);
  if (d.realization >= 0) {
    v.realization = nc.var("realization", NC_INT, {d.realization});
    nc.text(v.realization, "standard_name", "realization");
    nc.text(v.realization, "long_name", "ensemble member");
    nc.text(v.realization, "units", "1");
    nc.text(v.realization, "axis", "Z");  // cdo reads (time, Z, station) and nothing else
  }
  if (d.percentile >= 0) {
    v.percentile = nc.var("percentile", NC_DOUBLE, {d.percentile});
    nc.text(v.percentile, "long_name", "percentile over ensemble members");
    nc.text(v.percentile, "units", "%");
    nc.text(v.percentile, "axis", "Z");
  }
  return v;
}

int define_data(NcWriter& nc, const SiteProduct& p, const std::string& name, const std::string& long_name,
                const std::vector<int>& dims, const std::vector<std::size_t>& chunks, int deflate) {
  const int id = nc.var(name, NC_FLOAT, dims);
  nc.check(nc_def_var_chunking(nc.id(), id, NC_CHUNKED, chunks.data()), fmt::format("chunking of '{}'", name));
  if (deflate > 0)
    nc.check(nc_def_var_deflate(nc.id(), id, 1, 1, deflate), fmt::format("compression of '{}'", name));
  const float fill = std::numeric_limits<float>::quiet_NaN();
  nc.check(nc_def_var_fill(nc.id(), id, NC_FILL, &fill), fmt::format("_FillValue of '{}'", name));
  if (!p.standard_name.empty()) nc.text(id, "standard_name", p.standard_name);
  nc.text(id, "long_name", long_name);
  if (!p.units.empty()) nc.text(id, "units", p.units);
  // forecast_reference_time / forecast_period are found by their standard names (cdo warns
  // when a coordinates attribute names them).
  nc.text(id, "coordinates", "latitude longitude");
  return id;
}

void write_coordinates(NcWriter& nc, const SiteSeries& s, const Vars& v,
                       const std::vector<double>& percentiles) {
  const int id = nc.id();
  std::vector<int> index(s.sites.size());
  std::vector<double> lat, lon, capacity;
  for (std::size_t i = 0; i < s.sites.size(); ++i) {
    index[i] = int(i);
    lat.push_back(s.sites[i].lat), lon.push_back(s.sites[i].lon), capacity.push_back(s.sites[i].capacity);
  }
  nc.check(nc_put_var_int(id, v.name, index.data()), "station values");
  nc.check(nc_put_var_double(id, v.lat, lat.data()), "latitude values");
  nc.check(nc_put_var_double(id, v.lon, lon.data()), "longitude values");
  nc.check(nc_put_var_double(id, v.capacity, capacity.data()), "capacity values");
  put_time_axes(nc, v.time, s.reference_time, s.valid_times);
  if (v.realization >= 0) {
    std::vector<int> members(s.members);
    for (std::size_t m = 0; m < s.members; ++m) members[m] = int(m);
    nc.check(nc_put_var_int(id, v.realization, members.data()), "realization values");
  }
  if (v.percentile >= 0) nc.check(nc_put_var_double(id, v.percentile, percentiles.data()), "percentile values");
}

void write_netcdf_file(const SiteSeries& s, const std::string& path, const std::string& temp,
                       const SiteWriteOptions& o, bool members, bool percentiles) {
  NcWriter nc(path, temp);
  write_global_attributes(nc, path, o);
  const std::size_t ns = s.sites.size(), nt = s.valid_times.size(), nm = s.members;
  Dims d;
  auto v = define_coordinates(nc, s, d, members && nm > 1 ? nm : 0, percentiles ? o.percentiles.size() : 0);
  for (const auto& p : s.products) {
    const auto long_name = p.long_name.empty() ? p.name : p.long_name;
    // Time first (cdo reads nothing else); one lead time per chunk.
    if (members) {
      const bool ens = d.realization >= 0;
      v.members.push_back(define_data(nc, p, p.name, long_name,
                                      ens ? std::vector{d.time, d.realization, d.station} : std::vector{d.time, d.station},
                                      ens ? std::vector<std::size_t>{1, nm, ns} : std::vector<std::size_t>{1, ns},
                                      o.deflate_level));
    }
    if (percentiles)
      v.percentiles.push_back(define_data(nc, p, p.name + "_percentile", long_name + " (percentiles over members)",
                                          {d.time, d.percentile, d.station}, {1, o.percentiles.size(), ns},
                                          o.deflate_level));
  }
  nc.check(nc_enddef(nc.id()), "leaving define mode");
  write_coordinates(nc, s, v, o.percentiles);
  for (std::size_t k = 0; k < s.products.size(); ++k) {
    const auto& p = s.products[k];
    if (members) {  // [site][member][time] -> [time][member][site]
      std::vector<float> values(p.values.size());
      for (std::size_t site = 0; site < ns; ++site)
        for (std::size_t m = 0; m < nm; ++m)
          for (std::size_t t = 0; t < nt; ++t) values[(t * nm + m) * ns + site] = p.values[(site * nm + m) * nt + t];
      nc.check(nc_put_var_float(nc.id(), v.members[k], values.data()), fmt::format("values of '{}'", p.name));
    }
    if (!percentiles) continue;
    const std::size_t nq = o.percentiles.size();
    std::vector<float> values(nt * nq * ns);
    for (std::size_t site = 0; site < ns; ++site) {
      const auto q = site_percentiles(s, p, site, o.percentiles);  // [percentile][time]
      for (std::size_t i = 0; i < nq; ++i)
        for (std::size_t t = 0; t < nt; ++t) values[(t * nq + i) * ns + site] = q[i * nt + t];
    }
    nc.check(nc_put_var_float(nc.id(), v.percentiles[k], values.data()), fmt::format("values of '{}_percentile'", p.name));
  }
  nc.check(nc_sync(nc.id()), "flushing");
  nc.close();
}

}  // namespace

void write_sites_netcdf(const SiteSeries& series, const std::string& path, const SiteWriteOptions& options) {
  series.check(path);
  check_percentiles(options.percentiles, path);
  if (options.deflate_level < 0 || options.deflate_level > 9)
    throw ConfigError(fmt::format("{}: NetCDF deflate_level {} is outside 0..9", path, options.deflate_level));
  // Percentiles of one member say nothing the member does not.
  const bool percentiles = !options.percentiles.empty() && series.members > 1;
  if (!options.write_members && !percentiles)
    throw ConfigError(fmt::format("{}: nothing to write: members are off and there are no percentiles "
                                  "({} member(s), {} percentiles)",
                                  path, series.members, options.percentiles.size()));
  AtomicOutput out(path);
  {
    std::lock_guard lock(netcdf_write_mutex());
    write_netcdf_file(series, path, out.temp_path(), options, options.write_members, percentiles);
  }
  out.commit();
}

void write_sites_csv(const SiteSeries& series, const std::string& path, const SiteWriteOptions& options) {
  series.check(path);
  check_percentiles(options.percentiles, path);
  std::ostringstream csv;
  csv << "site,variable,valid_time,lead_hours";
  for (double q : options.percentiles) csv << fmt::format(",p{:g}", q);
  csv << '\n';
  const std::size_t nt = series.valid_times.size();
  for (std::size_t site = 0; site < series.sites.size(); ++site)
    for (const auto& p : series.products) {
      const auto q = site_percentiles(series, p, site, options.percentiles);
      for (std::size_t t = 0; t < nt; ++t) {
        csv << csv_field(series.sites[site].name) << ',' << csv_field(p.name) << ','
            << iso8601(series.valid_times[t]) << ',' << fmt::format("{:g}", lead_hours(series, t));
        // Shortest text that reads back as the same float.
        for (std::size_t k = 0; k < options.percentiles.size(); ++k) csv << ',' << fmt::format("{}", q[k * nt + t]);
        csv << '\n';
      }
    }
  // AtomicOutput rather than write_text_atomically: products get their .sha256 too.
  AtomicOutput out(path);
  {
    std::ofstream file(out.temp_path(), std::ios::binary);
    file << csv.str();
    file.flush();
    if (!file) throw InputError(fmt::format("{}: cannot write CSV (temporary {}): {}", path, out.temp_path(),
                                            std::strerror(errno)));
  }
  out.commit();
}

}  // namespace gale
