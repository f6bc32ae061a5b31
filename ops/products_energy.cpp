#include "ops/products_energy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <tuple>

#include "core/errors.hpp"
#include "ensemble/statistics.hpp"
#include "export/atomic_file.hpp"

namespace gale {

namespace {

namespace fs = std::filesystem;

// The key named by `node` (a scalar), which must be one of the loaded member variables and
// measured in `units`.
std::string loaded_variable(const ConfigNode& node, const std::vector<Variable>& variables, const std::string& units) {
  const auto key = node.as_string();
  const auto it = std::find_if(variables.begin(), variables.end(), [&](const Variable& v) { return v.key() == key; });
  if (it == variables.end()) {
    std::string loaded;
    for (const auto& v : variables) loaded += (loaded.empty() ? "" : ", ") + v.key();
    node.fail(fmt::format("{} is not loaded: add it to products.members.variables (loaded: {})", key, loaded));
  }
  if (it->units != units) node.fail(fmt::format("{} is in {}, this product needs {}", key, it->units, units));
  return key;
}

std::vector<double> parse_thresholds(const ConfigNode& parent, const std::string& key) {
  std::vector<double> out;
  if (!parent.has(key)) return out;
  for (const auto& item : parent.at(key).items()) {
    const double t = item.as_double();
    if (!std::isfinite(t)) item.fail("thresholds must be finite numbers");
    if (!out.empty() && t <= out.back()) item.fail("thresholds must be listed in increasing order");
    out.push_back(t);
  }
  return out;
}

// [a, b] as two finite numbers.
std::pair<double, double> parse_pair(const ConfigNode& node) {
  const auto items = node.items();
  if (items.size() != 2) node.fail(fmt::format("expected two numbers [from, to], got {}", items.size()));
  return {items[0].as_double(), items[1].as_double()};
}

std::vector<SupplyRegion> parse_regions(const ConfigNode& parent) {
  std::vector<SupplyRegion> out;
  if (!parent.has("regions")) return out;
  std::set<std::string> names;
  for (const auto& item : parent.at("regions").items()) {
    item.allow_only({"name", "lat", "lon"});
    SupplyRegion r;
    r.name = item.get_string("name");
    if (r.name.empty() || r.name.find_first_of(",\"\n\r") != std::string::npos)
      item.at("name").fail("a region name must be non-empty, without commas, quotes or line breaks");
    if (!names.insert(r.name).second) item.at("name").fail(fmt::format("region '{}' is listed twice", r.name));
    if (item.has("lat")) std::tie(r.lat_south, r.lat_north) = parse_pair(item.at("lat"));
    if (item.has("lon")) std::tie(r.lon_west, r.lon_east) = parse_pair(item.at("lon"));
    try {
      r.validate();
    } catch (const ConfigError& e) {
      item.fail(e.what());
    }
    out.push_back(r);
  }
  return out;
}

PowerCurve parse_turbine(const ConfigNode& node) {
  if (node.is_scalar()) {
    try {
      return iec_power_curve(node.as_string());
    } catch (const ConfigError& e) {
      node.fail(e.what());
    }
  }
  node.allow_only({"name", "cut_in", "rated", "cut_out", "table"});
  PowerCurve c;
  c.name = node.get_string("name", "custom");
  c.cut_in = node.get_double("cut_in", c.cut_in, 0, 100);
  c.rated = node.get_double("rated", c.rated, 0, 100);
  c.cut_out = node.get_double("cut_out", c.cut_out, 0, 100);
  if (node.has("table"))
    for (const auto& point : node.at("table").items()) c.table.push_back(parse_pair(point));
  try {
    c.validate("turbine");
  } catch (const ConfigError& e) {
    node.fail(e.what());
  }
  return c;
}

EnergyWindPlan parse_wind(const ConfigNode& node, const std::vector<Variable>& variables) {
  node.allow_only({"levels", "hub_height", "profile", "alpha", "roughness", "turbine", "thresholds",
                   "speed_thresholds", "regions"});
  EnergyWindPlan w;
  const auto levels = node.at("levels");
  for (const auto& item : levels.items()) {
    item.allow_only({"height", "u", "v"});
    EnergyWindLevel level;
    level.height = item.at("height").as_double();
    if (!(level.height > 0 && level.height < 10000)) item.at("height").fail("a height above ground (m) in 0..10000");
    for (const auto& other : w.levels)
      if (other.height == level.height) item.at("height").fail(fmt::format("height {:g} m is listed twice", level.height));
    level.u = loaded_variable(item.at("u"), variables, "m s-1");
    level.v = loaded_variable(item.at("v"), variables, "m s-1");
    w.levels.push_back(level);
  }
  if (w.levels.empty()) levels.fail("at least one level {height, u, v} is required");
  w.hub_height = node.get_double("hub_height", 100, 1, 1000);
  const auto profile = node.get_choice("profile", "fitted_power_law", {"power_law", "log_law", "fitted_power_law"});
  w.hub.method = profile == "power_law" ? HubHeightMethod::power_law
                 : profile == "log_law" ? HubHeightMethod::log_law
                                        : HubHeightMethod::fitted_power_law;
  w.hub.alpha = node.get_double("alpha", 1.0 / 7.0, 0, 1);
  w.hub.roughness = node.get_double("roughness", 0.03, 1e-5, 10);
  if (w.hub.method == HubHeightMethod::log_law)
    for (std::size_t i = 0; i < w.levels.size(); ++i)
      if (!(w.levels[i].height > w.hub.roughness))
        levels.items()[i].at("height").fail(fmt::format("the log law needs heights above the roughness length {:g} m",
                                                        w.hub.roughness));
  try {
    w.hub.validate();
  } catch (const ConfigError& e) {
    node.fail(e.what());
  }
  w.turbine = node.has("turbine") ? parse_turbine(node.at("turbine")) : iec_power_curve("iec-II");
  w.thresholds = parse_thresholds(node, "thresholds");
  w.speed_thresholds = parse_thresholds(node, "speed_thresholds");
  w.regions = parse_regions(node);
  return w;
}

EnergySolarPlan parse_solar(const ConfigNode& node, const std::vector<Variable>& variables) {
  node.allow_only({"irradiance", "temperature", "accumulation_hours", "thresholds", "regions"});
  EnergySolarPlan s;
  s.irradiance = loaded_variable(node.at("irradiance"), variables, "J m-2");
  s.temperature = loaded_variable(node.at("temperature"), variables, "K");
  if (node.has("accumulation_hours")) s.accumulation_hours = node.get_double("accumulation_hours", 1, 1e-3, 24 * 366);
  s.thresholds = parse_thresholds(node, "thresholds");
  s.regions = parse_regions(node);
  return s;
}

EnergyDegreeDayPlan parse_degree_days(const ConfigNode& node, const std::vector<Variable>& variables) {
  node.allow_only({"temperature", "base_celsius", "thresholds", "regions"});
  EnergyDegreeDayPlan d;
  d.temperature = loaded_variable(node.at("temperature"), variables, "K");
  d.base_celsius = node.get_double("base_celsius", 18, -50, 50);
  d.thresholds = parse_thresholds(node, "thresholds");
  d.regions = parse_regions(node);
  return d;
}

// --- products ------------------------------------------------------------------------------

EnsembleVariable empty_product(const State& s, ProductVariable description, std::vector<TimePoint> valid) {
  EnsembleVariable e;
  e.description = std::move(description);
  e.grid = s.grid();
  e.reference = s.reference_time();
  e.valid = std::move(valid);
  e.members = s.members();
  e.values.assign(e.valid.size() * e.members * s.points(), std::numeric_limits<float>::quiet_NaN());
  return e;
}

ProductVariable describe(const std::string& key, const std::string& standard_name, const std::string& long_name,
                         const std::string& units) {
  ProductVariable d;
  d.key = key, d.name = key, d.standard_name = standard_name, d.long_name = long_name, d.units = units;
  return d;
}

// regions_<key>.csv: per region and valid time, statistics over members of each member's
// capacity-weighted (uniform) regional mean.
std::string write_regions_csv(const EnsembleVariable& e, const std::vector<SupplyRegion>& regions,
                              const std::vector<double>& thresholds, const std::vector<double>& percentiles,
                              const std::string& dir) {
  const auto& lat = e.grid->lat();
  const auto& lon = e.grid->lon();
  StatisticsSpec stats;
  stats.percentiles = percentiles;
  stats.thresholds = thresholds;
  const std::size_t nq = percentiles.size(), nh = thresholds.size(), members = e.members;
  std::string text = "region,valid_time,lead_hours,mean";
  for (const double q : percentiles) text += fmt::format(",p{:g}", q);
  for (const double t : thresholds) text += fmt::format(",prob_above_{:g}", t);
  text += "\n";
  std::vector<float> means(members), out(stats.names().size());
  for (const auto& region : regions)
    for (std::size_t t = 0; t < e.valid.size(); ++t) {
      for (std::size_t m = 0; m < members; ++m)
        means[m] = float(regional_mean(lat, lon, e.field(t, m), nullptr, region).value);
      point_statistics(means.data(), members, 1, stats, out.data());
      const double lead = std::chrono::duration<double>(e.valid[t] - e.reference).count() / 3600.0;
      text += fmt::format("{},{},{:g},{:.9g}", region.name, iso8601(e.valid[t]), lead, out[0]);
      for (std::size_t q = 0; q < nq; ++q) text += fmt::format(",{:.9g}", out[4 + q]);
      for (std::size_t h = 0; h < nh; ++h) text += fmt::format(",{:.9g}", out[4 + nq + h] / double(members));
      text += "\n";
    }
  const auto path = (fs::path(dir) / ("regions_" + e.description.key + ".csv")).string();
  AtomicOutput output(path);
  {
    std::ofstream f(output.temp_path(), std::ios::binary);
    f << text;
    f.close();
    if (!f) throw InputError(fmt::format("products: cannot write {}", output.temp_path()));
  }
  output.commit();
  return path;
}

struct Writer {
  const EnsembleProductSpec& base;
  const std::string& dir;
  std::vector<std::string> files;

