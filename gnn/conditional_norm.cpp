#include "gnn/conditional_norm.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <vector>

namespace gale {

bool is_conditioning_map(const std::string& parameter_name) {
  return parameter_name.find(std::string(".") + kConditionMapModule + ".") != std::string::npos;
}

torch::nn::Linear identity_condition_map(std::int64_t conditioning, std::int64_t width) {
  torch::nn::Linear map(conditioning, 2 * width);
  at::NoGradGuard no_grad;  // identity at the start: scale 1, shift 0
  map->weight.zero_();
  map->bias.zero_();
  return map;
}

at::Tensor conditional_layer_norm(const at::Tensor& y, torch::nn::LayerNorm norm,
                                  torch::nn::Linear condition_map, const at::Tensor& condition) {
  if (!condition_map) return norm->forward(y);
  TORCH_CHECK(
      condition.defined() && condition.dim() == 2 && condition.size(0) == y.size(0),
      "a conditioned LayerNorm needs a conditioning tensor [batch, C] matching its input's batch");
  const auto parts =
      condition_map->forward(condition).chunk(2, 1);  // (scale - 1, shift), [B, width] each
  const auto& options = norm->options;
  if (y.size(0) == 1) {
    // One sample (a member's forecast step): fold the conditioning into the LayerNorm's own
    // affine, (LN(y) g + b)(1 + s) + t = LN(y) [g (1 + s)] + [b (1 + s) + t], so the
    // conditioned block costs no pass over its points or edges beyond the plain LayerNorm.
    const auto scale = parts[0].reshape({-1}) + 1;
    return at::layer_norm(y, options.normalized_shape(), norm->weight * scale,
                          at::addcmul(parts[1].reshape({-1}), norm->bias, scale), options.eps());
  }
  // A batch (training): per-sample affine, [B, 2 width] -> [B, 1, ..., 1, width] broadcast
  // over the point/edge dimensions.
  std::vector<std::int64_t> shape(std::size_t(y.dim()), 1);
  shape.front() = y.size(0);
  shape.back() = y.size(-1);
  return norm->forward(y) * (parts[0] + 1).view(shape) + parts[1].view(shape);
}

ConditionalLayerNormImpl::ConditionalLayerNormImpl(std::int64_t width, std::int64_t conditioning) {
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  if (conditioning > 0)
    condition_map = register_module(kConditionMapModule, identity_condition_map(conditioning, width));
}

}  // namespace gale
