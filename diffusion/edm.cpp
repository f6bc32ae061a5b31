#include "diffusion/edm.hpp"

#include <fmt/format.h>

#include <vector>

#include "core/errors.hpp"

namespace gale::diffusion {

void EdmSpec::validate() const {
  auto positive = [](double v, const char* name) {
    if (!(v > 0) || !std::isfinite(v)) throw ConfigError(fmt::format("diffusion: {} must be positive, got {}", name, v));
  };
  positive(sigma_data, "sigma_data");
  positive(sigma_min, "sigma_min");
  positive(sigma_max, "sigma_max");
  positive(rho, "rho");
  positive(p_std, "P_std");
  if (!(sigma_max > sigma_min))
    throw ConfigError(fmt::format("diffusion: sigma_max ({}) must exceed sigma_min ({})", sigma_max, sigma_min));
  if (!std::isfinite(p_mean)) throw ConfigError("diffusion: P_mean must be finite");
}

at::Tensor broadcast_sigma(const at::Tensor& sigma, const at::Tensor& like) {
  if (sigma.dim() != 1 || like.dim() < 1 || sigma.size(0) != like.size(0))
    throw InternalError(fmt::format("diffusion: sigma must be [batch] matching dimension 0 of x ({} vs {} dims)",
                                    sigma.dim() == 1 ? sigma.size(0) : -1, like.dim()));
  std::vector<std::int64_t> shape(std::size_t(like.dim()), 1);
  shape[0] = sigma.size(0);
  return sigma.to(like.options()).reshape(shape);
}

at::Tensor precondition(const EdmSpec& e, const Network& f, const at::Tensor& x, const at::Tensor& sigma) {
  const auto s = broadcast_sigma(sigma, x);
  const auto out = f(c_in(e, s) * x, c_noise(e, sigma.to(x.options())));
  return c_skip(e, s) * x + c_out(e, s) * out;
}

Denoiser make_denoiser(const EdmSpec& e, Network f) {
  return [e, f = std::move(f)](const at::Tensor& x, double sigma) {
    if (!(sigma > 0)) throw InternalError(fmt::format("diffusion: denoiser called at sigma {}", sigma));
    const auto c_noise_t = at::full({x.size(0)}, c_noise(e, sigma), x.options());
    return c_skip(e, sigma) * x + c_out(e, sigma) * f(c_in(e, sigma) * x, c_noise_t);
  };
}

at::Tensor sample_training_sigma(const EdmSpec& e, std::int64_t batch, at::Generator& gen, at::ScalarType dtype) {
  const auto n = at::randn({batch}, gen, at::TensorOptions().dtype(dtype).device(at::kCPU));
  return at::exp(e.p_mean + e.p_std * n);
}

at::Tensor edm_loss(const EdmSpec& e, const Network& f, const at::Tensor& targets, const at::Tensor& sigma,
                    const at::Tensor& unit_noise, const at::Tensor& weights) {
  if (!unit_noise.sizes().equals(targets.sizes()))
    throw InternalError("diffusion: edm_loss noise and targets differ in shape");
  const auto s = broadcast_sigma(sigma, targets);
  const auto x = targets + s * unit_noise;
  const auto out = f(c_in(e, s) * x, c_noise(e, sigma.to(targets.options())));
  // Effective target of F (Karras eq. 8): (y - c_skip x) / c_out.
  const auto target_f = (targets - c_skip(e, s) * x) / c_out(e, s);
  const auto w = weights.to(targets.options()).expand_as(targets);
  return (w * (out - target_f).square()).sum() / w.sum();
}

}  // namespace gale::diffusion
