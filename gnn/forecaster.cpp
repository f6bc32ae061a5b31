#include "gnn/forecaster.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "core/errors.hpp"
#include "gnn/forcings.hpp"
#include "grids/cells.hpp"

namespace gale {

namespace {
at::Tensor column(const std::vector<double>& values) {
  return at::tensor(std::vector<float>(values.begin(), values.end()), at::kFloat).reshape({-1, 1});
}
}  // namespace

at::Tensor member_noise(std::uint64_t seed, std::int64_t dim) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({dim}, generator, at::TensorOptions().dtype(at::kFloat));
}

void DiffusionSpec::validate() const {
  if (noise_embedding < 2 || noise_embedding % 2 != 0)
    throw ConfigError("diffusion: noise_embedding must be an even number >= 2, got " + std::to_string(noise_embedding));
  edm.validate();
  sampler.validate();
}

void read_sampler_settings(const ConfigNode& m, DiffusionSpec& d, bool with_schedule) {
  if (with_schedule)
    m.allow_only({"kind", "steps", "sigma_min", "sigma_max", "rho", "s_churn", "s_tmin", "s_tmax", "s_noise"});
  else
    m.allow_only({"kind", "steps", "s_churn", "s_tmin", "s_tmax", "s_noise"});
  if (m.has("kind"))
    d.sampler_kind = diffusion::parse_sampler_kind(m.get_choice("kind", "dpmpp_2s", {"euler", "heun", "dpmpp_2s"}));
  d.sampler.steps = int(m.get_long("steps", d.sampler.steps, 1, 10000));
  if (with_schedule) {
    d.edm.sigma_min = m.get_double("sigma_min", d.edm.sigma_min, 1e-9, 1e9);
    d.edm.sigma_max = m.get_double("sigma_max", d.edm.sigma_max, 1e-9, 1e9);
    if (!(d.edm.sigma_max > d.edm.sigma_min)) m.at("sigma_max").fail("must exceed sigma_min");
    d.edm.rho = m.get_double("rho", d.edm.rho, 1e-3, 1e3);
  }
  d.sampler.s_churn = m.get_double("s_churn", d.sampler.s_churn, 0, 1e6);
  d.sampler.s_tmin = m.get_double("s_tmin", d.sampler.s_tmin, 0, 1e9);
  if (m.has("s_tmax")) d.sampler.s_tmax = m.get_double("s_tmax", 0, d.sampler.s_tmin, 1e9);
  d.sampler.s_noise = m.get_double("s_noise", d.sampler.s_noise, 0, 10);
}

std::int64_t ForecasterImpl::input_channels(std::size_t variables) {
  return std::int64_t(2 * variables) + kStaticFeatures + 3 * kTimeForcings;
}

ForecasterImpl::ForecasterImpl(ForecasterSpec spec, std::shared_ptr<const Grid> grid, NormalisationStats stats)
    : spec_(std::move(spec)), grid_(std::move(grid)), stats_(std::move(stats)) {
  const auto V = spec_.variables.size();
  if (spec_.diffusion) {
    spec_.diffusion->validate();
    TORCH_CHECK(spec_.network.conditioning == spec_.diffusion->noise_embedding,
                "the diffusion network is conditioned on the noise-level embedding");
  }
  const auto in = input_channels(V) + (spec_.diffusion ? std::int64_t(V) : 0);
  network = register_module("network", GraphNetwork(spec_.network, *grid_, in, std::int64_t(V)));
  mean_ = column(stats_.mean);
  std_ = column(stats_.stddev);
  diff_std_ = column(stats_.diff_stddev);
  static_ = at::tensor(static_features(*grid_), at::kFloat).reshape({-1, kStaticFeatures});
  std::vector<double> conserved(V, 0.0);
  for (const auto& key : spec_.conserve_global_mean) {
    const auto it = std::find_if(spec_.variables.begin(), spec_.variables.end(),
                                 [&](const Variable& v) { return v.key() == key; });
    TORCH_CHECK(it != spec_.variables.end(), "conserve_global_mean: no variable ", key);
    TORCH_CHECK(!spec_.diffusion, "conserve_global_mean is not for the diffusion model");
    conserved[std::size_t(it - spec_.variables.begin())] = 1;
  }
  conserved_ = column(conserved);
  auto area = latitude_weights(*grid_);
  for (auto& w : area) w /= double(area.size());  // mean 1 -> sum 1
  area_ = at::tensor(std::vector<float>(area.begin(), area.end()), at::kFloat);
}

void ForecasterImpl::to_device(const at::Device& device) {
  device_ = device;
  network->to_device(device);
  mean_ = mean_.to(device);
  std_ = std_.to(device);
  diff_std_ = diff_std_.to(device);
  static_ = static_.to(device);
  conserved_ = conserved_.to(device);
  area_ = area_.to(device);
}

at::Tensor ForecasterImpl::network_inputs(const at::Tensor& previous, const at::Tensor& current,
                                          const std::vector<TimePoint>& times) const {
  const auto batch = previous.size(0);
  const auto points = std::int64_t(grid_->size());
  std::vector<at::Tensor> forcing;
  for (const auto t : times) {
    std::vector<at::Tensor> at_times;
    for (const auto when : {t - spec_.step, t, t + spec_.step})
      at_times.push_back(at::tensor(time_forcings(*grid_, when), at::kFloat).reshape({points, kTimeForcings}));
    forcing.push_back(at::cat(at_times, 1));
  }
  return at::cat({((previous - mean_) / std_).transpose(1, 2), ((current - mean_) / std_).transpose(1, 2),
                  static_.unsqueeze(0).expand({batch, -1, -1}), at::stack(forcing).to(device_)},
                 2);
}

at::Tensor ForecasterImpl::forward(const at::Tensor& previous, const at::Tensor& current,
                                   const std::vector<TimePoint>& times, const at::Tensor& noise) {
  TORCH_CHECK(!spec_.diffusion, "the diffusion forecaster is sampled (sample_diffusion_forecast), not run forward");
  TORCH_CHECK(spec_.generative() == noise.defined(), spec_.generative()
                                                         ? "the fgn generator needs a noise tensor [batch, noise_dim]"
                                                         : "the deterministic gnn forecaster takes no noise");
  const auto residual =
      network->forward(network_inputs(previous, current, times), noise.defined() ? noise.to(device_) : noise)
          .transpose(1, 2);
  auto increment = residual * diff_std_;
  if (!spec_.conserve_global_mean.empty())
    increment = increment - conserved_ * (increment * area_).sum(-1, /*keepdim=*/true);
  return current + increment;
}

}  // namespace gale
