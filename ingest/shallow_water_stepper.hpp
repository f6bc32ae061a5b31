#pragma once
// The nature run's dynamics as a Stepper: z, u, v, t, ws at 500 hPa on the model's
// Gaussian grid, advanced by `step_hours` with the stochastic forcing drawn from the step
// key (a stochastic-physics ensemble: members differ through their forcing and their
// initial perturbations). Each step restarts the model from the float32 State, so a
// trajectory depends only on its inputs and keys (and resuming from a saved State is exact).
#include "core/stepper.hpp"
#include "ingest/shallow_water.hpp"

namespace gale {

class ShallowWaterStepper final : public Stepper {
 public:
  ShallowWaterStepper(ShallowWaterConfig config, double step_hours = 6);

  std::string name() const override { return "shallow-water"; }
  std::vector<Variable> variables() const override;
  std::shared_ptr<const Grid> grid() const override { return grid_; }
  std::size_t input_times() const override { return 1; }
  Duration time_step() const override { return step_; }
  State step(const State& inputs, const StepKey& key) override;

 private:
  ShallowWaterModel model_;
  std::shared_ptr<const Grid> grid_;
  Duration step_;
};

}  // namespace gale
