#pragma once
// Samplers of the EDM reverse process (probability-flow ODE dx/dsigma = (x - D(x, sigma)) /
// sigma, Karras et al. 2022 eq. 1/3 with sigma(t) = t, s(t) = 1), optionally with stochastic
// "churn". All take the preconditioned denoiser D(x, sigma) and *unit* initial noise n
// (e.g. sample_sphere_noise with NoiseStream::initial) and start from x_0 = sigma_0 * n.
//
// Noise levels (Karras eq. 5), i = 0 .. N-1, then sigma_N = 0:
//   sigma_i = (sigma_max^(1/rho) + i/(N-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho
// (N = 1: sigma_0 = sigma_max).
//
// Churn (Karras Algorithm 2, lines 4-6; the same in GenCast's DPM-Solver++ sampler): before
// step i, if S_tmin <= sigma_i <= S_tmax,
//   gamma_i = min(S_churn / N, sqrt(2) - 1),  sigma^_i = sigma_i (1 + gamma_i),
//   x^_i = x_i + S_noise sqrt(sigma^_i^2 - sigma_i^2) eps,   eps = unit (sphere) noise,
// otherwise gamma_i = 0, x^_i = x_i. S_noise > 1 ("noise inflation") adds more noise than
// the denoiser is told about, to offset L2-trained denoisers' tendency to over-smooth;
// with an exact denoiser it inflates the sample variance. Steps then go sigma^_i -> sigma_{i+1}.
//
// Euler (first order; Karras Algorithm 2 without the correction, = DDIM):
//   d = (x^ - D(x^, sigma^)) / sigma^,   x_{i+1} = x^ + (sigma_{i+1} - sigma^) d
// Heun (second order; Karras Algorithm 2): the Euler step, then unless sigma_{i+1} = 0
//   d' = (x_{i+1} - D(x_{i+1}, sigma_{i+1})) / sigma_{i+1},
//   x_{i+1} = x^ + (sigma_{i+1} - sigma^) (d + d') / 2          (2 evaluations per step)
// DPM-Solver++(2S) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of
// Diffusion Probabilistic Models", arXiv:2211.01095, Algorithm 1 with r = 1/2, data
// prediction; in EDM's parameterisation alpha = 1, lambda = -ln sigma): with the midpoint
// in lambda, sigma_s = sqrt(sigma^ sigma_{i+1}),
//   D0 = D(x^, sigma^),   u = D0 + (sigma_s / sigma^) (x^ - D0),   D1 = D(u, sigma_s),
//   x_{i+1} = D1 + (sigma_{i+1} / sigma^) (x^ - D1)
// (the general 2S update x_{i+1} = (sigma_{i+1}/sigma^) x^ + (1 - sigma_{i+1}/sigma^)
// ((1 - 1/(2r)) D0 + 1/(2r) D1) at r = 1/2); the last step (sigma_{i+1} = 0, h infinite) is
// the first-order x_N = D0. This is GenCast's sampler (Price et al. 2024, 20 steps).
// On every sampler the last step sigma_{N-1} -> 0 returns D(x^, sigma^).
//
// The samplers do not disable autograd; call them under at::NoGradGuard for inference.
#include <ATen/ATen.h>

#include <limits>
#include <string>
#include <vector>

#include "diffusion/edm.hpp"
#include "diffusion/sphere_noise.hpp"

namespace gale::diffusion {

struct SamplerSpec {
  int steps = 20;  // N: noise levels before the final 0 (denoiser calls: N, 2N - 1, 2N - 1)
  double s_churn = 0.0;  // total churn; 0: deterministic (the probability-flow ODE)
  double s_tmin = 0.0;   // churn only at S_tmin <= sigma_i <= S_tmax
  double s_tmax = std::numeric_limits<double>::infinity();
  double s_noise = 1.0;  // noise inflation of the churn noise
  void validate() const;  // throws ConfigError
};

enum class SamplerKind { euler, heun, dpmpp_2s };
std::string to_string(SamplerKind kind);       // "euler", "heun", "dpmpp_2s"
SamplerKind parse_sampler_kind(const std::string& name);  // throws ConfigError

// Denoiser calls of one sample with `steps` noise levels: N (euler), 2N - 1 (heun, dpmpp_2s).
int denoiser_evaluations(SamplerKind kind, int steps);

// sigma_0 .. sigma_{N-1} (eq. 5) and sigma_N = 0: steps + 1 values, strictly decreasing.
std::vector<double> karras_sigmas(const EdmSpec& e, int steps);
// gamma_0 .. gamma_{N-1} for `sigmas` (as returned by karras_sigmas).
std::vector<double> churn_gammas(const std::vector<double>& sigmas, const SamplerSpec& s);

// Each returns the sample x_N. unit_noise: the initial noise (x_0 = sigma_0 unit_noise);
// churn_noise: unit noise of the same shape, called once per churned step; needed only when
// some gamma_i > 0 (throws InternalError if missing then).
at::Tensor sample_euler(const Denoiser& d, const at::Tensor& unit_noise, const EdmSpec& e, const SamplerSpec& s,
                        const NoiseSource& churn_noise = {});
at::Tensor sample_heun(const Denoiser& d, const at::Tensor& unit_noise, const EdmSpec& e, const SamplerSpec& s,
                       const NoiseSource& churn_noise = {});
at::Tensor sample_dpmpp_2s(const Denoiser& d, const at::Tensor& unit_noise, const EdmSpec& e, const SamplerSpec& s,
                           const NoiseSource& churn_noise = {});
at::Tensor sample(SamplerKind kind, const Denoiser& d, const at::Tensor& unit_noise, const EdmSpec& e,
                  const SamplerSpec& s, const NoiseSource& churn_noise = {});

}  // namespace gale::diffusion
