#pragma once
// The GNN forecaster as a Stepper: State in, State out, two input times. The prognostic
// variables come from the checkpoint; 500 hPa wind speed (ws500) is carried as a diagnostic
// when u500 and v500 are prognostic, recomputed from the predicted winds after each step.
// For an fgn checkpoint (the one-pass generator) each step draws the member's noise
// z ~ N(0, I) from a CPU generator seeded with StepKey::hash(): one forward pass per member
// and step, and a member's trajectory depends only on (run seed, member, step).
// For a diffusion checkpoint each step samples the normalised residual with the
// checkpoint's sampler (DPM-Solver++(2S), 20 steps, sigma 80 -> 0.03, rho 7 by default;
// churn and noise inflation as trained with), its initial and churn noise drawn from
// generators seeded by the StepKey (gnn/diffusion_forecaster.hpp), then denormalises it and
// adds it to the current state like the deterministic model.
#include <optional>
#include <string>

#include "core/stepper.hpp"
#include "gnn/forecaster.hpp"

namespace gale {

class GnnStepper final : public Stepper {
 public:
  // `origin` names the checkpoint in messages. `zero_noise`: a generator runs with z = 0
  // (every member identical; the deterministic-like control member); refused (ConfigError)
  // for a diffusion model.
  GnnStepper(Forecaster model, std::string origin, bool zero_noise = false);

  // Diffusion models: replaces the checkpoint's sampler kind and settings (the noise
  // schedule sigma_min, sigma_max, rho stays the checkpoint's). ConfigError for other models
  // or invalid settings.
  void set_sampler(diffusion::SamplerKind kind, const diffusion::SamplerSpec& sampler);
  // Diffusion models: the sampler's noise levels per step (N) and denoiser (network)
  // evaluations per step (diffusion::denoiser_evaluations); 0 for the one-pass models.
  int sampler_steps() const { return diffusion_ ? diffusion_->sampler.steps : 0; }
  int denoiser_evaluations() const;

  std::string name() const override { return model_->spec().kind(); }
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
  bool zero_noise_ = false;
  std::optional<DiffusionSpec> diffusion_;  // the sampler settings of a diffusion model
  std::vector<Variable> variables_;
  std::vector<std::size_t> prognostic_;  // index in variables_ of each model channel
  int u_ = -1, v_ = -1, ws_ = -1;        // indices in variables_ (-1: absent)
};

}  // namespace gale
