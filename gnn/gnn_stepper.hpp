#pragma once
// The GNN forecaster as a Stepper: State in, State out, two input times. The prognostic
// variables come from the checkpoint; 500 hPa wind speed (ws500) is carried as a diagnostic
// when u500 and v500 are prognostic, recomputed from the predicted winds after each step.
#include <string>

#include "core/stepper.hpp"
#include "gnn/forecaster.hpp"

namespace gale {

class GnnStepper final : public Stepper {
 public:
  // `origin` names the checkpoint in messages.
  GnnStepper(Forecaster model, std::string origin);

  std::string name() const override { return "gnn"; }
  std::vector<Variable> variables() const override { return variables_; }
  std::shared_ptr<const Grid> grid() const override { return model_->grid(); }
  std::size_t input_times() const override { return 2; }
  Duration time_step() const override { return model_->spec().step; }
  // Throws DataError naming the variable and time when an input holds NaN/Inf (the
  // network would spread it everywhere) or the output does.
  State step(const State& inputs, const StepKey& key) override;

 private:
  Forecaster model_;
  std::string origin_;
  std::vector<Variable> variables_;
  std::vector<std::size_t> prognostic_;  // index in variables_ of each model channel
  int u_ = -1, v_ = -1, ws_ = -1;        // indices in variables_ (-1: absent)
};

}  // namespace gale
