#include "export/cf_axes.hpp"

#include <fmt/format.h>
#include <netcdf.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#include "core/errors.hpp"

namespace gale {

namespace {

// NetCDF-safe attribute name: [A-Za-z0-9_.@+-], starting with a letter or digit.
std::string safe_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    out += (std::isalnum(u) || c == '_' || c == '.' || c == '@' || c == '+' || c == '-') ? c : '_';
  }
  if (out.empty() || !std::isalnum(static_cast<unsigned char>(out[0]))) out = "attr_" + out;
  return out;
}

bool starts_with_timestamp(const std::string& line) {
  // "YYYY-MM-DD..." is enough to call it an ISO 8601 timestamp.
  if (line.size() < 10) return false;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return false;
  return line[4] == '-' && line[7] == '-';
}

std::string now_iso() {
  return iso8601(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

}  // namespace

bool is_reserved_attribute(const std::string& name) {
  static const std::set<std::string> names = {"Conventions", "title",      "institution", "source",
                                              "history",     "references", "comment"};
  return names.count(name) > 0;
}

std::string cf_time_origin(TimePoint t) {
  auto s = iso8601(t);
  if (!s.empty() && s.back() == 'Z') s.pop_back();
  std::replace(s.begin(), s.end(), 'T', ' ');
  return s;
}

void put_cf_globals(NcWriter& nc, const std::string& path, const CfGlobals& g) {
  nc.text(NC_GLOBAL, "Conventions", "CF-1.10");
  if (!g.title.empty()) nc.text(NC_GLOBAL, "title", g.title);
  if (!g.institution.empty()) nc.text(NC_GLOBAL, "institution", g.institution);
  nc.text(NC_GLOBAL, "source", g.source.empty() ? "Gale " GALE_VERSION : g.source);
  std::string history;
  for (const auto& line : g.history)
    history += (history.empty() ? "" : "\n") + (starts_with_timestamp(line) ? line : now_iso() + " " + line);
  if (!history.empty()) nc.text(NC_GLOBAL, "history", history);
  if (!g.references.empty()) nc.text(NC_GLOBAL, "references", g.references);
  if (!g.comment.empty()) nc.text(NC_GLOBAL, "comment", g.comment);
  for (const auto& [key, value] : g.attributes) {
    const auto name = safe_name(key);
    if (is_reserved_attribute(name))
      throw ConfigError(fmt::format("{}: extra attribute '{}' is reserved (set it through its own option)", path, key));
    nc.text(NC_GLOBAL, name, value);
  }
}

TimeAxes define_time_axes(NcWriter& nc, TimePoint reference, std::size_t times) {
  TimeAxes a;
  const std::string units = "hours since " + cf_time_origin(reference);
  a.dim = nc.dim("time", times);
  a.time = nc.var("time", NC_DOUBLE, {a.dim});
  nc.text(a.time, "standard_name", "time");
  nc.text(a.time, "long_name", "valid time");
  nc.text(a.time, "units", units);
  nc.text(a.time, "calendar", "proleptic_gregorian");
  nc.text(a.time, "axis", "T");
  a.reference = nc.var("forecast_reference_time", NC_DOUBLE, {});
  nc.text(a.reference, "standard_name", "forecast_reference_time");
  nc.text(a.reference, "long_name", "forecast reference time");
  nc.text(a.reference, "units", units);
  nc.text(a.reference, "calendar", "proleptic_gregorian");
  a.period = nc.var("forecast_period", NC_DOUBLE, {a.dim});
  nc.text(a.period, "standard_name", "forecast_period");
  nc.text(a.period, "long_name", "time since forecast_reference_time");
  nc.text(a.period, "units", "hours");
  return a;
}

void put_time_axes(NcWriter& nc, const TimeAxes& a, TimePoint reference, const std::vector<TimePoint>& valid) {
  std::vector<double> hours(valid.size());
  for (std::size_t t = 0; t < valid.size(); ++t) hours[t] = double((valid[t] - reference).count()) / 3600.0;
  nc.check(nc_put_var_double(nc.id(), a.time, hours.data()), "time values");
  nc.check(nc_put_var_double(nc.id(), a.period, hours.data()), "forecast_period values");
  const double zero = 0;
  nc.check(nc_put_var_double(nc.id(), a.reference, &zero), "forecast_reference_time value");
}

int define_time_bounds(NcWriter& nc, const TimeAxes& axes) {
  const int nv = nc.dim("bnds", 2);
  const int bounds = nc.var("time_bnds", NC_DOUBLE, {axes.dim, nv});
  nc.text(axes.time, "bounds", "time_bnds");
  return bounds;
}

void put_time_bounds(NcWriter& nc, int bounds, TimePoint reference,
                     const std::vector<std::pair<TimePoint, TimePoint>>& intervals) {
  std::vector<double> hours;
  for (const auto& [start, end] : intervals) {
    hours.push_back(double((start - reference).count()) / 3600.0);
    hours.push_back(double((end - reference).count()) / 3600.0);
  }
  nc.check(nc_put_var_double(nc.id(), bounds, hours.data()), "time_bnds values");
}

std::vector<int> HorizontalAxes::dims() const {
  return structured ? std::vector<int>{lat_dim, lon_dim} : std::vector<int>{values_dim};
}

std::vector<std::size_t> HorizontalAxes::shape(const Grid& grid) const {
  return structured ? std::vector<std::size_t>{grid.rows(), grid.longitudes().size()}
                    : std::vector<std::size_t>{grid.size()};
}

std::vector<double> HorizontalAxes::file_longitudes(const Grid& grid) const {
  const auto& lons = grid.longitudes();
  if (lon_start == 0) return lons;
  // Exact: x - 360 for x in [180, 360) is representable (Sterbenz), so readers adding 360
  // back get the grid's longitudes bit for bit.
  std::vector<double> out;
  out.reserve(lons.size());
  for (std::size_t c = lon_start; c < lons.size(); ++c) out.push_back(lons[c] - 360.0);
  for (std::size_t c = 0; c < lon_start; ++c) out.push_back(lons[c]);
  return out;
}

const float* HorizontalAxes::file_order(const Grid& grid, const float* field, std::vector<float>& buffer) const {
  if (!structured || lon_start == 0) return field;
  const std::size_t nlon = grid.longitudes().size(), rows = grid.rows(), east = nlon - lon_start;
  buffer.resize(rows * nlon);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* in = field + r * nlon;
    float* out = buffer.data() + r * nlon;
    std::copy(in + lon_start, in + nlon, out);
    std::copy(in, in + lon_start, out + east);
  }
  return buffer.data();
}

