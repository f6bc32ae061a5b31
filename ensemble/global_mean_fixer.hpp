#pragma once
// A conservation fixer around any Stepper: after each step, every listed variable's
// area-weighted global mean is put back to its value at the step's last input time, by
// adding one constant to the whole field. A learned model drifts in quantities the true
// dynamics conserve (the nature run's mass, i.e. the global mean of z500, moves by 5e-6
// of its value in a month; the generator's ensemble mean loses 54 m2 s-2 of it in 72 h);
// the fixer removes that drift and leaves every gradient, and so every wind and pattern,
// untouched. Like the mass fixers of physical models, it wraps any model as a
// choice of the forecast (`forecast.model.conserve_global_mean`, off by default); a learned
// model can also carry the same fix inside itself from training on
// (`train.conserve_global_mean`, gnn/forecaster.hpp).
#include <memory>
#include <string>
#include <vector>

#include "core/stepper.hpp"

namespace gale {

class GlobalMeanFixer : public Stepper {
 public:
  // `keys`: variables of `inner` whose global mean is conserved. Throws ConfigError naming
  // a key the stepper does not have or a derived one (wind speed), and UserError for a
  // grid without latitude rows (a mesh: the area of its points is not defined here).
  GlobalMeanFixer(std::unique_ptr<Stepper> inner, const std::vector<std::string>& keys);

  std::string name() const override { return inner_->name(); }
  std::vector<Variable> variables() const override { return inner_->variables(); }
  std::shared_ptr<const Grid> grid() const override { return inner_->grid(); }
  std::size_t input_times() const override { return inner_->input_times(); }
  Duration time_step() const override { return inner_->time_step(); }
  State step(const State& inputs, const StepKey& key) override;

 private:
  std::unique_ptr<Stepper> inner_;
  std::vector<std::string> fixed_;  // keys of the conserved variables
  std::vector<double> weights_;     // per grid point, mean 1
};

// The area-weighted mean of one field (weights need not be normalised), in double.
double weighted_mean(const float* values, const std::vector<double>& weights);

}  // namespace gale
