#include "ops/products_command.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <optional>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "export/atomic_file.hpp"
#include "export/grib_products.hpp"
#include "ops/ingest_config.hpp"
#include "ops/version.hpp"
#include "ops/products_views.hpp"
#include "ops/products_energy.hpp"
#include "ops/products_hazards.hpp"
#include "products/ensemble_products.hpp"

namespace gale {

namespace {

namespace fs = std::filesystem;

}  // namespace

ProductsPlan parse_products_section(const ConfigNode& node, const Config& config, const std::vector<Variable>& variables,
                                    const std::vector<std::string>& other_keys) {
  std::vector<std::string> keys{"title", "percentiles", "thresholds", "netcdf", "grib2", "maps", "sites", "energy", "hazards"};
  keys.insert(keys.end(), other_keys.begin(), other_keys.end());
  node.allow_only(keys);
  ProductsPlan plan;
  plan.ensemble.globals.title = node.get_string("title", "Gale ensemble products");
  if (node.has("percentiles")) {
    plan.ensemble.percentiles.clear();
    for (const auto& item : node.at("percentiles").items()) {
      const double q = item.as_double();
      if (!(q >= 0 && q <= 100)) item.fail("percentiles are 0..100");
      if (!plan.ensemble.percentiles.empty() && q <= plan.ensemble.percentiles.back())
        item.fail("percentiles must be listed in increasing order");
      plan.ensemble.percentiles.push_back(q);
    }
  }
  if (node.has("thresholds"))
    for (const auto& kv : node.at("thresholds").yaml()) {
      const auto key = kv.first.as<std::string>();
      const ConfigNode list(kv.second, "products.thresholds." + key, config.origin());
      if (std::none_of(variables.begin(), variables.end(), [&](const Variable& v) { return v.key() == key; }))
        list.fail("not one of products.members.variables");
      for (const auto& item : list.items()) plan.ensemble.thresholds[key].push_back(item.as_double());
    }
  if (node.has("netcdf")) {
    const auto nc = node.at("netcdf");
    nc.allow_only({"enabled", "members", "deflate_level"});
    plan.netcdf = nc.get_bool("enabled", true);
    plan.ensemble.members = nc.get_bool("members", true);
    plan.ensemble.deflate_level = int(nc.get_long("deflate_level", 1, 0, 9));
  }
  if (node.has("grib2")) {
    const auto g = node.at("grib2");
    g.allow_only({"enabled", "bits_per_value"});
    plan.grib2 = g.get_bool("enabled", true);
    plan.bits_per_value = int(g.get_long("bits_per_value", 16, 1, 32));
    if (plan.grib2)
      for (const double q : plan.ensemble.percentiles)
        if (q != std::floor(q))
          node.at("percentiles").fail(fmt::format("GRIB2 carries whole percentiles only; {:g} is not", q));
  }
  if (node.has("maps")) plan.maps = parse_maps_plan(node.at("maps"), variables, plan.ensemble);
  if (node.has("sites")) plan.sites = parse_sites_plan(node.at("sites"), config, variables);
  if (node.has("energy")) plan.energy = parse_energy_plan(node.at("energy"), config, variables);
  if (node.has("hazards")) plan.hazards = parse_hazards_plan(node.at("hazards"), config, variables);
  return plan;
}

namespace {

// GRIB2: every member, then mean, spread, percentiles and probabilities per lead time.
std::string write_grib2(const EnsembleVariable& e, const LeadStatistics& statistics, const Variable& variable,
                        const std::string& path, const ProductsPlan& plan) {
  const auto& spec = plan.ensemble;
  const std::size_t points = e.points(), nq = spec.percentiles.size();
  const auto thresholds = spec.thresholds.count(variable.key()) ? spec.thresholds.at(variable.key())
                                                                 : std::vector<double>{};
  std::vector<GribProductField> fields;
  std::vector<float> values;
  auto add = [&](GribProductField f, const float* data) {
    f.variable = variable;
    fields.push_back(f);
    values.insert(values.end(), data, data + points);
  };
  for (std::size_t t = 0; t < e.valid.size(); ++t) {
    const TimePoint valid = e.valid[t];
    for (std::size_t m = 0; m < e.members; ++m) {
      GribProductField f;
      f.product = GribProduct::member, f.valid = valid, f.member = int(m);
      add(f, e.field(t, m));
    }
    const auto& stats = statistics[t];
    GribProductField f;
    f.valid = valid;
    f.product = GribProduct::mean;
    add(f, stats.data());
    f.product = GribProduct::spread;
    add(f, stats.data() + points);
    for (std::size_t q = 0; q < nq; ++q) {
      f.product = GribProduct::percentile, f.percentile = spec.percentiles[q];
      add(f, stats.data() + (2 + q) * points);
    }
    for (std::size_t h = 0; h < thresholds.size(); ++h) {
      f.product = GribProduct::probability_above, f.threshold = thresholds[h];
      add(f, stats.data() + (2 + nq + h) * points);
    }
  }
  write_grib2_products(path, *e.grid, e.reference, fields, values,
                       GribProductOptions{int(e.members), plan.bits_per_value});
  return path;
}

std::string write_manifest(const std::string& output, const nlohmann::json& provenance,
                           const std::vector<std::string>& files) {
  nlohmann::json manifest = provenance;
  for (const auto& f : files)
    manifest["products"].push_back({{"file", fs::relative(f, output).string()},
                                    {"sha256", sha256_file(f)},
                                    {"bytes", fs::file_size(f)}});
  const auto path = (fs::path(output) / "manifest.json").string();
  write_text_atomically(path, manifest.dump(2) + "\n");
  return path;
}

}  // namespace

ProductsOutputs run_products_command(const Config& config) {
  const auto root = config.root();
  root.allow_only({"products"});
  const auto node = root.at("products");
  const auto members_plan = parse_ingest_node(node.at("members"), config);
  const auto plan = parse_products_section(node, config, members_plan.request.variables, {"members", "output"});
  const auto output = config.resolve_path(node.at("output").as_string());
  const Selection selection = plan_selection(members_plan);
  if (!selection.report().ok())
    throw DataError("products: the member files do not cover the request\n" + selection.report().text());
  const State members = selection.load();
  if (members.members() < 2)
    throw DataError(fmt::format("products: {} holds {} member; ensemble products need at least 2",
                                members_plan.sources.front().path, members.members()));
  std::vector<std::string> inputs;
  for (const auto& source : members_plan.sources) inputs.push_back(source.path);
  return write_products(members, plan, output, inputs, sha256_hex(config.dump()));
}

ProductsOutputs write_products(const State& members, ProductsPlan plan, const std::string& output,
                               const std::vector<std::string>& inputs, const std::string& config_sha256) {
  spdlog::info("products: {} members x {} times x {} variables on {}", members.members(), members.times(),
               members.variable_count(), members.grid()->describe());
  // Provenance: the same in every product and in the manifest (no wall-clock time, so a
  // re-run on the same inputs gives the same bytes).
  nlohmann::json provenance = {{"code_version", kVersion},
                               {"config_sha256", config_sha256},
                               {"forecast_reference_time", iso8601(members.reference_time())},
                               {"members", members.members()}};
  auto& attributes = plan.ensemble.globals.attributes;
  attributes["gale_code_version"] = kVersion;
  attributes["gale_config_sha256"] = provenance["config_sha256"];
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& path = inputs[i];
    const auto digest = sha256_file(path);
    provenance["inputs"].push_back({{"file", path}, {"sha256", digest}});
    attributes[fmt::format("gale_input_{}", i)] = fmt::format("{} sha256:{}", fs::path(path).filename().string(), digest);
  }
  for (const auto& [key, value] : members.metadata()) attributes["gale_input_" + key] = value;
  plan.ensemble.globals.source = std::string("Gale ") + kVersion;

