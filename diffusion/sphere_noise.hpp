#pragma once
// Noise white on the sphere, drawn from keyed generators so that the same StepKey gives the
// same noise on any rank.
//
// Definition. Given per-point cell areas A_i (any units) on a grid or mesh, let
//   a_i = A_i / mean_j(A_j)                  (normalised area, mean 1 over the points)
// and draw
//   xi_i = z_i / sqrt(a_i),   z_i ~ N(0, 1) i.i.d.
// xi_i is the cell average of a Gaussian white-noise field W on the sphere whose covariance
// is E[W(A) W(B)] = |A n B| with areas measured in mean cells; equivalently:
//  (1) the quadrature integral over any set R of cells, I_R = sum_{i in R} a_i xi_i, is
//      N(0, sum_{i in R} a_i) = N(0, |R|): its variance is the region's area, wherever the
//      region lies (polar cap or equatorial band), as for a white-noise measure;
//  (2) the area-weighted mean square is 1 in expectation, E[sum_i a_i xi_i^2 / sum_i a_i] = 1,
//      so "noise level sigma" means an area-weighted RMS of sigma, as on an equal-area mesh;
//  (3) on an equal-area mesh (a_i = 1) it is plain i.i.d. N(0, 1) per point.
// Why: plain i.i.d. N(0, 1) per grid point is not white on the sphere on a lat-lon or
// Gaussian grid: rows crowd towards the poles, so a polar region holds more points and its
// regional mean gets less noise than an equatorial region of the same area; the noise level
// seen by the denoiser at a given spatial scale would depend on latitude. Scaling by
// 1/sqrt(a_i) removes that. Price: the per-point variance is 1/a_i, large in small polar cells
// (about 17 in the outermost row of an N32 Gaussian grid; ~10^3 at the poles of a 0.25 deg
// lat-lon grid), which the EDM preconditioning (designed for unit per-point noise) does not
// see; on the icosahedral mesh the areas are nearly equal and this is ~N(0, 1) per node.
// (GenCast's reference code instead draws band-limited isotropic noise in spherical
// harmonics with unit variance per point and the same power in every total wavenumber l, so
// per harmonic mode its power falls as 1/(2l+1): redder than this noise, which has the same
// power in every mode and so puts a smaller share of its variance at the large scales.)
//
// Reproducibility: noise is always drawn on the CPU from an at::Generator (mt19937) seeded
// from StepKey::hash() and a stream id, in the requested dtype, then moved to the requested
// device: the same key, stream, shape and dtype give bitwise the same noise on any rank,
// thread count or device. Note: LibTorch's mt19937 uses only 32 bits of its seed, so the
// 64-bit key hash is folded (high xor low) before seeding.
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "core/stepper.hpp"

namespace gale::diffusion {

// Independent random streams of one step (member, step): the initial noise of a sampler,
// the churn noise inside it, and the training draws (sigma and noise).
enum class NoiseStream : std::uint64_t { initial = 1, churn = 2, training_sigma = 3, training_noise = 4 };

// The seed of a stream: splitmix64 of key.hash() and the stream id, folded to 32 bits.
std::uint64_t noise_seed(const StepKey& key, NoiseStream stream);
// A fresh CPU generator seeded with noise_seed(key, stream).
at::Generator keyed_generator(const StepKey& key, NoiseStream stream);

// a_i = A_i / mean(A): area_weights positive and finite (throws InternalError otherwise).
at::Tensor normalised_areas(const at::Tensor& area_weights);

// Noise as defined above. `area_weights`: one positive value per point, shaped to broadcast
// against `shape` (e.g. [1, points, 1] for [batch, points, channels]); it is normalised to
// mean 1 over its own elements, so cell areas in m^2, steradians or latitude weights give
// the same noise. Drawn on the CPU from `gen` in options' dtype, then moved to its device.
at::Tensor sample_sphere_noise(at::IntArrayRef shape, const at::Tensor& area_weights, at::Generator& gen,
                               at::TensorOptions options = at::TensorOptions().dtype(at::kDouble));

// A source of successive unit-noise tensors (for a sampler's churn): each call returns the
// next draw of sample_sphere_noise from the shared generator.
using NoiseSource = std::function<at::Tensor()>;
NoiseSource sphere_noise_source(std::vector<std::int64_t> shape, at::Tensor area_weights, at::Generator gen,
                                at::TensorOptions options = at::TensorOptions().dtype(at::kDouble));

}  // namespace gale::diffusion
