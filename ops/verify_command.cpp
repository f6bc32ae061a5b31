#include "ops/verify_command.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "core/errors.hpp"
#include "ops/ingest_config.hpp"
#include "verify/plots.hpp"
#include "verify/regrid_state.hpp"
#include "verify/verification.hpp"

namespace gale {

namespace {
State load_sources(const ConfigNode& node, const Config& config, const std::vector<Variable>& variables,
                   std::vector<int> members, const char* what) {
  Request request;
  request.variables = variables;
  request.members = std::move(members);
  Selection selection = open_selection(parse_sources(node.at("sources"), config), request);
  if (!selection.report().ok())
    throw DataError(fmt::format("verify: the {} does not hold every requested field\n{}", what,
                                selection.report().text()));
  return selection.load();
}
}  // namespace

VerifyOutputs run_verify_command(const Config& config) {
  const auto root = config.root();
  root.allow_only({"verify"});
  const auto node = root.at("verify");
  node.allow_only({"forecasts", "truth", "climatology", "variables", "regions", "thresholds", "output",
                   "reference"});
  const auto variables = parse_variables(node.at("variables"));
  VerifyOptions options;
  if (node.has("regions")) {
    options.regions.clear();
    for (const auto& item : node.at("regions").items()) {
      try {
        region_by_name(item.as_string());
      } catch (const ConfigError& e) {
        item.fail(e.what());
      }
      options.regions.push_back(item.as_string());
    }
  }
  if (node.has("thresholds")) {
    for (const auto& kv : node.at("thresholds").yaml()) {
      const auto key = kv.first.as<std::string>();
      const ConfigNode list(kv.second, "verify.thresholds." + key, config.origin());
      bool known = false;
      for (const auto& v : variables) known |= v.key() == key;
      if (!known) list.fail("thresholds for a variable that is not verified");
      for (const auto& t : list.items()) options.thresholds[key].push_back(t.as_double());
    }
  }
  const auto truth_node = node.at("truth");
  truth_node.allow_only({"sources", "member"});
  const int truth_member = int(truth_node.get_long("member", 0, 0, 100000));
  const auto forecast_nodes = node.at("forecasts").items();
  for (const auto& f : forecast_nodes) {
    f.allow_only({"sources"});
    parse_sources(f.at("sources"), config);  // validate every path before any work
  }
  parse_sources(truth_node.at("sources"), config);
  const std::string out_dir = config.resolve_path(node.get_string("output", "verify-out"));
  // The reference run's scores colour the scorecard; read before any work so a bad file
  // fails fast.
  std::unique_ptr<std::vector<ScoreRow>> reference;
  if (node.has("reference"))
    reference = std::make_unique<std::vector<ScoreRow>>(read_scores_csv(config.resolve_path(node.get_string("reference"))));

  const State truth_native = load_sources(truth_node, config, variables, {truth_member}, "truth");
  std::unique_ptr<State> climatology;
  if (node.has("climatology")) {
    const auto c = node.at("climatology");
    c.allow_only({"sources"});
    climatology = std::make_unique<State>(load_sources(c, config, variables, {}, "climatology"));
  }
  Verification verification(options);
  for (std::size_t i = 0; i < forecast_nodes.size(); ++i) {
    const State forecast = load_sources(forecast_nodes[i], config, variables, {}, "forecast");
    spdlog::info("verify: case {} of {}: {} member(s), {} lead time(s) from {}", i + 1, forecast_nodes.size(),
                 forecast.members(), forecast.times(), iso8601(forecast.reference_time()));
    add_verification_case(verification, forecast, truth_native, climatology.get());
  }
  return write_verification(verification, out_dir, reference.get());
}

void add_verification_case(Verification& verification, const State& forecast, const State& truth_native,
                           const State* climatology) {
  // One verification grid: the forecast's. Truth and climatology are remapped
  // conservatively onto it when they differ.
  const State truth = regrid_state_conservative(truth_native, forecast.grid());
  std::unique_ptr<State> clim;
  if (climatology) clim = std::make_unique<State>(regrid_state_conservative(*climatology, forecast.grid()));
  verification.add_case(forecast, truth, clim.get());
}

VerifyOutputs write_verification(const Verification& verification, const std::string& out_dir,
                                 const std::vector<ScoreRow>* reference) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  VerifyOutputs out;
  const auto rows = verification.rows();
  out.netcdf = (std::filesystem::path(out_dir) / "scores.nc").string();
  out.csv = (std::filesystem::path(out_dir) / "scores.csv").string();
  write_scores_netcdf(rows, verification.rank_histograms(), out.netcdf);
  write_scores_csv(rows, out.csv);
  out.table = format_scores_table(rows);

  // Figures: score against lead time per variable and region, rank histograms (global)
  // per variable and lead, and the scorecard.
  auto png = [&](const std::string& name) {
    out.plots.push_back((std::filesystem::path(out_dir) / name).string());
    return out.plots.back();
  };
  std::vector<std::string> plotted_variables, plotted_regions;
  for (const auto& r : rows) {
    if (std::find(plotted_variables.begin(), plotted_variables.end(), r.variable) == plotted_variables.end())
      plotted_variables.push_back(r.variable);
    if (std::find(plotted_regions.begin(), plotted_regions.end(), r.region) == plotted_regions.end())
      plotted_regions.push_back(r.region);
  }
  for (const auto& variable : plotted_variables)
    for (const auto& region : plotted_regions)
      plot_score_vs_lead(rows, variable, region, png(fmt::format("score_{}_{}.png", variable, region)));
  for (const auto& [key, frequencies] : verification.rank_histograms()) {
    const auto& [variable, lead, region] = key;
    if (region != "global") continue;
    plot_rank_histogram(frequencies, fmt::format("rank histogram {} +{:g} h (global)", variable, lead),
                        png(fmt::format("rank_histogram_{}_{:g}h.png", variable, lead)));
  }
  plot_scorecard(rows, reference, png("scorecard.png"));
  return out;
}

}  // namespace gale
