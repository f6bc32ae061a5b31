#pragma once
// The deterministic forecaster on tensors: normalisation and residual prediction wrapped
// around the graph network, so the network sees only normalised inputs and predicts the
// normalised 6 h difference. Training (which needs gradients through rollouts) and the
// State-level GnnStepper both go through forward().
//
// The one-pass generator (FGN, model kind "fgn") is the same forecaster with a conditioned
// network: network.conditioning = noise_dim, and forward() takes one noise vector
// z ~ N(0, I) per batch row (a member), fed to every conditional LayerNorm.
//
// The diffusion forecaster (model kind "diffusion", GenCast-style; gnn/diffusion_forecaster.hpp)
// is the same wrapper around a denoiser network: spec.diffusion is set, the network takes V
// more input channels (the preconditioned noisy residual) and is conditioned on the noise
// level (network.conditioning = the noise-level embedding size). It has no forward(): it is
// sampled (sample_diffusion_forecast) and trained with the EDM loss (diffusion_loss).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/grid.hpp"
#include "core/time.hpp"
#include "core/variable.hpp"
#include "diffusion/edm.hpp"
#include "diffusion/samplers.hpp"
#include "gnn/graph_network.hpp"
#include "ingest/normalisation.hpp"

namespace gale {

// The diffusion model's settings: the noise-level embedding, the EDM training noise
// distribution (edm.sigma_data, p_mean, p_std) and the sampler defaults (edm.sigma_min,
// sigma_max, rho; sampler kind and SamplerSpec), all stored in the checkpoint.
struct DiffusionSpec {
  int noise_embedding = 16;  // Fourier features of c_noise = the conditioning vector's size
  diffusion::EdmSpec edm;    // sigma_data 1: the target is the residual / its difference std
  diffusion::SamplerKind sampler_kind = diffusion::SamplerKind::dpmpp_2s;
  diffusion::SamplerSpec sampler;  // 20 steps, no churn, S_noise 1 by default
  void validate() const;           // throws ConfigError
};

// Reads a `sampler:` section into `d`, keeping what it does not name: kind, steps, s_churn,
// s_tmin, s_tmax, s_noise, and with `with_schedule` (training, where the schedule is fixed
// for the model) also sigma_min, sigma_max, rho. Used by `gale train` (train.diffusion.sampler)
// and `gale forecast` (forecast.model.sampler, where the schedule stays the checkpoint's).
void read_sampler_settings(const ConfigNode& node, DiffusionSpec& d, bool with_schedule);

struct ForecasterSpec {
  std::vector<Variable> variables;  // prognostic variables, in channel order
  Duration step = std::chrono::hours(6);
  // network.conditioning > 0: the FGN generator's noise size, or for the diffusion model
  // the noise-level embedding size (= diffusion->noise_embedding).
  GraphNetworkSpec network;
  std::optional<DiffusionSpec> diffusion;  // set: the diffusion model
  // Variables whose area-weighted global mean each forward step keeps (the increment's
  // global mean is removed), so a model trained this way spends nothing on a drift the
  // truth does not have, and a generator's members cannot differ in it. Not for diffusion.
  std::vector<std::string> conserve_global_mean;
  // The one-pass generator (fgn): a conditioned network that is not a diffusion denoiser.
  bool generative() const { return network.conditioning > 0 && !diffusion; }
  // "gnn" (deterministic), "fgn" (generator) or "diffusion": the checkpoint's `model`.
  std::string kind() const { return diffusion ? "diffusion" : generative() ? "fgn" : "gnn"; }
};

// The noise of one member at one step: z ~ N(0, I) of size `dim`, [dim], from a CPU
// generator seeded with `seed` (a StepKey::hash()), so it depends on nothing else.
at::Tensor member_noise(std::uint64_t seed, std::int64_t dim);

class ForecasterImpl : public torch::nn::Module {
 public:
  ForecasterImpl(ForecasterSpec spec, std::shared_ptr<const Grid> grid, NormalisationStats stats);

  // previous, current: [B, V, P] in canonical units, valid at times[b] - step and times[b].
  // Returns the forecast for times[b] + step, [B, V, P] in canonical units. `noise`
  // [B, noise_dim] is required iff the model is generative (zeros: the zero-noise member).
  // Not for the diffusion model (see sample_diffusion_forecast).
  at::Tensor forward(const at::Tensor& previous, const at::Tensor& current, const std::vector<TimePoint>& times,
                     const at::Tensor& noise = {});
  // The network's input channels for the same arguments: [B, P, 2V + static + 3 forcings].
  at::Tensor network_inputs(const at::Tensor& previous, const at::Tensor& current,
                            const std::vector<TimePoint>& times) const;
  // Per-variable scale of one step's difference, [V, 1]: the loss is measured in it.
  const at::Tensor& difference_scale() const { return diff_std_; }

  void to_device(const at::Device& device);
  const at::Device& device() const { return device_; }
  const ForecasterSpec& spec() const { return spec_; }
  const std::shared_ptr<const Grid>& grid() const { return grid_; }
  const NormalisationStats& stats() const { return stats_; }
  // The deterministic network's input channels (the diffusion denoiser takes V more).
  static std::int64_t input_channels(std::size_t variables);

  GraphNetwork network{nullptr};

 private:
  ForecasterSpec spec_;
  std::shared_ptr<const Grid> grid_;
  NormalisationStats stats_;
  at::Tensor mean_, std_, diff_std_, static_;  // [V,1], [V,1], [V,1], [P, static]
  at::Tensor conserved_, area_;                 // [V,1] 1 for a conserved variable, [P] summing to 1
  at::Device device_ = at::kCPU;
};
TORCH_MODULE(Forecaster);

}  // namespace gale
