#pragma once
// EDM ("Elucidating the Design Space of Diffusion-Based Generative Models", Karras, Aittala,
// Aila, Laine, NeurIPS 2022; arXiv:2206.00364): preconditioning, the preconditioned
// denoiser, training noise levels and the EDM loss. Independent of the network: the raw
// network F is a callback (the GNN/transformer denoiser plugs in later).
//
// Conventions (all in one place):
//  - the diffusion is "variance exploding" with unit scale: x_sigma = y + sigma * n, where y
//    is the clean target (for Gale: the normalised target residual) and n is *unit* noise,
//    in Gale noise white on the sphere (sphere_noise.hpp), i.i.d. N(0, 1) per point on an
//    equal-area mesh;
//  - tensors carry the batch in dimension 0 (e.g. [batch, points, channels]); per-example
//    noise levels are a 1-D tensor sigma of shape [batch], broadcast over the other
//    dimensions; the sampler side uses one double sigma for the whole batch;
//  - the raw network F(x_in, c_noise) gets x_in = c_in(sigma) * x (same shape as x) and
//    c_noise = ln(sigma) / 4 as a 1-D tensor of shape [batch]; it returns a tensor of x's
//    shape.
#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <functional>

namespace gale::diffusion {

struct EdmSpec {
  double sigma_data = 1.0;  // standard deviation of the (normalised) data, sigma_d
  // Sampling schedule (Karras eq. 5, see samplers.hpp): sigma_max down to sigma_min, then 0.
  double sigma_min = 0.03;
  double sigma_max = 80.0;
  double rho = 7.0;
  // Training noise levels: ln(sigma) ~ N(P_mean, P_std^2) (Karras Table 1, "EDM" column).
  double p_mean = -1.2;
  double p_std = 1.2;
  void validate() const;  // throws ConfigError on non-positive or inconsistent values
};

// The raw network F(c_in x, c_noise) (Karras eq. 7).
using Network = std::function<at::Tensor(const at::Tensor& x_in, const at::Tensor& c_noise)>;
// A preconditioned denoiser D(x, sigma) ~ E[y | x_sigma = x]; what the samplers call.
using Denoiser = std::function<at::Tensor(const at::Tensor& x, double sigma)>;

// Preconditioning (Karras Table 1, "EDM" column; derivation in their Appendix B.6):
//   c_skip(s)  = sd^2 / (s^2 + sd^2)
//   c_out(s)   = s * sd / sqrt(s^2 + sd^2)
//   c_in(s)    = 1 / sqrt(s^2 + sd^2)
//   c_noise(s) = ln(s) / 4
//   lambda(s)  = (s^2 + sd^2) / (s * sd)^2          (loss weight)
// Identities they satisfy (tested in tests/diffusion/test_edm.cpp):
//   c_in^2 (s^2 + sd^2) = 1                       the network input has unit variance
//   ((1 - c_skip)^2 sd^2 + c_skip^2 s^2) / c_out^2 = 1
//                                                 the effective training target
//                                                 (y - c_skip x)/c_out has unit variance
//   c_skip + c_out^2 / sd^2 = 1
//   lambda * c_out^2 = 1                          the loss weight makes the effective
//                                                 target's loss unit-weighted
// Templates so that they apply to doubles and to tensors alike (ADL finds at::sqrt/at::log).
template <class T>
T c_skip(const EdmSpec& e, const T& sigma) {
  const double sd2 = e.sigma_data * e.sigma_data;
  return sd2 / (sigma * sigma + sd2);
}
template <class T>
T c_out(const EdmSpec& e, const T& sigma) {
  using std::sqrt;
  return sigma * e.sigma_data / sqrt(sigma * sigma + e.sigma_data * e.sigma_data);
}
template <class T>
T c_in(const EdmSpec& e, const T& sigma) {
  using std::sqrt;
  return 1.0 / sqrt(sigma * sigma + e.sigma_data * e.sigma_data);
}
template <class T>
T c_noise(const EdmSpec&, const T& sigma) {
  using std::log;
  return log(sigma) / 4.0;
}
template <class T>
T loss_weight(const EdmSpec& e, const T& sigma) {
  return (sigma * sigma + e.sigma_data * e.sigma_data) /
         (sigma * sigma * (e.sigma_data * e.sigma_data));
}

// sigma ([batch]) reshaped to [batch, 1, ..., 1] so that it broadcasts against `like`.
at::Tensor broadcast_sigma(const at::Tensor& sigma, const at::Tensor& like);

// The preconditioned denoiser (Karras eq. 7):
//   D(x, s) = c_skip(s) x + c_out(s) F(c_in(s) x, c_noise(s))
// sigma: [batch] (one noise level per example), positive.
at::Tensor precondition(const EdmSpec& e, const Network& f, const at::Tensor& x, const at::Tensor& sigma);
// The same as a Denoiser for the samplers: one sigma for the whole batch.
Denoiser make_denoiser(const EdmSpec& e, Network f);

// Training noise levels: sigma = exp(P_mean + P_std * n), n ~ N(0, 1), shape [batch], drawn
// on the CPU from `gen` (see sphere_noise.hpp for keyed generators) in `dtype`.
at::Tensor sample_training_sigma(const EdmSpec& e, std::int64_t batch, at::Generator& gen,
                                 at::ScalarType dtype = at::kDouble);

// The EDM loss (Karras eq. 2 and 8) of one batch:
//   x = y + sigma n,   L = sum_i w_i lambda(sigma) (D(x, sigma) - y)_i^2 / sum_i w_i
// where the sums run over every element (batch, points, channels) and w is `weights`
// broadcast to y's shape: pass area weights as [1, points, 1] for an area-weighted mean
// over points (and a plain mean over batch and channels), or [1, points, channels] to add
// per-variable weights. Computed in the equivalent, better-conditioned form of eq. 8,
//   lambda (D - y)^2 = (F(c_in x, c_noise) - (y - c_skip x) / c_out)^2,
// since lambda c_out^2 = 1 (no 1/sigma^2 blow-up at small sigma).
// targets y: [batch, ...]; sigma: [batch]; unit_noise n: y's shape (sphere noise);
// weights: non-negative, broadcastable to y, not all zero.
at::Tensor edm_loss(const EdmSpec& e, const Network& f, const at::Tensor& targets, const at::Tensor& sigma,
                    const at::Tensor& unit_noise, const at::Tensor& weights);

}  // namespace gale::diffusion
