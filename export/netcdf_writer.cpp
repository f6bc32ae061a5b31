#include "export/netcdf_writer.hpp"
#include "export/nc_writer.hpp"
#include "export/writable_variable.hpp"

#include <fmt/format.h>
#include <netcdf.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>
#include <mutex>
#include <set>

#include "core/errors.hpp"
#include "core/lexicon.hpp"
#include "export/atomic_file.hpp"

namespace gale {

namespace {

// netCDF-C (and HDF5 beneath it) is not thread-safe. This serialises the writers; the
// readers in ingest hold their own lock (one process-wide lock would be better).
std::mutex& netcdf_write_mutex() {
  static std::mutex m;
  return m;
}

const std::set<std::string>& reserved_attributes() {
  static const std::set<std::string> names = {"Conventions", "title",      "institution", "source",
                                              "history",     "references", "comment"};
  return names;
}

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

// "2017-01-01T00:00:00Z" -> "2017-01-01 00:00:00" (UDUNITS/cftime-friendly; UTC).
std::string cf_time_origin(TimePoint t) {
  auto s = iso8601(t);
  if (!s.empty() && s.back() == 'Z') s.pop_back();
  std::replace(s.begin(), s.end(), 'T', ' ');
  return s;
}

double hours_between(TimePoint from, TimePoint to) {
  return double((to - from).count()) / 3600.0;
}

// One data variable of the file: a lexicon name with its levels (or a single level).
struct Group {
  const LexiconEntry* entry = nullptr;
  std::string nc_name;
  bool upper_air = false;
  std::vector<double> levels;            // hPa, descending (upper-air only)
  std::vector<std::size_t> state_index;  // per level (one entry for single-level)
  int level_set = -1;                    // index into the level coordinate sets
  int varid = -1;
};

struct LevelSet {
  std::vector<double> levels;
  std::string name;
  int dimid = -1, varid = -1;
};


std::vector<Group> plan_groups(const State& state, const std::string& path,
                               std::vector<LevelSet>& level_sets) {
  std::vector<Group> groups;
  for (std::size_t i = 0; i < state.variables().size(); ++i) {
    const auto& v = state.variables()[i];
    const auto& entry = writable_entry(v, path, "NetCDF");
    const bool isobaric = v.level_kind == LevelKind::isobaric;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return g.entry == &entry; });
    if (it == groups.end()) {
      Group g;
      g.entry = &entry;
      g.nc_name = entry.netcdf_names.empty() ? entry.name : entry.netcdf_names.front();
      g.upper_air = isobaric;
      groups.push_back(g);
      it = groups.end() - 1;
    }
    it->levels.push_back(v.level);
    it->state_index.push_back(i);
  }
  for (auto& g : groups) {
    if (!g.upper_air) continue;
    // Levels descending in hPa (surface upwards), as ERA5 files have them.
    std::vector<std::size_t> order(g.levels.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return g.levels[a] > g.levels[b]; });
    std::vector<double> levels;
    std::vector<std::size_t> index;
    for (auto k : order) {
      levels.push_back(g.levels[k]);
      index.push_back(g.state_index[k]);
    }
    g.levels = levels;
    g.state_index = index;
    auto set = std::find_if(level_sets.begin(), level_sets.end(),
                            [&](const LevelSet& s) { return s.levels == g.levels; });
    if (set == level_sets.end()) {
      LevelSet s;
      s.levels = g.levels;
      s.name = level_sets.empty() ? "pressure_level"
                                  : fmt::format("pressure_level_{}", level_sets.size() + 1);
      level_sets.push_back(s);
      set = level_sets.end() - 1;
    }
    g.level_set = int(set - level_sets.begin());
  }
  return groups;
}

