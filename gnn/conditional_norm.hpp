#pragma once
// Conditional LayerNorm, shared by the MLPs of the graph network and the mesh transformer:
// LayerNorm followed by a per-sample affine map from a conditioning vector c [batch, C]
// (the FGN noise, or the diffusion noise-level embedding),
//   y <- LN(y) * (1 + W_s c + b_s) + (W_t c + b_t),
// with W, b zero-initialised, so a conditioned block starts as the plain one, bit for bit.
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cstdint>
#include <string>

namespace gale {

// The submodule name of every conditioning map (in Mlp and ConditionalLayerNorm), so the
// trainer can tell the maps' parameters from the backbone's.
inline constexpr const char* kConditionMapModule = "condition";

// Whether a parameter, by its module path, belongs to a conditioning map.
bool is_conditioning_map(const std::string& parameter_name);

// The zero-initialised map C -> 2 width: (scale - 1, shift).
torch::nn::Linear identity_condition_map(std::int64_t conditioning, std::int64_t width);

// norm(y), then the affine from `condition` [B, C] for y [B, ..., width] when
// `condition_map` is set (`condition` is then required); y [..., width].
at::Tensor conditional_layer_norm(const at::Tensor& y, torch::nn::LayerNorm norm,
                                  torch::nn::Linear condition_map, const at::Tensor& condition);

// A LayerNorm over the last dimension, conditioned when conditioning > 0 (submodules
// "norm" and "condition", as in Mlp).
class ConditionalLayerNormImpl : public torch::nn::Module {
 public:
  ConditionalLayerNormImpl(std::int64_t width, std::int64_t conditioning);
  at::Tensor forward(const at::Tensor& y, const at::Tensor& condition = {}) {
    return conditional_layer_norm(y, norm, condition_map, condition);
  }
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear condition_map{nullptr};  // absent when unconditioned
};
TORCH_MODULE(ConditionalLayerNorm);

}  // namespace gale