std::size_t monotonic_longitude_start(const Grid& grid) {
  if (grid.kind() != GridKind::regular_ll && grid.kind() != GridKind::regular_gaussian) return 0;
  const auto& lons = grid.longitudes();
  const std::size_t n = lons.size();
  if (n < 2) return 0;
  // The widest step between neighbours, the step through 360 included; the axis starts
  // after it. Only a gap clearly wider than the step through 360 moves the start.
  const double through_360 = lons.front() + 360.0 - lons.back();
  std::size_t widest = 0;
  for (std::size_t c = 1; c + 1 < n; ++c)
    if (lons[c + 1] - lons[c] > lons[widest + 1] - lons[widest]) widest = c;
  const double gap = lons[widest + 1] - lons[widest];
  // Columns before the start become negative: only those at 180 E or beyond, so the axis
  // stays within -180..360.
  if (!(gap > through_360 + 1e-6) || lons[widest + 1] < 180.0) return 0;
  return widest + 1;
}

HorizontalAxes define_horizontal_axes(NcWriter& nc, const Grid& grid) {
  HorizontalAxes a;
  a.structured = grid.kind() == GridKind::regular_ll || grid.kind() == GridKind::regular_gaussian;
  if (a.structured) a.lon_start = monotonic_longitude_start(grid);
  if (a.structured) {
    a.lat_dim = nc.dim("latitude", grid.rows());
    a.lon_dim = nc.dim("longitude", grid.longitudes().size());
  } else {
    a.values_dim = nc.dim("values", grid.size());
  }
  a.lat = nc.var("latitude", NC_DOUBLE, {a.structured ? a.lat_dim : a.values_dim});
  nc.text(a.lat, "standard_name", "latitude");
  nc.text(a.lat, "long_name", "latitude");
  nc.text(a.lat, "units", "degrees_north");
  a.lon = nc.var("longitude", NC_DOUBLE, {a.structured ? a.lon_dim : a.values_dim});
  nc.text(a.lon, "standard_name", "longitude");
  nc.text(a.lon, "long_name", "longitude");
  nc.text(a.lon, "units", "degrees_east");
  if (a.structured) {
    nc.text(a.lat, "axis", "Y");
    nc.text(a.lon, "axis", "X");
  }
  return a;
}

void put_horizontal_axes(NcWriter& nc, const HorizontalAxes& a, const Grid& grid) {
  nc.check(nc_put_var_double(nc.id(), a.lat, a.structured ? grid.row_latitudes().data() : grid.lat().data()),
           "latitude values");
  if (a.structured) {
    const auto lons = a.file_longitudes(grid);
    nc.check(nc_put_var_double(nc.id(), a.lon, lons.data()), "longitude values");
  } else {
    nc.check(nc_put_var_double(nc.id(), a.lon, grid.lon().data()), "longitude values");
  }
}

int define_scalar_pressure(NcWriter& nc, const std::string& name) {
  const int v = nc.var(name, NC_FLOAT, {});
  nc.text(v, "standard_name", "air_pressure");
  nc.text(v, "long_name", "pressure");
  nc.text(v, "units", "hPa");
  nc.text(v, "positive", "down");
  return v;
}

}  // namespace gale
