#include "ops/forecast_command.hpp"

#include <fmt/format.h>
#include <mpi.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/errors.hpp"
#include "ensemble/global_mean_fixer.hpp"
#include "ensemble/on_rank0.hpp"
#include "ensemble/runner.hpp"
#include "ingest/shallow_water_stepper.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "export/atomic_file.hpp"
#include "ops/ingest_config.hpp"
#include "ops/naturerun_command.hpp"
#include "ops/products_command.hpp"
#include "ops/run_metrics.hpp"
#include "ops/verify_command.hpp"
#include "ops/version.hpp"

namespace gale {

namespace {
LearnedStepperFactory g_learned_stepper = nullptr;

std::unique_ptr<Stepper> make_model_stepper(const ConfigNode& node, const Config& config) {
  const auto type = node.get_choice("type", "shallow-water", {"shallow-water", "gnn"});
  if (type == "gnn") {
    if (!g_learned_stepper)
      node.at("type").fail("learned models run in gale-ml, the LibTorch build of gale (`gale forecast` hands over to "
                           "it; it is missing when built with GALE_WITH_TORCH=OFF)");
    return g_learned_stepper(config.resolve_path(node.get_string("checkpoint")),
                             int(node.get_long("threads", 0, 0, 1024)),
                             node.has("sampler") ? std::optional<ConfigNode>(node.at("sampler")) : std::nullopt);
  }
  if (node.has("sampler")) node.at("sampler").fail("only for learned diffusion models (type: gnn with a diffusion checkpoint)");
  ShallowWaterConfig c = shallow_water_config(int(node.get_long("truncation", 42, 5, 341)));
  c.dt_seconds = 60 * node.get_double("dt_minutes", c.dt_seconds / 60, 0.5, 120);
  return std::make_unique<ShallowWaterStepper>(c, node.get_double("step_hours", 6, 0.25, 48));
}
// `conserve_global_mean: [z500, ...]` wraps the model in the global-mean fixer
// (ensemble/global_mean_fixer.hpp).
std::unique_ptr<Stepper> make_stepper(const ConfigNode& node, const Config& config) {
  node.allow_only({"type", "truncation", "dt_minutes", "step_hours", "checkpoint", "threads", "sampler",
                   "conserve_global_mean"});
  auto stepper = make_model_stepper(node, config);
  if (!node.has("conserve_global_mean")) return stepper;
  const auto list = node.at("conserve_global_mean");
  std::vector<std::string> keys;
  for (const auto& item : list.items()) keys.push_back(item.as_string());
  if (keys.empty()) return stepper;
  try {
    return std::make_unique<GlobalMeanFixer>(std::move(stepper), keys);
  } catch (const UserError& e) {
    list.fail(e.what());
  }
}
// `input.naturerun: {config: naturerun-t42.yaml, output: ../naturerun}`: when a source file
// is missing, rank 0 runs the nature run that writes it (the built-in default needs no
// data from outside); the other ranks wait for it.
void ensure_naturerun(const ConfigNode& input, const Config& config) {
  const auto n = input.at("naturerun");
  n.allow_only({"config", "output"});
  const auto naturerun_config = config.resolve_path(n.at("config").as_string());
  const auto output = config.resolve_path(n.at("output").as_string());
  bool missing = false;
  for (const auto& item : input.at("sources").items())
    missing |= !std::filesystem::exists(config.resolve_path(item.at("path").as_string()));
  on_rank0(MPI_COMM_WORLD, "forecast: generating the nature run " + output, [&] {
    if (!missing) return;
    spdlog::info("forecast: generating the nature run ({} -> {}); about a minute on 2 cores", naturerun_config, output);
    run_naturerun_command(Config::from_file(naturerun_config), output, false);
  });
}

struct ForecastVerifyPlan {
  std::vector<SourceSpec> truth;
  std::vector<Variable> variables;
  VerifyOptions options;
};

ForecastVerifyPlan parse_forecast_verify(const ConfigNode& node, const Config& config,
                                         const std::vector<Variable>& model_variables) {
  node.allow_only({"truth", "variables", "regions"});
  ForecastVerifyPlan plan;
  plan.truth = parse_sources(node.at("truth"), config);
  plan.variables = parse_variables(node.at("variables"));
  for (const auto& v : plan.variables)
    if (std::none_of(model_variables.begin(), model_variables.end(), [&](const Variable& m) { return m.same_field(v); }))
      node.at("variables").fail(fmt::format("the model has no variable '{}'", v.key()));
  if (node.has("regions")) {
    plan.options.regions.clear();
    for (const auto& item : node.at("regions").items()) {
      try {
        region_by_name(item.as_string());
      } catch (const ConfigError& e) {
        item.fail(e.what());
      }
      plan.options.regions.push_back(item.as_string());
    }
  }
  return plan;
}

// Scores of the ensemble (ensemble-mean RMSE, spread, CRPS, rank histograms, against
// persistence of the truth at the analysis time) in <run>/verification; the table on stdout.
VerifyOutputs verify_forecast(const State& members, const ForecastVerifyPlan& plan, const std::string& dir) {
  Request request;
  request.variables = plan.variables;
  request.times = members.valid_times();
  request.times.insert(request.times.begin(), members.reference_time());  // persistence needs the analysis
  Selection selection = open_selection(plan.truth, request);
  if (!selection.report().ok())
    throw DataError("forecast.verify: the truth does not cover the forecast\n" + selection.report().text());
  const State truth = selection.load();
  State forecast(members.members(), members.valid_times(), plan.variables, members.grid(), members.reference_time());
  for (std::size_t m = 0; m < members.members(); ++m)
    for (std::size_t t = 0; t < members.times(); ++t)
      for (std::size_t v = 0; v < plan.variables.size(); ++v)
        std::copy_n(members.field(m, t, members.index_of(plan.variables[v].key())), members.points(), forecast.field(m, t, v));
  Verification verification(plan.options);
  add_verification_case(verification, forecast, truth, nullptr);
  auto out = write_verification(verification, dir);
  // The printed summary: whole days only (scores.csv has every lead).
  std::vector<ScoreRow> daily;
  for (const auto& row : verification.rows())
    if (std::fmod(row.lead_hours, 24.0) == 0) daily.push_back(row);
  out.table = format_scores_table(daily.empty() ? verification.rows() : daily);
  return out;
}

// <run_dir>/config.yaml (the resolved config) and provenance.json (what made the run).
void write_run_provenance(const EnsembleSpec& spec, const Config& config, const std::vector<std::string>& inputs,
                          const std::string& config_sha256, const std::string& model) {
  std::filesystem::create_directories(spec.run_dir);
  write_text_atomically((std::filesystem::path(spec.run_dir) / "config.yaml").string(), config.dump() + "\n");
  nlohmann::json p = {{"code_version", kVersion}, {"config_sha256", config_sha256}, {"model", model},
                      {"members", spec.members},   {"steps", spec.steps},            {"seed", spec.seed}};
  for (const auto& path : inputs) p["inputs"].push_back({{"file", path}, {"sha256", sha256_file(path)}});
  write_text_atomically((std::filesystem::path(spec.run_dir) / "provenance.json").string(), p.dump(2) + "\n");
}
}  // namespace

void set_learned_stepper_factory(LearnedStepperFactory factory) { g_learned_stepper = factory; }

bool forecast_uses_learned_model(const Config& config) {
  const auto root = config.root();
  if (!root.has("forecast") || !root.at("forecast").has("model")) return false;
  const auto model = root.at("forecast").at("model");
  return model.has("type") && model.get_string("type") == "gnn";
}

ForecastOutputs run_forecast_command(const Config& config, bool resume) {
  const auto root = config.root();
  root.allow_only({"forecast"});
  const auto node = root.at("forecast");
  node.allow_only({"input", "model", "members", "steps", "seed", "perturbation", "statistics", "check_ranges",
                   "on_bad_member", "products", "verify", "output", "metrics"});
  // Pushed by rank 0 at the end, success or failure (ops/run_metrics.hpp).
  RunMetrics metrics(RunKind::forecast, node.has("metrics") ? parse_pushgateway(node.at("metrics")) : std::nullopt);
  auto stepper = make_stepper(
      node.has("model") ? node.at("model") : ConfigNode(YAML::Node(YAML::NodeType::Map), "forecast.model", config.origin()),
      config);
  EnsembleSpec spec;
  spec.members = int(node.get_long("members", 10, 1, 10000));
  metrics.set("gale_forecast_members", spec.members);
  spec.steps = int(node.get_long("steps", 4, 1, 100000));
  spec.seed = std::uint64_t(node.get_long("seed", 1, 0, 1L << 62));
  spec.check_ranges = node.get_bool("check_ranges", true);
  spec.drop_bad_members = node.get_choice("on_bad_member", "fail", {"fail", "drop"}) == "drop";
  spec.run_dir = config.resolve_path(node.get_string("output", "run"));
  std::vector<std::string> keys;
  for (const auto& v : stepper->variables()) keys.push_back(v.key());
  if (node.has("perturbation")) {
    const auto p = node.at("perturbation");
    p.allow_only({"type", "correlation_km", "amplitude"});
    spec.perturbation.type = p.get_choice("type", "gaussian", {"none", "gaussian"});
    spec.perturbation.correlation_km = p.get_double("correlation_km", 500, 1, 20000);
    if (p.has("amplitude"))
      for (const auto& kv : p.at("amplitude").yaml()) {
        const auto key = kv.first.as<std::string>();
        const ConfigNode value(kv.second, "forecast.perturbation.amplitude." + key, config.origin());
        if (std::find(keys.begin(), keys.end(), key) == keys.end())
          value.fail(fmt::format("the model has no variable '{}' (it has: {})", key, fmt::join(keys, ", ")));
        spec.perturbation.amplitude[key] = value.as_double();
      }
  }
  if (node.has("statistics")) {
    const auto s = node.at("statistics");
    s.allow_only({"percentiles", "thresholds"});
    if (s.has("percentiles")) {
      spec.percentiles.clear();
      for (const auto& q : s.at("percentiles").items()) {
        const double v = q.as_double();
        if (v < 0 || v > 100) q.fail("percentiles are 0..100");
        spec.percentiles.push_back(v);
      }
    }
    if (s.has("thresholds"))
      for (const auto& kv : s.at("thresholds").yaml()) {
        const auto key = kv.first.as<std::string>();
        const ConfigNode list(kv.second, "forecast.statistics.thresholds." + key, config.origin());
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) list.fail("not a variable of the model");
        for (const auto& t : list.items()) spec.thresholds[key].push_back(t.as_double());
      }
  }
  std::optional<ProductsPlan> products;  // written from every member's trajectory at the end
  if (node.has("products")) {
    if (spec.members < 2) node.at("members").fail("products need an ensemble of at least 2 members");
    products = parse_products_section(node.at("products"), config, stepper->variables(), {});
  }
  const auto input = node.at("input");
  input.allow_only({"sources", "time", "naturerun"});
  if (input.has("naturerun")) ensure_naturerun(input, config);
  std::optional<ForecastVerifyPlan> verify;  // the run's own scores against a truth
  if (node.has("verify")) verify = parse_forecast_verify(node.at("verify"), config, stepper->variables());
  Request request;
  // Every variable of the model from the input, except wind speed, derived from the winds.
  for (const auto& v : stepper->variables())
    if (v.key() != "ws500") request.variables.push_back(v);
  const TimePoint analysis_time = [&] {
    try {
      return parse_iso8601(input.get_string("time"), "forecast.input.time");
    } catch (const ConfigError&) {
      throw;
    } catch (const UserError& e) {
      input.at("time").fail(e.what());
    }
  }();
  for (std::size_t i = stepper->input_times(); i-- > 0;)
    request.times.push_back(analysis_time - std::int64_t(i) * stepper->time_step());
  const auto sources = parse_sources(input.at("sources"), config);
  Selection selection = open_selection(sources, request);
  if (!selection.report().ok())
    throw DataError("forecast: the initial conditions are incomplete\n" + selection.report().text());
  const State loaded = selection.load();
  if (!loaded.grid()->same_as(*stepper->grid())) {
    const auto& model = node.at("model");
    throw DataError(fmt::format(
        "forecast: the initial conditions ({}) are on a {} grid of {} points, but the model{} runs on a {} grid of {} "
        "points; regrid the input or use a model for that grid",
        sources.front().path, to_string(loaded.grid()->kind()),
        loaded.grid()->size(), model.has("checkpoint") ? " " + config.resolve_path(model.get_string("checkpoint")) : "",
        to_string(stepper->grid()->kind()), stepper->grid()->size()));
  }
  // The stepper's full variable set (wind speed derived from the winds).
  State initial(loaded.members(), loaded.valid_times(), stepper->variables(), loaded.grid(), analysis_time);
  for (std::size_t m = 0; m < loaded.members(); ++m)
    for (std::size_t t = 0; t < loaded.times(); ++t) {
      for (std::size_t v = 0; v < loaded.variable_count(); ++v)
        std::copy_n(loaded.field(m, t, v), loaded.points(), initial.field(m, t, initial.index_of(loaded.variables()[v].key())));
      if (!initial.has("ws500")) continue;
      const float* u = loaded.field(m, t, loaded.index_of("u500"));
      const float* w = loaded.field(m, t, loaded.index_of("v500"));
      float* ws = initial.field(m, t, initial.index_of("ws500"));
      for (std::size_t p = 0; p < loaded.points(); ++p) ws[p] = std::hypot(u[p], w[p]);
    }
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (rank == 0)
    spdlog::info("forecast: {} members x {} steps of {} on {} rank(s) from {} -> {}", spec.members, spec.steps,
                 stepper->name(), ranks, iso8601(analysis_time), spec.run_dir);
  // The run directory says what made it: the resolved config and the hashes of the inputs
  // and the model (provenance.json), before any work.
  std::vector<std::string> inputs;
  for (const auto& source : sources) inputs.push_back(source.path);
  const auto model = node.has("model") ? node.at("model") : ConfigNode(YAML::Node(), "forecast.model", config.origin());
  if (model.has("checkpoint")) inputs.push_back(config.resolve_path(model.get_string("checkpoint")));
  const auto config_sha256 = sha256_hex(config.dump());
  if (rank == 0) {
    write_run_provenance(spec, config, inputs, config_sha256, stepper->name());
    add_log_file((std::filesystem::path(spec.run_dir) / "forecast.log").string());
  }
  const auto result = run_ensemble(MPI_COMM_WORLD, *stepper, initial, spec, resume);
  ForecastOutputs out{spec.run_dir, spec.steps, result.leads_computed, {}, {}};
  // Rank 0 writes the products; the others wait for its verdict (an error there must not
  // leave them waiting in a barrier).
  on_rank0(MPI_COMM_WORLD, "forecast: writing the products", [&] {
    if (!products && !verify) return;
    std::vector<int> dropped;
    const State members = load_ensemble_members(spec, stepper->variables(), stepper->grid(), analysis_time,
                                                stepper->time_step(), &dropped);
    if (verify) out.verification = verify_forecast(members, *verify, (std::filesystem::path(spec.run_dir) / "verification").string());
    if (products) {
    auto& attributes = products->ensemble.globals.attributes;
    attributes["gale_seed"] = std::to_string(spec.seed);
    attributes["gale_model"] = stepper->name();
    if (!dropped.empty()) attributes["gale_dropped_members"] = fmt::format("{}", fmt::join(dropped, " "));
    products->ensemble.globals.title = products->ensemble.globals.title == "Gale ensemble products"
                                           ? fmt::format("Gale {} ensemble from {}", stepper->name(), iso8601(analysis_time))
                                           : products->ensemble.globals.title;
    out.products = write_products(members, *products, (std::filesystem::path(spec.run_dir) / "products").string(), inputs,
                                  config_sha256);
    }
  });
  // For `gale schedule` (and any other launcher): what this run completed.
  if (const char* summary = std::getenv("GALE_RUN_SUMMARY"); summary && *summary && rank == 0)
    write_text_atomically(summary, nlohmann::json{{"members", spec.members},
                                                  {"leads_completed", result.leads_computed},
                                                  {"steps_completed", spec.members * result.leads_computed},
                                                  {"run_dir", spec.run_dir}}
                                           .dump() + "\n");
  metrics.forecast_completed(spec.members, result.leads_computed, out.products.files);
  metrics.finish(true);
  return out;
}

}  // namespace gale