void write_file(const State& state, const std::string& path, const std::string& temp,
                const NetcdfWriteOptions& options) {
  std::vector<LevelSet> level_sets;
  auto groups = plan_groups(state, path, level_sets);
  const Grid& grid = *state.grid();
  const bool structured = grid.kind() == GridKind::regular_ll || grid.kind() == GridKind::regular_gaussian;
  const bool ensemble = state.members() > 1;
  const std::size_t nt = state.times();

  NcWriter nc(path, temp);
  const int id = nc.id();

  // Global attributes.
  nc.text(NC_GLOBAL, "Conventions", "CF-1.10");
  if (!options.title.empty()) nc.text(NC_GLOBAL, "title", options.title);
  if (!options.institution.empty()) nc.text(NC_GLOBAL, "institution", options.institution);
  nc.text(NC_GLOBAL, "source", options.source.empty() ? "Gale " GALE_VERSION : options.source);
  std::string history;
  for (const auto& line : options.history)
    history += (history.empty() ? "" : "\n") +
               (starts_with_timestamp(line) ? line : now_iso() + " " + line);
  if (history.empty())
    history = now_iso() + " Gale " GALE_VERSION ": written by export/netcdf_writer";
  nc.text(NC_GLOBAL, "history", history);
  if (!options.references.empty()) nc.text(NC_GLOBAL, "references", options.references);
  if (!options.comment.empty()) nc.text(NC_GLOBAL, "comment", options.comment);
  for (const auto& [key, value] : state.metadata()) {
    auto name = safe_name(key);
    if (reserved_attributes().count(name)) name = "gale_" + name;
    nc.text(NC_GLOBAL, name, value);
  }
  for (const auto& [key, value] : options.attributes) {
    const auto name = safe_name(key);
    if (reserved_attributes().count(name))
      throw ConfigError(fmt::format(
          "{}: extra attribute '{}' is reserved (set it through its own option)", path, key));
    nc.text(NC_GLOBAL, name, value);
  }

  // Dimensions.
  const int real_dim = ensemble ? nc.dim("realization", state.members()) : -1;
  const int time_dim = nc.dim("time", nt);
  for (auto& s : level_sets) s.dimid = nc.dim(s.name, s.levels.size());
  int lat_dim = -1, lon_dim = -1, values_dim = -1;
  if (structured) {
    lat_dim = nc.dim("latitude", grid.rows());
    lon_dim = nc.dim("longitude", grid.longitudes().size());
  } else {
    values_dim = nc.dim("values", grid.size());
  }

  // Coordinate variables.
  const std::string time_units = "hours since " + cf_time_origin(state.reference_time());
  int real_var = -1;
  if (ensemble) {
    real_var = nc.var("realization", NC_INT, {real_dim});
    nc.text(real_var, "standard_name", "realization");
    nc.text(real_var, "long_name", "ensemble member");
    nc.text(real_var, "units", "1");
  }
  const int time_var = nc.var("time", NC_DOUBLE, {time_dim});
  nc.text(time_var, "standard_name", "time");
  nc.text(time_var, "long_name", "valid time");
  nc.text(time_var, "units", time_units);
  nc.text(time_var, "calendar", "proleptic_gregorian");
  nc.text(time_var, "axis", "T");
  const int frt_var = nc.var("forecast_reference_time", NC_DOUBLE, {});
  nc.text(frt_var, "standard_name", "forecast_reference_time");
  nc.text(frt_var, "long_name", "forecast reference time");
  nc.text(frt_var, "units", time_units);
  nc.text(frt_var, "calendar", "proleptic_gregorian");
  const int fp_var = nc.var("forecast_period", NC_DOUBLE, {time_dim});
  nc.text(fp_var, "standard_name", "forecast_period");
  nc.text(fp_var, "long_name", "time since forecast_reference_time");
  nc.text(fp_var, "units", "hours");
  for (auto& s : level_sets) {
    s.varid = nc.var(s.name, NC_FLOAT, {s.dimid});
    nc.text(s.varid, "standard_name", "air_pressure");
    nc.text(s.varid, "long_name", "pressure");
    nc.text(s.varid, "units", "hPa");
    nc.text(s.varid, "positive", "down");
    nc.text(s.varid, "axis", "Z");
  }
  const int lat_var = nc.var("latitude", NC_DOUBLE, {structured ? lat_dim : values_dim});
  nc.text(lat_var, "standard_name", "latitude");
  nc.text(lat_var, "long_name", "latitude");
  nc.text(lat_var, "units", "degrees_north");
  const int lon_var = nc.var("longitude", NC_DOUBLE, {structured ? lon_dim : values_dim});
  nc.text(lon_var, "standard_name", "longitude");
  nc.text(lon_var, "long_name", "longitude");
  nc.text(lon_var, "units", "degrees_east");
  if (structured) {
    nc.text(lat_var, "axis", "Y");
    nc.text(lon_var, "axis", "X");
  }

  // Data variables: one field (member, time, level) per chunk.
  const float fill = std::numeric_limits<float>::quiet_NaN();
  const std::string coordinates = structured
                                      ? "forecast_reference_time forecast_period"
                                      : "latitude longitude forecast_reference_time forecast_period";
  for (auto& g : groups) {
    std::vector<int> dims;
    std::vector<std::size_t> chunks;
    if (ensemble) dims.push_back(real_dim), chunks.push_back(1);
    dims.push_back(time_dim), chunks.push_back(1);
    if (g.upper_air) dims.push_back(level_sets[std::size_t(g.level_set)].dimid), chunks.push_back(1);
    if (structured) {
      dims.insert(dims.end(), {lat_dim, lon_dim});
      chunks.insert(chunks.end(), {grid.rows(), grid.longitudes().size()});
    } else {
      dims.push_back(values_dim);
      chunks.push_back(grid.size());
    }
    g.varid = nc.var(g.nc_name, NC_FLOAT, dims);
    nc.check(nc_def_var_chunking(id, g.varid, NC_CHUNKED, chunks.data()),
             fmt::format("chunking of '{}'", g.nc_name));
    if (options.deflate_level > 0)
      nc.check(nc_def_var_deflate(id, g.varid, 1, 1, options.deflate_level),
               fmt::format("compression of '{}'", g.nc_name));
    nc.check(nc_def_var_fill(id, g.varid, NC_FILL, &fill), fmt::format("_FillValue of '{}'", g.nc_name));
    nc.text(g.varid, "standard_name", g.entry->standard_name);
    nc.text(g.varid, "long_name", g.entry->long_name);
    nc.text(g.varid, "units", g.entry->units);
    nc.text(g.varid, "coordinates", coordinates);
  }
  nc.check(nc_enddef(id), "leaving define mode");

  // Coordinate values.
  if (ensemble) {
    std::vector<int> members(state.members());
    for (std::size_t m = 0; m < members.size(); ++m) members[m] = int(m);
    nc.check(nc_put_var_int(id, real_var, members.data()), "realization values");
  }
  std::vector<double> hours(nt);
  for (std::size_t t = 0; t < nt; ++t) hours[t] = hours_between(state.reference_time(), state.valid_times()[t]);
  nc.check(nc_put_var_double(id, time_var, hours.data()), "time values");
  nc.check(nc_put_var_double(id, fp_var, hours.data()), "forecast_period values");
  const double zero = 0;
  nc.check(nc_put_var_double(id, frt_var, &zero), "forecast_reference_time value");
  for (const auto& s : level_sets) {
    std::vector<float> levels(s.levels.begin(), s.levels.end());
    nc.check(nc_put_var_float(id, s.varid, levels.data()), fmt::format("'{}' values", s.name));
  }
  if (structured) {
    nc.check(nc_put_var_double(id, lat_var, grid.row_latitudes().data()), "latitude values");
    nc.check(nc_put_var_double(id, lon_var, grid.longitudes().data()), "longitude values");
  } else {
    nc.check(nc_put_var_double(id, lat_var, grid.lat().data()), "latitude values");
    nc.check(nc_put_var_double(id, lon_var, grid.lon().data()), "longitude values");
  }

  // Field values, straight from the State (rows north -> south as the latitude axis).
  for (const auto& g : groups) {
    for (std::size_t m = 0; m < state.members(); ++m)
      for (std::size_t t = 0; t < nt; ++t)
        for (std::size_t k = 0; k < g.state_index.size(); ++k) {
          std::vector<std::size_t> start, count;
          if (ensemble) start.push_back(m), count.push_back(1);
          start.push_back(t), count.push_back(1);
          if (g.upper_air) start.push_back(k), count.push_back(1);
          if (structured) {
            start.insert(start.end(), {0, 0});
            count.insert(count.end(), {grid.rows(), grid.longitudes().size()});
          } else {
            start.push_back(0);
            count.push_back(grid.size());
          }
          nc.check(nc_put_vara_float(id, g.varid, start.data(), count.data(),
                                     state.field(m, t, g.state_index[k])),
                   fmt::format("values of '{}'", g.nc_name));
        }
  }
  nc.check(nc_sync(id), "flushing");
  nc.close();
}

}  // namespace

void write_state_netcdf(const State& state, const std::string& path,
                        const NetcdfWriteOptions& options) {
  state.check();
  if (options.deflate_level < 0 || options.deflate_level > 9)
    throw ConfigError(fmt::format("{}: NetCDF deflate_level {} is outside 0..9", path,
                                  options.deflate_level));
  if (state.times() == 0) throw InternalError(fmt::format("{}: the State has no times", path));
  AtomicOutput out(path);
  {
    std::lock_guard lock(netcdf_write_mutex());
    write_file(state, path, out.temp_path(), options);
  }
  out.commit();
}

}  // namespace gale
