#include "diffusion/sphere_noise.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include "core/errors.hpp"

namespace gale::diffusion {

std::uint64_t noise_seed(const StepKey& key, NoiseStream stream) {
  auto mix = [](std::uint64_t x) {  // splitmix64 finaliser, as in StepKey::hash
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  const std::uint64_t h = mix(key.hash() ^ mix(static_cast<std::uint64_t>(stream)));
  return (h ^ (h >> 32)) & 0xffffffffULL;  // at::mt19937 keeps only the low 32 bits
}

at::Generator keyed_generator(const StepKey& key, NoiseStream stream) {
  return at::make_generator<at::CPUGeneratorImpl>(noise_seed(key, stream));
}

at::Tensor normalised_areas(const at::Tensor& area_weights) {
  const auto a = area_weights.to(at::kDouble);
  if (a.numel() == 0 || !at::isfinite(a).all().item<bool>() || !(a > 0).all().item<bool>())
    throw InternalError("diffusion: sphere noise needs positive, finite area weights");
  return a / a.mean();
}

at::Tensor sample_sphere_noise(at::IntArrayRef shape, const at::Tensor& area_weights, at::Generator& gen,
                               at::TensorOptions options) {
  const auto cpu = options.device(at::kCPU);
  const auto scale = at::rsqrt(normalised_areas(area_weights)).to(cpu);
  auto z = at::randn(shape, gen, cpu);
  if (!z.sizes().equals(at::infer_size(scale.sizes(), z.sizes())))  // throws if not broadcastable
    throw InternalError(c10::str("diffusion: area weights ", scale.sizes(), " do not broadcast to noise shape ", shape));
  return (z * scale).to(options.device());
}

NoiseSource sphere_noise_source(std::vector<std::int64_t> shape, at::Tensor area_weights, at::Generator gen,
                                at::TensorOptions options) {
  return [shape = std::move(shape), w = std::move(area_weights), gen, options]() mutable {
    return sample_sphere_noise(shape, w, gen, options);
  };
}

}  // namespace gale::diffusion
