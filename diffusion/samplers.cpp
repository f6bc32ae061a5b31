#include "diffusion/samplers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"

namespace gale::diffusion {

void SamplerSpec::validate() const {
  if (steps < 1) throw ConfigError(fmt::format("diffusion sampler: steps must be >= 1, got {}", steps));
  if (!(s_churn >= 0) || !std::isfinite(s_churn))
    throw ConfigError(fmt::format("diffusion sampler: S_churn must be >= 0, got {}", s_churn));
  if (!(s_noise >= 0) || !std::isfinite(s_noise))
    throw ConfigError(fmt::format("diffusion sampler: S_noise must be >= 0, got {}", s_noise));
  if (!(s_tmin >= 0) || !(s_tmax >= s_tmin))
    throw ConfigError(fmt::format("diffusion sampler: need 0 <= S_tmin <= S_tmax, got {} and {}", s_tmin, s_tmax));
}

std::string to_string(SamplerKind kind) {
  switch (kind) {
    case SamplerKind::euler: return "euler";
    case SamplerKind::heun: return "heun";
    case SamplerKind::dpmpp_2s: return "dpmpp_2s";
  }
  return "?";
}

SamplerKind parse_sampler_kind(const std::string& name) {
  for (auto k : {SamplerKind::euler, SamplerKind::heun, SamplerKind::dpmpp_2s})
    if (to_string(k) == name) return k;
  throw ConfigError(fmt::format("diffusion sampler: unknown sampler '{}' (euler, heun, dpmpp_2s)", name));
}

int denoiser_evaluations(SamplerKind kind, int steps) {
  return kind == SamplerKind::euler ? steps : 2 * steps - 1;
}

std::vector<double> karras_sigmas(const EdmSpec& e, int steps) {
  e.validate();
  if (steps < 1) throw ConfigError(fmt::format("diffusion sampler: steps must be >= 1, got {}", steps));
  std::vector<double> sigmas(std::size_t(steps) + 1, 0.0);
  const double hi = std::pow(e.sigma_max, 1.0 / e.rho), lo = std::pow(e.sigma_min, 1.0 / e.rho);
  for (int i = 0; i < steps; ++i) {
    const double t = steps == 1 ? 0.0 : double(i) / double(steps - 1);
    sigmas[std::size_t(i)] = std::pow(hi + t * (lo - hi), e.rho);
  }
  sigmas.front() = e.sigma_max;  // exact endpoints, free of pow round-off
  if (steps > 1) sigmas[std::size_t(steps) - 1] = e.sigma_min;
  return sigmas;
}

std::vector<double> churn_gammas(const std::vector<double>& sigmas, const SamplerSpec& s) {
  s.validate();
  const std::size_t n = sigmas.empty() ? 0 : sigmas.size() - 1;
  const double gamma = std::min(s.s_churn / double(n == 0 ? 1 : n), std::sqrt(2.0) - 1.0);
  std::vector<double> gammas(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    if (sigmas[i] >= s.s_tmin && sigmas[i] <= s.s_tmax) gammas[i] = gamma;
  return gammas;
}

namespace {

enum class Order { euler, heun, dpmpp_2s };

at::Tensor run(Order order, const Denoiser& d, const at::Tensor& unit_noise, const EdmSpec& e, const SamplerSpec& s,
               const NoiseSource& churn_noise) {
  s.validate();
  const auto sigmas = karras_sigmas(e, s.steps);
  const auto gammas = churn_gammas(sigmas, s);
  if (!churn_noise && std::any_of(gammas.begin(), gammas.end(), [](double g) { return g > 0; }))
    throw InternalError("diffusion sampler: churn requested without a churn noise source");

  at::Tensor x = sigmas[0] * unit_noise;
  for (std::size_t i = 0; i + 1 < sigmas.size(); ++i) {
    const double sigma = sigmas[i], next = sigmas[i + 1];
    // Churn: raise the noise level to sigma_hat by adding fresh noise (Karras Alg. 2, l. 4-6).
    double hat = sigma;
    if (gammas[i] > 0) {
      hat = sigma * (1.0 + gammas[i]);
      const auto eps = churn_noise();
      if (!eps.sizes().equals(x.sizes())) throw InternalError("diffusion sampler: churn noise has the wrong shape");
      x = x + (s.s_noise * std::sqrt(std::max(hat * hat - sigma * sigma, 0.0))) * eps.to(x.options());
    }
    const auto d0 = d(x, hat);
    if (next == 0.0) {  // the last step: x - sigma^ (x - D)/sigma^ = D
      x = d0;
      break;
    }
    switch (order) {
      case Order::euler:
        x = d0 + (next / hat) * (x - d0);  // = x + (next - hat) (x - d0) / hat
        break;
      case Order::heun: {
        const auto slope = (x - d0) / hat;
        const auto euler = x + (next - hat) * slope;
        const auto slope2 = (euler - d(euler, next)) / next;
        x = x + (0.5 * (next - hat)) * (slope + slope2);
        break;
      }
      case Order::dpmpp_2s: {
        const double mid = std::sqrt(hat * next);  // midpoint in lambda = -ln sigma
        const auto u = d0 + (mid / hat) * (x - d0);
        const auto d1 = d(u, mid);
        x = d1 + (next / hat) * (x - d1);
        break;
      }
    }
  }
  return x;
}

}  // namespace

at::Tensor sample_euler(const Denoiser& d, const at::Tensor& unit_noise, const EdmSpec& e, const SamplerSpec& s,
                        const NoiseSource& churn_noise) {
  return run(Order::euler, d, unit_noise, e, s, churn_noise);
}

at::Tensor sample_heun(const Denoiser& d, const at::Tensor& unit_noise, const EdmSpec& e, const SamplerSpec& s,
                       const NoiseSource& churn_noise) {
  return run(Order::heun, d, unit_noise, e, s, churn_noise);
}

at::Tensor sample_dpmpp_2s(const Denoiser& d, const at::Tensor& unit_noise, const EdmSpec& e, const SamplerSpec& s,
                           const NoiseSource& churn_noise) {
  return run(Order::dpmpp_2s, d, unit_noise, e, s, churn_noise);
}

at::Tensor sample(SamplerKind kind, const Denoiser& d, const at::Tensor& unit_noise, const EdmSpec& e,
                  const SamplerSpec& s, const NoiseSource& churn_noise) {
  switch (kind) {
    case SamplerKind::euler: return sample_euler(d, unit_noise, e, s, churn_noise);
    case SamplerKind::heun: return sample_heun(d, unit_noise, e, s, churn_noise);
    case SamplerKind::dpmpp_2s: return sample_dpmpp_2s(d, unit_noise, e, s, churn_noise);
  }
  throw InternalError("diffusion sampler: unknown kind");
}

}  // namespace gale::diffusion
