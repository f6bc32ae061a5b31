#include "gnn/diffusion_forecaster.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "core/errors.hpp"
#include "diffusion/sphere_noise.hpp"
#include "grids/cells.hpp"

namespace gale {

namespace {

// The grid's cell areas as [1, P, 1] (for noise shaped [B, P, V]).
at::Tensor area_weights(const ForecasterImpl& model) {
  return at::tensor(latitude_weights(*model.grid()), at::kDouble).reshape({1, -1, 1});
}

const DiffusionSpec& diffusion_of(const ForecasterImpl& model) {
  if (!model.spec().diffusion)
    throw InternalError("diffusion: the " + model.spec().kind() + " forecaster is not a diffusion model");
  return *model.spec().diffusion;
}

}  // namespace

at::Tensor noise_level_embedding(const at::Tensor& c_noise, std::int64_t dim) {
  if (dim < 2 || dim % 2 != 0 || c_noise.dim() != 1)
    throw InternalError("diffusion: the noise-level embedding needs c_noise [B] and an even size >= 2");
  const auto half = dim / 2;
  const auto k = at::arange(half, c_noise.options());
  const auto frequencies = half == 1 ? at::ones_like(k) : at::pow(100.0, k / double(half - 1));
  const auto phase = c_noise.unsqueeze(1) * frequencies.unsqueeze(0);
  return at::cat({at::sin(phase), at::cos(phase)}, 1);
}

at::Tensor normalised_residual(const ForecasterImpl& model, const at::Tensor& current, const at::Tensor& next) {
  return ((next - current) / model.difference_scale()).transpose(1, 2);
}

diffusion::Network denoiser_network(ForecasterImpl& model, at::Tensor conditioning_inputs) {
  const auto dim = diffusion_of(model).noise_embedding;
  return [&model, dim, inputs = std::move(conditioning_inputs)](const at::Tensor& x_in, const at::Tensor& c_noise) {
    return model.network->forward(at::cat({inputs, x_in.to(inputs.scalar_type())}, 2),
                                  noise_level_embedding(c_noise.to(inputs.options()), dim));
  };
}

at::Tensor diffusion_loss(ForecasterImpl& model, const at::Tensor& previous, const at::Tensor& current,
                          const at::Tensor& next, const std::vector<TimePoint>& times,
                          const std::vector<std::uint64_t>& seeds, const at::Tensor& weights) {
  const auto& d = diffusion_of(model);
  const auto batch = previous.size(0), V = previous.size(1), P = previous.size(2);
  if (std::int64_t(seeds.size()) != batch) throw InternalError("diffusion: one noise seed per training sample needed");
  const auto area = area_weights(model);
  const auto options = at::TensorOptions().dtype(at::kFloat);
  std::vector<at::Tensor> sigma, noise;
  for (const auto seed : seeds) {
    auto sigma_gen = diffusion::keyed_generator(StepKey{seed, 0, 0}, diffusion::NoiseStream::training_sigma);
    auto noise_gen = diffusion::keyed_generator(StepKey{seed, 0, 0}, diffusion::NoiseStream::training_noise);
    sigma.push_back(diffusion::sample_training_sigma(d.edm, 1, sigma_gen, at::kFloat));
    noise.push_back(diffusion::sample_sphere_noise({1, P, V}, area, noise_gen, options));
  }
  const auto target = normalised_residual(model, current, next);
  const auto network = denoiser_network(model, model.network_inputs(previous, current, times));
  return diffusion::edm_loss(d.edm, network, target, at::cat(sigma).to(model.device()),
                             at::cat(noise).to(model.device()), weights.t().unsqueeze(0));
}

at::Tensor sample_diffusion_forecast(ForecasterImpl& model, const at::Tensor& previous, const at::Tensor& current,
                                     const std::vector<TimePoint>& times, const std::vector<StepKey>& keys,
                                     const DiffusionSpec& settings) {
  diffusion_of(model);
  settings.validate();
  const auto batch = previous.size(0), V = previous.size(1), P = previous.size(2);
  if (std::int64_t(keys.size()) != batch) throw InternalError("diffusion: one StepKey per sampled member needed");
  const auto area = area_weights(model);
  const auto options = at::TensorOptions().dtype(at::kFloat);
  std::vector<at::Tensor> initial;
  std::vector<at::Generator> churn;
  for (const auto& key : keys) {
    auto gen = diffusion::keyed_generator(key, diffusion::NoiseStream::initial);
    initial.push_back(diffusion::sample_sphere_noise({1, P, V}, area, gen, options));
    churn.push_back(diffusion::keyed_generator(key, diffusion::NoiseStream::churn));
  }
  // Each member's churn noise from its own stream: a member's draws do not depend on the
  // other rows of the batch.
  const diffusion::NoiseSource churn_noise = [churn, area, P, V, options]() mutable {
    std::vector<at::Tensor> draws;
    for (auto& gen : churn) draws.push_back(diffusion::sample_sphere_noise({1, P, V}, area, gen, options));
    return at::cat(draws);
  };
  const auto network = denoiser_network(model, model.network_inputs(previous, current, times));
  const auto residual =
      diffusion::sample(settings.sampler_kind, diffusion::make_denoiser(settings.edm, network),
                        at::cat(initial).to(model.device()), settings.edm, settings.sampler, churn_noise);
  return current + residual.transpose(1, 2) * model.difference_scale();
}

}  // namespace gale
