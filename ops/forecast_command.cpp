#include "ops/forecast_command.hpp"

#include <fmt/format.h>
#include <mpi.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/errors.hpp"
#include "ensemble/runner.hpp"
#include "ingest/shallow_water_stepper.hpp"
#include "ops/ingest_config.hpp"

namespace gale {

namespace {
LearnedStepperFactory g_learned_stepper = nullptr;

std::unique_ptr<Stepper> make_stepper(const ConfigNode& node, const Config& config) {
  node.allow_only({"type", "truncation", "dt_minutes", "step_hours", "checkpoint", "threads"});
  const auto type = node.get_choice("type", "shallow-water", {"shallow-water", "gnn"});
  if (type == "gnn") {
    if (!g_learned_stepper)
      node.at("type").fail("learned models run in gale-ml, the LibTorch build of gale (`gale forecast` hands over to "
                           "it; it is missing when built with GALE_WITH_TORCH=OFF)");
    return g_learned_stepper(config.resolve_path(node.get_string("checkpoint")),
                             int(node.get_long("threads", 0, 0, 1024)));
  }
  ShallowWaterConfig c = shallow_water_config(int(node.get_long("truncation", 42, 5, 341)));
  c.dt_seconds = 60 * node.get_double("dt_minutes", c.dt_seconds / 60, 0.5, 120);
  return std::make_unique<ShallowWaterStepper>(c, node.get_double("step_hours", 6, 0.25, 48));
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
                   "on_bad_member", "output"});
  auto stepper = make_stepper(
      node.has("model") ? node.at("model") : ConfigNode(YAML::Node(YAML::NodeType::Map), "forecast.model", config.origin()),
      config);
  EnsembleSpec spec;
  spec.members = int(node.get_long("members", 10, 1, 10000));
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
  const auto input = node.at("input");
  input.allow_only({"sources", "time"});
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
  const auto result = run_ensemble(MPI_COMM_WORLD, *stepper, initial, spec, resume);
  return {spec.run_dir, spec.steps, result.leads_computed};
}

}  // namespace gale
