#include "gnn/mesh_transformer.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <limits>

namespace gale {

MeshAttentionImpl::MeshAttentionImpl(std::int64_t latent, std::int64_t heads) : heads_(heads) {
  TORCH_CHECK(heads > 0 && latent % heads == 0, "mesh attention: latent ", latent,
              " is not divisible by ", heads, " heads");
  query = register_module("query", torch::nn::Linear(latent, latent));
  key = register_module("key", torch::nn::Linear(latent, latent));
  value = register_module("value", torch::nn::Linear(latent, latent));
  output = register_module("output", torch::nn::Linear(latent, latent));
}

at::Tensor MeshAttentionImpl::weights_from(const at::Tensor& q, const at::Tensor& k,
                                           const EdgeSet& pairs, const at::Tensor& bias) const {
  const auto B = q.size(0), E = pairs.size(), L = q.size(2), H = heads_;
  // Per pair and head: q_i . k_j / sqrt(d), i the receiver, j the sender.
  const auto products =
      gather_nodes(q, pairs.receivers) * gather_nodes(k, pairs.senders);  // [B, E, L]
  const auto score =
      products.view({B, E, H, L / H}).sum(-1) * (1 / std::sqrt(double(L / H))) + bias;
  // Softmax per receiver. Its maximum only keeps exp() in range (the result does not depend
  // on it), so it is taken without gradient; amax is exact in any order.
  at::Tensor shift;
  {
    at::NoGradGuard no_grad;
    const auto receivers = pairs.receivers.index.view({1, -1, 1}).expand({B, E, H});
    const auto max =
        at::full({B, pairs.receivers.nodes, H}, -std::numeric_limits<double>::infinity(),
                 score.options())
            .scatter_reduce(1, receivers, score.detach(), "amax", /*include_self=*/true);
    shift = max.index_select(1, pairs.receivers.index);
  }
  const auto w = at::exp(score - shift);
  return w / gather_nodes(sum_into_nodes(w, pairs.receivers), pairs.receivers);
}

at::Tensor MeshAttentionImpl::weights(const at::Tensor& h, const EdgeSet& pairs,
                                      const at::Tensor& bias) {
  return weights_from(query->forward(h), key->forward(h), pairs, bias);
}

at::Tensor MeshAttentionImpl::forward(const at::Tensor& h, const EdgeSet& pairs,
                                      const at::Tensor& bias) {
  const auto B = h.size(0), E = pairs.size(), L = h.size(2), H = heads_;
  const auto alpha = weights_from(query->forward(h), key->forward(h), pairs, bias);  // [B, E, H]
  const auto v = gather_nodes(value->forward(h), pairs.senders).view({B, E, H, L / H});
  const auto attended = sum_into_nodes((alpha.unsqueeze(-1) * v).view({B, E, L}), pairs.receivers);
  return output->forward(attended);
}

MeshTransformerBlockImpl::MeshTransformerBlockImpl(std::int64_t latent, std::int64_t heads,
                                                   std::int64_t conditioning) {
  attention_norm = register_module("attention_norm", ConditionalLayerNorm(latent, conditioning));
  attention = register_module("attention", MeshAttention(latent, heads));
  mlp_norm = register_module("mlp_norm", ConditionalLayerNorm(latent, conditioning));
  mlp_hidden = register_module("mlp_hidden", torch::nn::Linear(latent, latent));
  mlp_output = register_module("mlp_output", torch::nn::Linear(latent, latent));
}

at::Tensor MeshTransformerBlockImpl::forward(const at::Tensor& x, const EdgeSet& pairs,
                                             const at::Tensor& bias, const at::Tensor& condition) {
  const auto y = x + attention->forward(attention_norm->forward(x, condition), pairs, bias);
  return y + mlp_output->forward(at::silu(mlp_hidden->forward(mlp_norm->forward(y, condition))));
}

MeshTransformerImpl::MeshTransformerImpl(std::int64_t latent, std::int64_t layers,
                                         std::int64_t heads, std::int64_t conditioning)
    : latent_(latent), layers_(layers), heads_(heads) {
  position_hidden = register_module("position_hidden", torch::nn::Linear(4, kPositionHidden));
  position_output =
      register_module("position_output", torch::nn::Linear(kPositionHidden, layers * heads));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < layers; ++i)
    blocks->push_back(MeshTransformerBlock(latent, heads, conditioning));
}

std::vector<at::Tensor> MeshTransformerImpl::position_biases(const at::Tensor& pair_features) {
  const auto all = position_output->forward(
      at::silu(position_hidden->forward(pair_features)));  // [E, layers x heads]
  return all.split(heads_, 1);
}

at::Tensor MeshTransformerImpl::forward(const at::Tensor& x, const EdgeSet& pairs,
                                        const at::Tensor& condition,
                                        std::vector<at::Tensor> biases) {
  if (biases.empty()) biases = position_biases(pairs.features);
  TORCH_CHECK(std::int64_t(biases.size()) == layers_,
              "mesh transformer: one position bias per block");
  auto h = x;
  for (std::int64_t i = 0; i < layers_; ++i)
    h = (*blocks)[std::size_t(i)]->as<MeshTransformerBlockImpl>()->forward(
        h, pairs, biases[std::size_t(i)], condition);
  return h;
}

double MeshTransformerImpl::flops(double nodes, double pairs) const {
  const double L = double(latent_);
  const double dense = 2 * nodes * L * L * (4 + 2);  // q, k, v, output; two MLP layers
  const double attention = 2 * pairs * L * 2;        // scores and the weighted sum of values
  return double(layers_) * (dense + attention);
}

}  // namespace gale
