#include "ingest/shallow_water_stepper.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/errors.hpp"
#include "ingest/nature_run.hpp"

namespace gale {

ShallowWaterStepper::ShallowWaterStepper(ShallowWaterConfig config, double step_hours)
    : model_(config),
      grid_(model_.grid()),
      step_(std::lround(step_hours * 3600)) {
  const double steps = step_hours * 3600 / config.dt_seconds;
  if (std::abs(steps - std::round(steps)) > 1e-9 || steps < 1)
    throw ConfigError(fmt::format("shallow-water stepper: a {} h step is not a whole number of {} s model steps",
                                  step_hours, config.dt_seconds));
  model_.initialise_jet(0);  // sets the jet the drag relaxes toward
}

std::vector<Variable> ShallowWaterStepper::variables() const { return nature_run_variables(); }

State ShallowWaterStepper::step(const State& inputs, const StepKey& key) {
  inputs.expect(name(), {"z500", "u500", "v500", "t500"}, grid_.get(), 1);
  const std::size_t n = inputs.points(), last = inputs.times() - 1;
  ShallowWaterFields f;
  auto copy = [&](const char* k, std::vector<double>& out) {
    const float* x = inputs.field(0, last, inputs.index_of(k));
    out.assign(x, x + n);
  };
  copy("z500", f.geopotential);
  copy("u500", f.u);
  copy("v500", f.v);
  copy("t500", f.tracer);
  const TimePoint now = inputs.valid_times()[last];
  model_.set_fields(f, double(now.time_since_epoch().count()));
  model_.reseed(key.hash());
  model_.run(double(step_.count()));
  const TimePoint next = now + step_;
  State out(1, {next}, variables(), grid_, inputs.reference_time());
  store_model_fields(model_, out, 0, 0);
  return out;
}

}  // namespace gale
