#include "ops/products_hazards.hpp"

#include <fmt/format.h>
#include <netcdf.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "export/atomic_file.hpp"
#include "export/nc_writer.hpp"
#include "products/ensemble_products.hpp"
#include "products/maps.hpp"

namespace gale {

namespace {

namespace fs = std::filesystem;

bool has_key(const std::vector<Variable>& variables, const std::string& key) {
  return std::any_of(variables.begin(), variables.end(), [&](const Variable& v) { return v.key() == key; });
}

double lead_hours(TimePoint reference, TimePoint valid) {
  return std::chrono::duration<double, std::ratio<3600>>(valid - reference).count();
}

EfiPlan parse_efi(const ConfigNode& node, const Config& config, const std::vector<Variable>& variables) {
  node.allow_only({"climate", "variables", "maps"});
  EfiPlan plan;
  if (node.get_string("climate", "").empty()) node.at("climate").fail("a model climate file is required (gale climate)");
  plan.climate_path = config.resolve_path(node.get_string("climate"));
  plan.maps = node.get_bool("maps", false);
  if (node.has("variables")) {
    for (const auto& item : node.at("variables").items()) {
      const auto key = item.as_string();
      if (!has_key(variables, key)) item.fail(fmt::format("'{}' is not one of products.members.variables", key));
      if (std::find(plan.variables.begin(), plan.variables.end(), key) != plan.variables.end())
        item.fail(fmt::format("'{}' is listed twice", key));
      plan.variables.push_back(key);
    }
    if (plan.variables.empty()) node.at("variables").fail("at least one variable is required");
  } else {
    for (const auto& v : variables) plan.variables.push_back(v.key());
  }
  auto climate = std::make_shared<ModelClimate>(read_model_climate(plan.climate_path));
  for (const auto& key : plan.variables) {
    try {
      climate->quantiles(key);
    } catch (const DataError& e) {
      throw DataError(fmt::format("products.hazards.efi: variable {}: {}", key, e.what()));
    }
  }
  if (climate->percentiles.front() != 0 || climate->percentiles.back() != 100)
    spdlog::warn("hazards: the model climate {} lacks the 0th or 100th percentile: the EFI will not reach -1 / +1",
                 plan.climate_path);
  plan.climate_sha256 = sha256_file(plan.climate_path);
  plan.climate = std::move(climate);
  return plan;
}

CyclonePlan parse_cyclones(const ConfigNode& node, const std::vector<Variable>& variables) {
  node.allow_only({"field", "start", "start_radius_km", "box", "radius_km", "window_hours", "max_displacement_km",
                   "min_depth", "closed_radius_km", "vorticity", "maps"});
  CyclonePlan plan;
  auto& t = plan.tracker;
  t.field = node.get_string("field", "msl");
  if (!has_key(variables, t.field))
    (node.has("field") ? node.at("field") : node).fail(fmt::format("'{}' is not one of products.members.variables", t.field));
  if (node.has("start")) {
    const auto s = node.at("start");
    s.allow_only({"lat", "lon"});
    t.start = std::pair{s.get_double("lat", 0, -90, 90), s.get_double("lon", 0, -360, 360)};
    if (!s.has("lat") || !s.has("lon")) s.fail("lat and lon are required");
  }
  t.start_radius_km = node.get_double("start_radius_km", t.start_radius_km, 1, 5000);
  if (node.has("box")) {
    const auto b = node.at("box");
    b.allow_only({"lat_min", "lat_max", "lon_min", "lon_max"});
    t.box_lat_min = b.get_double("lat_min", t.box_lat_min, -90, 90);
    t.box_lat_max = b.get_double("lat_max", t.box_lat_max, -90, 90);
    t.box_lon_min = b.get_double("lon_min", t.box_lon_min, -360, 360);
    t.box_lon_max = b.get_double("lon_max", t.box_lon_max, -360, 360);
    if (t.box_lat_min >= t.box_lat_max) b.fail("lat_min must be below lat_max");
  }
  plan.radius_km = node.get_double("radius_km", plan.radius_km, 1, 5000);
  plan.window_hours = node.get_double("window_hours", plan.window_hours, 1, 24 * 60);
  t.max_displacement_km = node.get_double("max_displacement_km", t.max_displacement_km, 1, 5000);
  t.min_depth = node.get_double("min_depth", t.min_depth, 0, 1e6);
  t.closed_radius_km = node.get_double("closed_radius_km", t.closed_radius_km, 1, 5000);
  if (node.has("vorticity")) {
    const auto v = node.at("vorticity");
    v.allow_only({"u", "v", "min", "radius_km"});
    t.vorticity_u = v.get_string("u");
    t.vorticity_v = v.get_string("v");
    for (const auto* key : {"u", "v"})
      if (!has_key(variables, v.get_string(key)))
        v.at(key).fail(fmt::format("'{}' is not one of products.members.variables", v.get_string(key)));
    t.min_vorticity = v.get_double("min", t.min_vorticity, 0, 1);
    t.vorticity_radius_km = v.get_double("radius_km", t.vorticity_radius_km, 1, 5000);
  }
  plan.maps = node.get_bool("maps", false);
  return plan;
}

// A float data variable on the horizontal axes, after `leading` dimensions.
int define_field(NcWriter& nc, const HorizontalAxes& h, const Grid& grid, const std::string& name, std::vector<int> dims) {
  const std::size_t leading = dims.size();
  for (const int d : h.dims()) dims.push_back(d);
  std::vector<std::size_t> chunks(leading, 1);
  for (const auto n : h.shape(grid)) chunks.push_back(n);
  const int var = nc.var(name, NC_FLOAT, dims);
  nc.check(nc_def_var_chunking(nc.id(), var, NC_CHUNKED, chunks.data()), "chunking of " + name);
  nc.check(nc_def_var_deflate(nc.id(), var, 1, 1, 1), "compression of " + name);
  const float fill = std::numeric_limits<float>::quiet_NaN();
  nc.check(nc_def_var_fill(nc.id(), var, NC_FILL, &fill), "_FillValue of " + name);
  return var;
}

void put_field(NcWriter& nc, const HorizontalAxes& h, const Grid& grid, int var, std::vector<std::size_t> start,
               const float* data, const std::string& what) {
  std::vector<std::size_t> count(start.size(), 1);
  for (const auto n : h.shape(grid)) start.push_back(0), count.push_back(n);
  std::vector<float> buffer;
  nc.check(nc_put_vara_float(nc.id(), var, start.data(), count.data(), h.file_order(grid, data, buffer)), what);
}

void put_double(NcWriter& nc, int var, const std::string& name, double value) {
  nc.check(nc_put_att_double(nc.id(), var, name.c_str(), NC_DOUBLE, 1, &value), "attribute " + name);
}

// efi[t] holds grid->size() values per valid time.
std::string write_efi_netcdf(const State& members, const Variable& variable, const std::vector<std::vector<float>>& efi,
                             const EfiPlan& plan, const std::string& dir, CfGlobals globals) {
  const auto d = product_variable(variable);
  const auto& grid = *members.grid();
  const std::string key = variable.key(), name = "efi_" + key;
  const std::string where = d.pressure_hpa ? fmt::format(" at {:g} hPa", *d.pressure_hpa) : "";
  const auto climate_file = fs::path(plan.climate_path).filename().string();
  const auto path = (fs::path(dir) / (name + ".nc")).string();
  globals.attributes["gale_variable"] = key;
  globals.attributes["gale_model_climate"] = fmt::format("{} sha256:{}", climate_file, plan.climate_sha256);
  globals.attributes["ensemble_members"] = std::to_string(members.members());
  AtomicOutput out(path);
  {
    std::lock_guard lock(netcdf_write_mutex());
    NcWriter nc(path, out.temp_path());
    put_cf_globals(nc, path, globals);
    const auto time = define_time_axes(nc, members.reference_time(), members.times());
    const int pressure = d.pressure_hpa ? define_scalar_pressure(nc, "pressure_level") : -1;
    const auto horizontal = define_horizontal_axes(nc, grid);
    const int var = define_field(nc, horizontal, grid, name, {time.dim});
    nc.text(var, "long_name", "Extreme Forecast Index of " + d.long_name + where);
    nc.text(var, "units", "1");
    const float lo = -1, hi = 1;
    nc.check(nc_put_att_float(nc.id(), var, "valid_min", NC_FLOAT, 1, &lo), "valid_min");
    nc.check(nc_put_att_float(nc.id(), var, "valid_max", NC_FLOAT, 1, &hi), "valid_max");
    std::string coordinates = horizontal.auxiliary();
    if (pressure >= 0) coordinates += std::string(coordinates.empty() ? "" : " ") + "pressure_level";
    if (!coordinates.empty()) nc.text(var, "coordinates", coordinates);
    const auto& c = *plan.climate;
    nc.text(var, "comment",
            fmt::format("EFI = (2/pi) integral_0^1 (p - F_f(p)) / sqrt(p (1 - p)) dp over the {} members against the "
                        "model climate {} (sha256:{}; {} samples per point, valid {} to {}); above 0.5 unusual, above "
                        "0.8 extreme",
                        members.members(), climate_file, plan.climate_sha256, c.sample_count,
                        iso8601(c.first_valid_time), iso8601(c.last_valid_time)));
    nc.check(nc_enddef(nc.id()), "leaving define mode");
    put_time_axes(nc, time, members.reference_time(), members.valid_times());
    if (pressure >= 0) {
      const float level = float(*d.pressure_hpa);
      nc.check(nc_put_var_float(nc.id(), pressure, &level), "pressure_level value");
    }
    put_horizontal_axes(nc, horizontal, grid);
    for (std::size_t t = 0; t < efi.size(); ++t) put_field(nc, horizontal, grid, var, {t}, efi[t].data(), name);
    nc.check(nc_sync(nc.id()), "flushing");
    nc.close();
  }
  out.commit();
  return path;
}

std::string write_strike_netcdf(const State& members, const std::vector<float>& probability, const CyclonePlan& plan,
                                const std::string& dir, CfGlobals globals) {
  const auto& grid = *members.grid();
  const std::string name = "probability_of_tropical_cyclone_strike";
  const auto path = (fs::path(dir) / "strike_probability.nc").string();
  const auto begin = members.reference_time();
  const auto end = begin + std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::ratio<3600>>(plan.window_hours));
  globals.attributes["ensemble_members"] = std::to_string(members.members());
  globals.attributes["forecast_reference_time"] = iso8601(begin);
  AtomicOutput out(path);
  {
    std::lock_guard lock(netcdf_write_mutex());
    NcWriter nc(path, out.temp_path());
    put_cf_globals(nc, path, globals);
    const auto horizontal = define_horizontal_axes(nc, grid);
    const int var = define_field(nc, horizontal, grid, name, {});
    nc.text(var, "long_name",
            fmt::format("probability that a tropical cyclone centre passes within {:g} km in the {:g} h from {}",
                        plan.radius_km, plan.window_hours, iso8601(begin)));
    nc.text(var, "units", "1");
    const float lo = 0, hi = 1;
    nc.check(nc_put_att_float(nc.id(), var, "valid_min", NC_FLOAT, 1, &lo), "valid_min");
    nc.check(nc_put_att_float(nc.id(), var, "valid_max", NC_FLOAT, 1, &hi), "valid_max");
    put_double(nc, var, "radius_km", plan.radius_km);
    put_double(nc, var, "window_hours", plan.window_hours);
    nc.text(var, "window_start", iso8601(begin));
    nc.text(var, "window_end", iso8601(end));
    nc.text(var, "tracked_field", plan.tracker.field);
    if (!horizontal.auxiliary().empty()) nc.text(var, "coordinates", horizontal.auxiliary());
    nc.text(var, "comment",
            fmt::format("fraction of the {} members whose {} minimum track (tracks.csv) passes within {:g} km of the "
                        "point; a member without a cyclone does not strike",
                        members.members(), plan.tracker.field, plan.radius_km));
    nc.check(nc_enddef(nc.id()), "leaving define mode");
    put_horizontal_axes(nc, horizontal, grid);
    put_field(nc, horizontal, grid, var, {}, probability.data(), name);
    nc.check(nc_sync(nc.id()), "flushing");
    nc.close();
  }
  out.commit();
  return path;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string write_tracks_csv(const State& members, const std::vector<Track>& tracks, const std::string& dir) {
  const auto path = (fs::path(dir) / "tracks.csv").string();
  std::string text = "member,time,lead_hours,lat,lon,value,end_reason\n";
  for (const auto& track : tracks) {
    if (track.points.empty()) text += fmt::format("{},,,,,,{}\n", track.member, csv_field(track.end_reason));
    for (std::size_t i = 0; i < track.points.size(); ++i) {
      const auto& p = track.points[i];
      text += fmt::format("{},{},{:g},{:.4f},{:.4f},{:.2f},{}\n", track.member, iso8601(p.time),
                          lead_hours(members.reference_time(), p.time), p.lat, p.lon, p.value,
                          i + 1 == track.points.size() ? csv_field(track.end_reason) : "");
    }
  }
  AtomicOutput out(path);
  {
    std::ofstream f(out.temp_path(), std::ios::binary);
    f << text;
    f.close();
    if (!f) throw InputError(fmt::format("{}: cannot write (temporary {})", path, out.temp_path()));
  }
  out.commit();
  return path;
}

}  // namespace

HazardsPlan parse_hazards_plan(const ConfigNode& section, const Config& config, const std::vector<Variable>& variables) {
  section.allow_only({"efi", "cyclones"});
  HazardsPlan plan;
  if (section.has("cyclones")) plan.cyclones = parse_cyclones(section.at("cyclones"), variables);
  if (section.has("efi")) plan.efi = parse_efi(section.at("efi"), config, variables);
  return plan;
}

std::vector<std::string> write_hazard_products(const State& members, const HazardsPlan& plan, const std::string& dir,
                                               const CfGlobals& globals) {
  const auto& grid = *members.grid();
  const auto reference = members.reference_time();
  const std::string run = fmt::format("reference {}, {} members", iso8601(reference), members.members());
  // Everything that can fail on the data happens first: no product is written then.
  std::vector<std::vector<std::vector<float>>> efi;  // [variable][time][point]
  if (plan.efi) {
    for (const auto& key : plan.efi->variables) {
      try {
        plan.efi->climate->expect_grid(grid, "the forecast (products.members)");
        members.index_of(key);
        std::vector<std::vector<float>> fields;
        for (std::size_t t = 0; t < members.times(); ++t)
          fields.push_back(extreme_forecast_index(members, t, key, *plan.efi->climate));
        efi.push_back(std::move(fields));
      } catch (const DataError& e) {
        throw DataError(fmt::format("products.hazards.efi: variable {}: {}", key, e.what()));
      }
    }
  }
  std::vector<Track> tracks;
  std::vector<float> strike;
  if (plan.cyclones) {
    tracks = track_vortices(members, plan.cyclones->tracker);
    StrikeOptions options;
    options.radius_km = plan.cyclones->radius_km;
    options.begin = reference;
    options.end = reference + std::chrono::duration_cast<Duration>(
                                  std::chrono::duration<double, std::ratio<3600>>(plan.cyclones->window_hours));
    strike = strike_probability(tracks, grid, options);
  }

  fs::create_directories(dir);
  std::vector<std::string> files;
  if (plan.efi) {
    for (std::size_t k = 0; k < plan.efi->variables.size(); ++k) {
      const auto& key = plan.efi->variables[k];
      const auto& variable = members.variables()[members.index_of(key)];
      files.push_back(write_efi_netcdf(members, variable, efi[k], *plan.efi, dir, globals));
      if (!plan.efi->maps) continue;
      const auto d = product_variable(variable);
      const std::string where = d.pressure_hpa ? fmt::format(" at {:g} hPa", *d.pressure_hpa) : "";
      for (std::size_t t = 0; t < members.times(); ++t) {
        const double lead = lead_hours(reference, members.valid_times()[t]);
        MapStyle style;
        style.title = "Extreme Forecast Index: " + d.long_name + where;
        style.subtitle = fmt::format("{}, +{:g} h (valid {}); climate {}", run, lead, iso8601(members.valid_times()[t]),
                                     fs::path(plan.efi->climate_path).filename().string());
        style.units = "1";
        style.scale = ColourScale::diverging;
        style.min = -1, style.max = 1;
        const auto png = (fs::path(dir) / fmt::format("efi_{}_{:g}h.png", key, lead)).string();
        plot_map(grid, efi[k][t].data(), style, png);
        files.push_back(png);
      }
    }
  }
  if (plan.cyclones) {
    const auto& c = *plan.cyclones;
    files.push_back(write_tracks_csv(members, tracks, dir));
    files.push_back(write_strike_netcdf(members, strike, c, dir, globals));
    if (c.maps) {
      MapStyle style;
      style.title = fmt::format("Tropical-cyclone strike probability (within {:g} km, next {:g} h)", c.radius_km,
                                c.window_hours);
      style.subtitle = run + ", tracked field " + c.tracker.field;
      style.units = "1";
      style.scale = ColourScale::probability;
      const auto png = (fs::path(dir) / "strike_probability.png").string();
      plot_map(grid, strike.data(), style, png);
      files.push_back(png);
    }
    std::size_t tracked = 0;
    for (const auto& t : tracks) tracked += !t.points.empty();
    spdlog::info("hazards: {} of {} members have a {} track", tracked, tracks.size(), c.tracker.field);
  }
  return files;
}

}  // namespace gale
