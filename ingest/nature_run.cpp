#include "ingest/nature_run.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/errors.hpp"
#include "core/lexicon.hpp"

namespace gale {

namespace {
constexpr double kDay = 86400;

std::shared_ptr<const Grid> model_grid(const ShallowWaterModel& model) { return model.grid(); }

void check_finite(const State& state, TimePoint when) {
  for (std::size_t v = 0; v < state.variable_count(); ++v) {
    const float* x = state.field(0, 0, v);
    for (std::size_t p = 0; p < state.points(); ++p)
      if (!std::isfinite(x[p]))
        throw DataError(fmt::format("nature run: {} became non-finite at {} (point {}): the model blew up; "
                                    "reduce dt_minutes or the forcing amplitude",
                                    state.variables()[v].key(), iso8601(when), p));
  }
}
}  // namespace

void store_model_fields(const ShallowWaterModel& model, State& state, std::size_t member, std::size_t time) {
  const auto f = model.fields();
  const std::size_t n = state.points();
  float* z = state.field(member, time, 0);
  float* u = state.field(member, time, 1);
  float* v = state.field(member, time, 2);
  float* t = state.field(member, time, 3);
  float* ws = state.field(member, time, 4);
  for (std::size_t p = 0; p < n; ++p) {
    z[p] = float(f.geopotential[p]);
    u[p] = float(f.u[p]);
    v[p] = float(f.v[p]);
    t[p] = float(f.tracer[p]);
    ws[p] = float(std::hypot(f.u[p], f.v[p]));
  }
}

std::vector<Variable> nature_run_variables() {
  std::vector<Variable> vars;
  for (const char* key : {"z500", "u500", "v500", "t500", "ws500"}) vars.push_back(parse_variable_key(key));
  return vars;
}

NatureRunSpec parse_nature_run_config(const ConfigNode& node) {
  node.allow_only({"model", "start", "spinup_days", "length_days", "output_hours", "file_span", "ensemble"});
  NatureRunSpec spec;
  auto& m = spec.model;
  if (node.has("model")) {
    const auto model = node.at("model");
    model.allow_only({"truncation", "nlat", "nlon", "dt_minutes", "seed", "mean_height_m", "hyperdiffusion_hours",
                      "drag_days", "jet_speed", "jet_latitude", "forcing", "forcing_rms", "forcing_n_min",
                      "forcing_n_max", "forcing_decorrelation_hours", "tracer_relaxation_days", "diurnal_k"});
    m = shallow_water_config(int(model.get_long("truncation", m.truncation, 5, 341)));
    m.nlon = int(model.get_long("nlon", m.nlon, 8, 4096));
    m.nlat = int(model.get_long("nlat", m.nlat, 4, 2048));
    m.dt_seconds = 60 * model.get_double("dt_minutes", m.dt_seconds / 60, 0.5, 120);
    m.seed = std::uint64_t(model.get_long("seed", long(m.seed), 0, 1L << 62));
    m.mean_geopotential = 9.80665 * model.get_double("mean_height_m", m.mean_geopotential / 9.80665, 1000, 20000);
    m.hyperdiffusion_hours = model.get_double("hyperdiffusion_hours", m.hyperdiffusion_hours, 0, 1e4);
    m.drag_days = model.get_double("drag_days", m.drag_days, 0, 1e4);
    m.jet_speed = model.get_double("jet_speed", m.jet_speed, 0, 150);
    m.jet_latitude = model.get_double("jet_latitude", m.jet_latitude, 10, 80);
    m.forcing = model.get_bool("forcing", m.forcing);
    m.forcing_rms = model.get_double("forcing_rms", m.forcing_rms, 0, 1e-8);
    m.forcing_n_min = int(model.get_long("forcing_n_min", m.forcing_n_min, 1, 1000));
    m.forcing_n_max = int(model.get_long("forcing_n_max", m.forcing_n_max, 1, 1000));
    m.forcing_decorrelation_hours = model.get_double("forcing_decorrelation_hours", m.forcing_decorrelation_hours, 0.1, 1e5);
    m.tracer_relaxation_days = model.get_double("tracer_relaxation_days", m.tracer_relaxation_days, 0.1, 1e4);
    m.tracer_diurnal_k = model.get_double("diurnal_k", m.tracer_diurnal_k, 0, 50);
    // The default forcing band follows the truncation (shallow_water_config); an explicit one is checked.
    if (m.forcing_n_max > m.truncation)
      model.at("forcing_n_max").fail(fmt::format("must not exceed the truncation T{}", m.truncation));
    if (m.forcing_n_min > m.forcing_n_max)
      model.fail(fmt::format("forcing_n_min ({}) exceeds forcing_n_max ({})", m.forcing_n_min, m.forcing_n_max));
  }
  const auto start_text = node.get_string("start", "2000-01-01T00");
  try {
    spec.start = parse_iso8601(start_text, "naturerun.start");
  } catch (const UserError& e) {
    node.at("start").fail(e.what());
  }
  spec.spinup_days = node.get_double("spinup_days", spec.spinup_days, 0, 10000);
  spec.length_days = node.get_double("length_days", spec.length_days, 0.25, 100000);
  spec.output_hours = node.get_double("output_hours", spec.output_hours, 0.25, 24 * 31);
  const double steps_per_output = spec.output_hours * 3600 / m.dt_seconds;
  if (std::abs(steps_per_output - std::round(steps_per_output)) > 1e-9)
    node.fail(fmt::format("output_hours ({}) must be a whole number of model steps ({} min)", spec.output_hours,
                          m.dt_seconds / 60));
  spec.file_span = node.get_choice("file_span", spec.file_span, {"month", "day", "run"});
  if (node.has("ensemble")) {
    const auto e = node.at("ensemble");
    e.allow_only({"members", "perturbation_rms"});
    spec.ensemble_members = int(e.get_long("members", 10, 1, 1000));
    spec.ensemble_perturbation = e.get_double("perturbation_rms", spec.ensemble_perturbation, 0, 1e-3);
  }
  return spec;
}

void run_nature(const NatureRunSpec& spec, const std::function<void(State)>& sink,
                const std::function<void(double)>& progress) {
  ShallowWaterModel model(spec.model);
  model.initialise_jet();
  const auto grid = model_grid(model);
  const double dt = spec.model.dt_seconds;
  const long spinup_steps = std::lround(spec.spinup_days * kDay / dt);
  const long output_every = std::lround(spec.output_hours * 3600 / dt);
  const long outputs = std::lround(spec.length_days * 24 / spec.output_hours);
  const long total_steps = spinup_steps + (outputs - 1) * output_every;
  const long steps_per_day = std::max(1L, std::lround(kDay / dt));
  auto advance = [&](long n) {
    for (long i = 0; i < n; ++i) {
      model.step();
      if (progress && model.steps_taken() % steps_per_day == 0)
        progress(double(model.steps_taken()) / double(std::max(1L, total_steps)));
    }
  };
  advance(spinup_steps);
  for (long k = 0; k < outputs; ++k) {
    if (k > 0) advance(output_every);
    const TimePoint when = spec.start + std::chrono::seconds(std::lround(k * spec.output_hours * 3600));
    State state(1, {when}, nature_run_variables(), grid, when);
    store_model_fields(model, state, 0, 0);
    check_finite(state, when);
    state.metadata()["source"] = fmt::format("gale nature run: spectral shallow water T{} ({}x{} Gaussian), seed {}",
                                             spec.model.truncation, spec.model.nlon, spec.model.nlat, spec.model.seed);
    sink(std::move(state));
  }
  if (progress) progress(1.0);
}

State perturbed_initial_ensemble(const NatureRunSpec& spec) {
  if (spec.ensemble_members < 1) throw ConfigError("naturerun.ensemble.members must be at least 1");
  ShallowWaterModel base(spec.model);
  base.initialise_jet();
  const double lead = spec.output_hours * 3600;
  base.run(spec.spinup_days * kDay - lead);
  const auto grid = model_grid(base);
  const TimePoint t0 = spec.start - std::chrono::seconds(std::lround(lead));
  // Reference time: the first input time, so the GRIB steps are 0 and output_hours.
  State state(std::size_t(spec.ensemble_members), {t0, spec.start}, nature_run_variables(), grid, t0);
  const auto origin = base.snapshot();
  for (int member = 0; member < spec.ensemble_members; ++member) {
    base.restore(origin);
    if (member > 0) base.perturb_vorticity(spec.ensemble_perturbation, spec.model.seed * 1000003ULL + std::uint64_t(member));
    store_model_fields(base, state, std::size_t(member), 0);
    base.run(lead);
    store_model_fields(base, state, std::size_t(member), 1);
  }
  state.metadata()["source"] = fmt::format("gale nature run ensemble: {} members, vorticity perturbation rms {} s-1",
                                           spec.ensemble_members, spec.ensemble_perturbation);
  return state;
}

}  // namespace gale
