#pragma once
// The GenCast-style diffusion forecaster (model kind "diffusion"; Price et al. 2024,
// "Probabilistic weather forecasting with machine learning"): a conditional denoiser of the
// normalised 6 h residual, trained with the EDM loss and sampled with DPM-Solver++(2S)
// (diffusion/edm.hpp, diffusion/samplers.hpp).
//
// The target. x = (X(t + step) - X(t)) / diff_std per variable, as [batch, point, variable]:
// the deterministic model's output normalisation, so sigma_data = 1.
//
// The denoiser network F(x_in, c_noise) is the GraphCast backbone (graph_network.hpp) with
//  - grid inputs [the two normalised conditioning states, static features, forcings (as
//    the deterministic forecaster builds them), x_in = c_in(sigma) x_noisy];
//  - noise-level conditioning through conditional LayerNorm in every block: the
//    conditioning vector is the Fourier embedding of c_noise = ln(sigma) / 4 (below);
//  - output F, and D = c_skip x + c_out F (Karras et al. 2022 eq. 7).
// The processor is the GNN processor (interaction networks over the multi-mesh) by default,
// or with train.network.processor: transformer GenCast's sparse transformer with attention
// restricted to k-hop mesh neighbourhoods (gnn/mesh_transformer.hpp).
//
// Noise. Training and sampling noise is white on the sphere (sphere_noise.hpp) with the
// grid's cell areas (grids/cells.hpp latitude_weights). Training draws (sigma, noise) per
// sample from generators seeded by the sample's seed (from the run seed and the global
// sample index, so independent of the rank count); sampling draws the initial and churn
// noise of a member from generators seeded by its StepKey (NoiseStream::initial / churn),
// so a member's trajectory depends on nothing else.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/stepper.hpp"
#include "gnn/forecaster.hpp"

namespace gale {

// Fourier features of the noise level: c_noise [B] -> [B, dim] = (sin(w_k c), cos(w_k c)),
// k = 0 .. dim/2 - 1, frequencies w_k = 100^(k / (dim/2 - 1)) log-spaced from 1 to 100
// (c_noise spans about [-1.2, 1.1] between sigma 0.01 and 80). dim even, >= 2.
at::Tensor noise_level_embedding(const at::Tensor& c_noise, std::int64_t dim);

// The normalised residual target (next - current) / diff_std, [B, P, V], from states
// [B, V, P] in canonical units.
at::Tensor normalised_residual(const ForecasterImpl& model, const at::Tensor& current, const at::Tensor& next);

// The raw network F of a diffusion model for fixed conditioning inputs
// (model.network_inputs(previous, current, times), [B, P, C]); x_in [B, P, V], c_noise [B].
// Holds a reference to `model`.
diffusion::Network denoiser_network(ForecasterImpl& model, at::Tensor conditioning_inputs);

// The EDM loss (diffusion::edm_loss) of a batch of one-step samples: states [B, V, P] in
// canonical units; seeds: one per sample (sigma from NoiseStream::training_sigma, the
// sphere noise from NoiseStream::training_noise of StepKey{seed, 0, 0}); weights [V, P]
// (area x variable x level). Differentiable.
at::Tensor diffusion_loss(ForecasterImpl& model, const at::Tensor& previous, const at::Tensor& current,
                          const at::Tensor& next, const std::vector<TimePoint>& times,
                          const std::vector<std::uint64_t>& seeds, const at::Tensor& weights);

// One sampled forecast per batch row (a member): the residual sampled with `settings`'
// sampler and schedule, noise seeded from keys[b], denormalised and added to `current`.
// previous, current [B, V, P] in canonical units valid at times[b] - step and times[b];
// returns [B, V, P] for times[b] + step. Call under at::NoGradGuard for inference.
at::Tensor sample_diffusion_forecast(ForecasterImpl& model, const at::Tensor& previous, const at::Tensor& current,
                                     const std::vector<TimePoint>& times, const std::vector<StepKey>& keys,
                                     const DiffusionSpec& settings);

}  // namespace gale