  ProductsOutputs out;
  const auto directory = [&](const std::string& name) {
    const auto dir = fs::path(output) / name;
    fs::create_directories(dir);
    return dir.string();
  };
  std::vector<EnsembleVariable> variables;
  for (std::size_t v = 0; v < members.variable_count(); ++v) {
    variables.push_back(ensemble_variable(members, v));
    const auto& variable = variables.back();
    // Statistics once per variable, for every writer.
    const auto statistics = ensemble_statistics(variable, plan.ensemble);
    if (plan.netcdf)
      out.files.push_back(write_ensemble_netcdf(variable, statistics, directory("netcdf"), plan.ensemble));
    if (plan.grib2)
      out.files.push_back(write_grib2(variable, statistics, members.variables()[v],
                                      (fs::path(directory("grib2")) / (variable.description.key + ".grib2")).string(),
                                      plan));
    if (plan.maps)
      for (const auto& f : write_maps(variable, statistics, *plan.maps, plan.ensemble, directory("maps")))
        out.files.push_back(f);
  }
  if (plan.sites)
    for (const auto& f : write_site_products(variables, *plan.sites, plan.ensemble, directory("sites")))
      out.files.push_back(f);
  if (plan.energy)
    for (const auto& f : write_energy_products(members, *plan.energy, directory("energy"), plan.ensemble)) out.files.push_back(f);
  if (plan.hazards)
    for (const auto& f : write_hazard_products(members, *plan.hazards, (fs::path(output) / "hazards").string(),
                                               plan.ensemble.globals))
      out.files.push_back(f);
  out.manifest = write_manifest(output, provenance, out.files);
  return out;
}

}  // namespace gale
