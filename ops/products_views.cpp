#include "ops/products_views.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "core/errors.hpp"

namespace gale {

namespace {

namespace fs = std::filesystem;

std::vector<std::string> parse_keys(const ConfigNode& node, const std::string& key,
                                    const std::vector<Variable>& variables) {
  std::vector<std::string> keys;
  if (!node.has(key)) return keys;
  for (const auto& item : node.at(key).items()) {
    const auto k = item.as_string();
    if (std::none_of(variables.begin(), variables.end(), [&](const Variable& v) { return v.key() == k; }))
      item.fail(fmt::format("'{}' is not one of products.members.variables", k));
    keys.push_back(k);
  }
  return keys;
}

bool selected(const std::vector<std::string>& keys, const std::string& key) {
  return keys.empty() || std::find(keys.begin(), keys.end(), key) != keys.end();
}

double lead_hours(const EnsembleVariable& e, std::size_t t) { return double((e.valid[t] - e.reference).count()) / 3600; }

// File-name-safe: letters, digits, '-', '_'; everything else '_'.
std::string file_safe(const std::string& name) {
  std::string out;
  for (const char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return out;
}

}  // namespace

MapsPlan parse_maps_plan(const ConfigNode& node, const std::vector<Variable>& variables,
                         const EnsembleProductSpec& spec) {
  node.allow_only({"variables", "fields", "leads", "box"});
  MapsPlan plan;
  plan.variables = parse_keys(node, "variables", variables);
  if (node.has("fields")) {
    plan.fields.clear();
    for (const auto& item : node.at("fields").items()) {
      const auto f = item.as_string();
      bool ok = f == "mean" || f == "std" || f == "probability";
      for (const double q : spec.percentiles) ok |= f == fmt::format("p{:g}", q);
      if (!ok) item.fail(fmt::format("'{}' is not mean, std, probability or p<q> for a configured percentile", f));
      plan.fields.push_back(f);
    }
  }
  if (node.has("leads"))
    for (const auto& item : node.at("leads").items()) plan.leads_hours.push_back(item.as_double());
  if (node.has("box")) {
    const auto b = node.at("box");
    b.allow_only({"lat", "lon"});
    const auto lat = b.at("lat").items(), lon = b.at("lon").items();
    if (lat.size() != 2 || lon.size() != 2) b.fail("expected lat: [south, north] and lon: [west, east]");
    plan.box = MapBox{lat[0].as_double(), lat[1].as_double(), lon[0].as_double(), lon[1].as_double()};
    if (!(plan.box->lat_south < plan.box->lat_north)) b.at("lat").fail("south must be below north");
  }
  return plan;
}

std::vector<std::string> write_maps(const EnsembleVariable& e, const LeadStatistics& statistics, const MapsPlan& plan,
                                    const EnsembleProductSpec& spec,
                                    const std::string& dir) {
  std::vector<std::string> paths;
  const auto& d = e.description;
  if (!selected(plan.variables, d.key)) return paths;
  const auto thresholds = spec.thresholds.count(d.key) ? spec.thresholds.at(d.key) : std::vector<double>{};
  const std::size_t points = e.points(), nq = spec.percentiles.size();
  for (std::size_t t = 0; t < e.valid.size(); ++t) {
    const double lead = lead_hours(e, t);
    if (!plan.leads_hours.empty() &&
        std::none_of(plan.leads_hours.begin(), plan.leads_hours.end(), [&](double h) { return std::abs(h - lead) < 1e-6; }))
      continue;
    const auto& stats = statistics[t];
    auto draw = [&](const std::string& field, const float* values, ColourScale scale, const std::string& what,
                    const std::string& units) {
      MapStyle style;
      style.title = fmt::format("{} {}", d.key, what);
      style.subtitle = fmt::format("{} members, reference {}, +{:g} h (valid {})", e.members, iso8601(e.reference), lead,
                                   iso8601(e.valid[t]));
      style.units = units;
      style.scale = scale;
      style.box = plan.box;
      const auto path = (fs::path(dir) / fmt::format("{}_{}_{:03g}h.png", d.key, field, lead)).string();
      plot_map(*e.grid, values, style, path);
      paths.push_back(path);
    };
    for (const auto& field : plan.fields) {
      if (field == "mean") draw("mean", stats.data(), ColourScale::sequential, "ensemble mean", d.units);
      if (field == "std") draw("std", stats.data() + points, ColourScale::spread, "ensemble spread (std)", d.units);
      for (std::size_t q = 0; q < nq; ++q)
        if (field == fmt::format("p{:g}", spec.percentiles[q]))
          draw(field, stats.data() + (2 + q) * points, ColourScale::sequential,
               fmt::format("{:g}th percentile", spec.percentiles[q]), d.units);
      if (field == "probability")
        for (std::size_t h = 0; h < thresholds.size(); ++h)
          draw(fmt::format("probability_gt_{:g}", thresholds[h]), stats.data() + (2 + nq + h) * points,
               ColourScale::probability, fmt::format("probability > {:g} {}", thresholds[h], d.units), "1");
    }
  }
  return paths;
}

SitesPlan parse_sites_plan(const ConfigNode& node, const Config& config, const std::vector<Variable>& variables) {
  node.allow_only({"file", "variables", "plumes"});
  SitesPlan plan;
  plan.file = config.resolve_path(node.at("file").as_string());
  plan.sites = read_sites_csv(plan.file);
  plan.variables = parse_keys(node, "variables", variables);
  plan.plumes = node.get_bool("plumes", true);
  return plan;
}

std::vector<std::string> write_site_products(const std::vector<EnsembleVariable>& variables, const SitesPlan& plan,
                                             const EnsembleProductSpec& spec, const std::string& dir) {
  std::vector<std::string> paths;
  const EnsembleVariable* first = nullptr;
  SiteSeries series;
  series.sites = plan.sites;
  for (const auto& e : variables) {
    if (!selected(plan.variables, e.description.key)) continue;
    if (!first) {
      first = &e;
      series.reference_time = e.reference;
      series.valid_times = e.valid;
      series.members = e.members;
    }
    const auto weights = site_weights(*e.grid, plan.sites);
    const std::size_t S = plan.sites.size(), M = e.members, T = e.valid.size();
    SiteProduct product{e.description.key, e.description.standard_name, e.description.long_name, e.description.units,
                        std::vector<float>(S * M * T)};
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t m = 0; m < M; ++m) {
        const auto at_sites = interpolate_to_sites(weights, e.field(t, m));
        for (std::size_t s = 0; s < S; ++s) product.values[(s * M + m) * T + t] = at_sites[s];
      }
    if (plan.plumes) {
      std::vector<double> leads(T);
      for (std::size_t t = 0; t < T; ++t) leads[t] = lead_hours(e, t);
      for (std::size_t s = 0; s < S; ++s) {
        std::vector<std::vector<float>> members(M, std::vector<float>(T));
        for (std::size_t m = 0; m < M; ++m)
          for (std::size_t t = 0; t < T; ++t) members[m][t] = product.values[(s * M + m) * T + t];
        PlumeStyle style;
        style.site = plan.sites[s].name;
        style.variable = e.description.long_name + (e.description.pressure_hpa
                                                        ? fmt::format(" at {:g} hPa", *e.description.pressure_hpa)
                                                        : "");
        style.units = e.description.units;
        style.subtitle = fmt::format("{:.2f}N {:.2f}E, ensemble of {}", plan.sites[s].lat, plan.sites[s].lon, M);
        style.reference_time = e.reference;
        const auto path =
            (fs::path(dir) / fmt::format("plume_{}_{}.png", file_safe(plan.sites[s].name), e.description.key)).string();
        plot_site_plume(leads, members, style, path);
        paths.push_back(path);
      }
    }
    series.products.push_back(std::move(product));
  }
  if (!first) return paths;
  SiteWriteOptions options;
  options.percentiles = spec.percentiles;
  options.deflate_level = spec.deflate_level;
  options.title = spec.globals.title + " at sites";
  options.source = spec.globals.source;
  const auto nc = (fs::path(dir) / "sites.nc").string(), csv = (fs::path(dir) / "sites.csv").string();
  write_sites_netcdf(series, nc, options);
  write_sites_csv(series, csv, options);
  paths.insert(paths.begin(), {nc, csv});
  return paths;
}

}  // namespace gale
