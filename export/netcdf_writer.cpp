#include "export/netcdf_writer.hpp"
#include "export/nc_writer.hpp"
#include "export/writable_variable.hpp"

#include <fmt/format.h>
#include <netcdf.h>

#include <algorithm>
#include <limits>
#include <mutex>

#include "core/errors.hpp"
#include "core/lexicon.hpp"
#include "export/atomic_file.hpp"
#include "export/cf_axes.hpp"

namespace gale {

namespace {


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
  const bool ensemble = state.members() > 1;
  const std::size_t nt = state.times();

  NcWriter nc(path, temp);
  const int id = nc.id();

  // Global attributes: the State's metadata (names clashing with CF's get a gale_ prefix),
  // then the options' attributes, which win on equal names.
  CfGlobals globals{options.title, options.institution, options.source, options.comment, options.references,
                    options.history, {}};
  if (globals.history.empty()) globals.history.push_back("Gale " GALE_VERSION ": written by export/netcdf_writer");
  for (const auto& [key, value] : state.metadata())
    globals.attributes[is_reserved_attribute(key) ? "gale_" + key : key] = value;
  for (const auto& [key, value] : options.attributes) globals.attributes[key] = value;
  put_cf_globals(nc, path, globals);

  // Dimensions and coordinates: realization, time, pressure levels, latitude x longitude.
  int real_dim = -1, real_var = -1;
  if (ensemble) {
    real_dim = nc.dim("realization", state.members());
    real_var = nc.var("realization", NC_INT, {real_dim});
    nc.text(real_var, "standard_name", "realization");
    nc.text(real_var, "long_name", "ensemble member");
    nc.text(real_var, "units", "1");
  }
  const TimeAxes time_axes = define_time_axes(nc, state.reference_time(), nt);
  const int time_dim = time_axes.dim;
  for (auto& s : level_sets) {
    s.dimid = nc.dim(s.name, s.levels.size());
    s.varid = nc.var(s.name, NC_FLOAT, {s.dimid});
    nc.text(s.varid, "standard_name", "air_pressure");
    nc.text(s.varid, "long_name", "pressure");
    nc.text(s.varid, "units", "hPa");
    nc.text(s.varid, "positive", "down");
    nc.text(s.varid, "axis", "Z");
  }
  // Longitudes monotonic and evenly spaced also for a regional grid crossing 0 E.
  const HorizontalAxes horizontal = define_horizontal_axes(nc, grid);

  // Data variables: one field (member, time, level) per chunk.
  const float fill = std::numeric_limits<float>::quiet_NaN();
  // forecast_reference_time and forecast_period are found by their standard names (and
  // Gale's reader takes the scalar reference time without them): named here, cdo warns
  // that it cannot assign them, as for the ensemble products.
  const std::string coordinates = horizontal.auxiliary();
  for (auto& g : groups) {
    std::vector<int> dims;
    std::vector<std::size_t> chunks;
    if (ensemble) dims.push_back(real_dim), chunks.push_back(1);
    dims.push_back(time_dim), chunks.push_back(1);
    if (g.upper_air) dims.push_back(level_sets[std::size_t(g.level_set)].dimid), chunks.push_back(1);
    for (const int d : horizontal.dims()) dims.push_back(d);
    for (const auto n : horizontal.shape(grid)) chunks.push_back(n);
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
    if (!coordinates.empty()) nc.text(g.varid, "coordinates", coordinates);
  }
  nc.check(nc_enddef(id), "leaving define mode");

  // Coordinate values.
  if (ensemble) {
    std::vector<int> members(state.members());
    for (std::size_t m = 0; m < members.size(); ++m) members[m] = int(m);
    nc.check(nc_put_var_int(id, real_var, members.data()), "realization values");
  }
  put_time_axes(nc, time_axes, state.reference_time(), state.valid_times());
  for (const auto& s : level_sets) {
    std::vector<float> levels(s.levels.begin(), s.levels.end());
    nc.check(nc_put_var_float(id, s.varid, levels.data()), fmt::format("'{}' values", s.name));
  }
  put_horizontal_axes(nc, horizontal, grid);

  // Field values from the State (rows north -> south as the latitude axis, columns in the
  // longitude axis' order).
  std::vector<float> buffer;
  for (const auto& g : groups) {
    for (std::size_t m = 0; m < state.members(); ++m)
      for (std::size_t t = 0; t < nt; ++t)
        for (std::size_t k = 0; k < g.state_index.size(); ++k) {
          std::vector<std::size_t> start, count;
          if (ensemble) start.push_back(m), count.push_back(1);
          start.push_back(t), count.push_back(1);
          if (g.upper_air) start.push_back(k), count.push_back(1);
          for (const auto n : horizontal.shape(grid)) start.push_back(0), count.push_back(n);
          nc.check(nc_put_vara_float(id, g.varid, start.data(), count.data(),
                                     horizontal.file_order(grid, state.field(m, t, g.state_index[k]), buffer)),
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
