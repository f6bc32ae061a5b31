#include "ops/climate_command.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "ops/ingest_config.hpp"
#include "ops/version.hpp"
#include "products/model_climate.hpp"

namespace gale {

namespace {

namespace fs = std::filesystem;

struct ClimatePlan {
  std::vector<SourceSpec> sources;
  Request request;
  std::vector<double> percentiles;
  std::string output;
};

ClimatePlan parse_climate_config(const Config& config) {
  const auto root = config.root();
  root.allow_only({"climate"});
  const auto node = root.at("climate");
  node.allow_only({"sources", "variables", "percentiles", "check_ranges", "output"});
  ClimatePlan plan;
  plan.sources = parse_sources(node.at("sources"), config);
  if (plan.sources.empty()) node.at("sources").fail("at least one source is required");
  plan.request.variables = parse_variables(node.at("variables"));
  if (plan.request.variables.empty()) node.at("variables").fail("at least one variable is required");
  plan.request.check_ranges = node.get_bool("check_ranges", true);
  if (node.has("percentiles")) {
    for (const auto& item : node.at("percentiles").items()) {
      const double q = item.as_double();
      if (!(q >= 0 && q <= 100)) item.fail("percentiles are 0..100");
      if (!plan.percentiles.empty() && q <= plan.percentiles.back())
        item.fail("percentiles must be listed in increasing order");
      plan.percentiles.push_back(q);
    }
    if (plan.percentiles.size() < 2) node.at("percentiles").fail("at least two percentiles are required");
    if (plan.percentiles.front() != 0 || plan.percentiles.back() != 100)
      spdlog::warn("climate: percentiles without 0 and 100: the EFI cannot reach -1 / +1 (the climate's extremes are "
                   "unknown)");
  } else {
    for (int q = 0; q <= 100; ++q) plan.percentiles.push_back(q);
  }
  if (node.get_string("output", "").empty()) node.at("output").fail("an output file is required");
  plan.output = config.resolve_path(node.get_string("output"));
  return plan;
}

}  // namespace

std::string run_climate_command(const Config& config) {
  const auto plan = parse_climate_config(config);
  std::vector<std::string> keys, names;
  for (const auto& v : plan.request.variables) keys.push_back(v.key());
  // Every source is planned (headers only) before any is decoded: a gap fails fast.
  std::vector<Selection> selections;
  for (const auto& source : plan.sources) {
    selections.push_back(open_selection({source}, plan.request));
    if (!selections.back().report().ok())
      throw DataError(fmt::format("climate: {} does not hold the variables\n{}", source.path,
                                  selections.back().report().text()));
    names.push_back(fmt::format("{} sha256:{}", fs::path(source.path).filename().string(), sha256_file(source.path)));
  }
  std::vector<State> inputs;
  for (std::size_t i = 0; i < selections.size(); ++i) {
    inputs.push_back(selections[i].load());
    spdlog::info("climate: {}: {} members x {} times on {}", plan.sources[i].path, inputs.back().members(),
                 inputs.back().times(), inputs.back().grid()->describe());
  }
  const auto climate = build_model_climate(inputs, keys, plan.percentiles, names);
  inputs.clear();
  const auto dir = fs::path(plan.output).parent_path();
  if (!dir.empty()) fs::create_directories(dir);
  write_model_climate(climate, plan.output,
                      {fmt::format("gale {} climate (config sha256:{})", kVersion, sha256_hex(config.dump()))});
  spdlog::info("climate: {} samples per point, {} percentiles -> {}", climate.sample_count, climate.percentiles.size(),
               plan.output);
  return plan.output;
}

}  // namespace gale