  void product(const EnsembleVariable& e, const std::vector<double>& thresholds, const std::vector<SupplyRegion>& regions) {
    auto spec = base;
    spec.thresholds.clear();
    if (!thresholds.empty()) spec.thresholds[e.description.key] = thresholds;
    files.push_back(write_ensemble_netcdf(e, ensemble_statistics(e, spec), dir, spec));
    if (!regions.empty()) files.push_back(write_regions_csv(e, regions, thresholds, base.percentiles, dir));
  }
};

void wind_products(const State& s, const EnergyWindPlan& w, Writer& out) {
  const std::size_t points = s.points();
  auto speed = empty_product(
      s, describe("hub_height_wind_speed", "wind_speed", fmt::format("wind speed at {:g} m hub height", w.hub_height), "m s-1"),
      s.valid_times());
  auto cf = empty_product(
      s,
      describe("wind_capacity_factor", "",
               fmt::format("wind capacity factor of turbine {} at {:g} m hub height", w.turbine.name, w.hub_height), "1"),
      s.valid_times());
  std::vector<std::vector<float>> level_speed(w.levels.size(), std::vector<float>(points));
  for (std::size_t t = 0; t < s.times(); ++t)
    for (std::size_t m = 0; m < s.members(); ++m) {
      std::vector<WindLevel> levels;
      for (std::size_t l = 0; l < w.levels.size(); ++l) {
        const float* u = s.field(m, t, s.index_of(w.levels[l].u));
        const float* v = s.field(m, t, s.index_of(w.levels[l].v));
        for (std::size_t p = 0; p < points; ++p) level_speed[l][p] = std::hypot(u[p], v[p]);
        levels.push_back({w.levels[l].height, level_speed[l].data()});
      }
      const auto hub = hub_height_wind(levels, points, w.hub_height, w.hub);
      std::copy(hub.begin(), hub.end(), speed.field(t, m));
      const auto factor = wind_capacity_factor(w.turbine, hub.data(), points);
      std::copy(factor.begin(), factor.end(), cf.field(t, m));
    }
  out.product(speed, w.speed_thresholds, {});
  out.product(cf, w.thresholds, w.regions);
}

void solar_products(const State& s, const EnergySolarPlan& plan, Writer& out) {
  const std::size_t points = s.points(), ir = s.index_of(plan.irradiance), it = s.index_of(plan.temperature);
  std::vector<std::size_t> times;
  for (std::size_t t = 0; t < s.times(); ++t)
    if (plan.accumulation_hours || s.valid_times()[t] > s.reference_time()) times.push_back(t);
  if (times.empty())
    throw DataError(fmt::format("products.energy.solar: {} is a running accumulation since the reference time {}, "
                                "and no valid time comes after it (set accumulation_hours for interval amounts)",
                                plan.irradiance, iso8601(s.reference_time())));
  std::vector<TimePoint> valid;
  for (const auto t : times) valid.push_back(s.valid_times()[t]);
  auto cf = empty_product(s, describe("solar_capacity_factor", "", "solar PV capacity factor", "1"), valid);
  // The irradiance is a mean over the accumulation interval ending at each valid time.
  for (std::size_t k = 0; k < valid.size(); ++k) {
    const TimePoint start = plan.accumulation_hours
                                ? valid[k] - std::chrono::seconds(std::int64_t(*plan.accumulation_hours * 3600))
                                : (k == 0 ? s.reference_time() : valid[k - 1]);
    cf.time_bounds.emplace_back(start, valid[k]);
  }
  cf.time_cell_method = "time: mean";
  for (std::size_t m = 0; m < s.members(); ++m) {
    std::vector<std::vector<float>> irradiance;
    if (plan.accumulation_hours) {
      for (const auto t : times) {
        const float* acc = s.field(m, t, ir);
        std::vector<float> g(points);
        for (std::size_t p = 0; p < points; ++p)
          g[p] = std::isnan(acc[p]) ? acc[p] : float(mean_irradiance(acc[p], *plan.accumulation_hours * 3600.0));
        irradiance.push_back(std::move(g));
      }
    } else {
      std::vector<const float*> fields;
      for (const auto t : times) fields.push_back(s.field(m, t, ir));
      irradiance = irradiance_from_accumulations(fields, valid, points, s.reference_time());
    }
    for (std::size_t k = 0; k < times.size(); ++k) {
      const float* temperature = s.field(m, times[k], it);
      float* dst = cf.field(k, m);
      for (std::size_t p = 0; p < points; ++p) dst[p] = float(solar_capacity_factor(temperature[p], irradiance[k][p]));
    }
  }
  out.product(cf, plan.thresholds, plan.regions);
}

void degree_day_products(const State& s, const EnergyDegreeDayPlan& plan, Writer& out) {
  const std::size_t points = s.points(), v = s.index_of(plan.temperature);
  const DegreeDayOptions options{plan.base_celsius};
  std::vector<DailyDegreeDays> daily;
  for (std::size_t m = 0; m < s.members(); ++m) {
    std::vector<const float*> fields;
    for (std::size_t t = 0; t < s.times(); ++t) fields.push_back(s.field(m, t, v));
    daily.push_back(daily_degree_days(fields, s.valid_times(), points, options));
  }
  std::vector<std::size_t> days;
  std::vector<TimePoint> valid;
  for (std::size_t d = 0; d < daily[0].days.size(); ++d)
    if (daily[0].complete[d]) days.push_back(d), valid.push_back(daily[0].days[d]);
  if (days.empty())
    throw DataError(fmt::format("products.energy.degree_days: no complete UTC day in {} from {} to {} ({} times): "
                                "degree days need every sample of a day, 00 UTC to 24 h minus the step",
                                plan.temperature, iso8601(s.valid_times().front()), iso8601(s.valid_times().back()),
                                s.times()));
  const auto base = fmt::format("{:g} C", plan.base_celsius);
  auto hdd = empty_product(s, describe("heating_degree_days", "", "heating degree days (base " + base + ")", "K day"), valid);
  auto cdd = empty_product(s, describe("cooling_degree_days", "", "cooling degree days (base " + base + ")", "K day"), valid);
  // Each value covers its UTC day: time is the day's start, time_bnds the day.
  for (auto* e : {&hdd, &cdd}) {
    for (const auto day : valid) e->time_bounds.emplace_back(day, day + std::chrono::hours(24));
    e->time_cell_method = "time: sum";
  }
  for (std::size_t k = 0; k < days.size(); ++k)
    for (std::size_t m = 0; m < s.members(); ++m) {
      std::copy(daily[m].hdd[days[k]].begin(), daily[m].hdd[days[k]].end(), hdd.field(k, m));
      std::copy(daily[m].cdd[days[k]].begin(), daily[m].cdd[days[k]].end(), cdd.field(k, m));
    }
  out.product(hdd, plan.thresholds, plan.regions);
  out.product(cdd, plan.thresholds, plan.regions);
}

}  // namespace

EnergyPlan parse_energy_plan(const ConfigNode& section, const Config& config, const std::vector<Variable>& variables) {
  (void)config;
  section.allow_only({"wind", "solar", "degree_days"});
  EnergyPlan plan;
  if (section.has("wind")) plan.wind = parse_wind(section.at("wind"), variables);
  if (section.has("solar")) plan.solar = parse_solar(section.at("solar"), variables);
  if (section.has("degree_days")) plan.degree_days = parse_degree_days(section.at("degree_days"), variables);
  if (!plan.wind && !plan.solar && !plan.degree_days) section.fail("expected one or more of wind, solar, degree_days");
  return plan;
}

std::vector<std::string> write_energy_products(const State& members, const EnergyPlan& plan, const std::string& dir,
                                               const EnsembleProductSpec& base) {
  Writer out{base, dir, {}};
  if (plan.wind) wind_products(members, *plan.wind, out);
  if (plan.solar) solar_products(members, *plan.solar, out);
  if (plan.degree_days) degree_day_products(members, *plan.degree_days, out);
  return out.files;
}

}  // namespace gale
