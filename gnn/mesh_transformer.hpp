#pragma once
// GenCast's processor: pre-LayerNorm transformer blocks over the nodes of the finest
// icosahedral mesh, each node attending only to the nodes within k hops of it (itself
// included). Per block, with x [B, mesh nodes, L]:
//   x <- x + Attention(LN(x)),   x <- x + W2 swish(W1 LN(x)),
// where both LayerNorms are conditional (gnn/conditional_norm.hpp) when conditioning > 0,
// so FGN noise and the diffusion noise level reach the processor as they reach the GNN's.
//
// Attention over the k-hop pairs (sender j -> receiver i, an EdgeSet), per head h:
//   score(i, j) = q_i . k_j / sqrt(d_head) + b_h(i, j),   weight = softmax over j per i,
// with b the learned bias of the pair's static relative position (length and displacement
// in the receiver's frame, as the mesh edge features): without it attention is blind to
// direction. The pairs live on the edges, so gathers and sums use the deterministic
// gather_nodes / sum_into_nodes (bit-reproducible results and gradients).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include <vector>

#include "gnn/conditional_norm.hpp"
#include "gnn/message_passing.hpp"

namespace gale {

// Multi-head attention restricted to the pairs of an EdgeSet (without LayerNorm or residual).
class MeshAttentionImpl : public torch::nn::Module {
 public:
  MeshAttentionImpl(std::int64_t latent, std::int64_t heads);
  // h [B, N, L]; bias [E, heads] (the pairs' position bias). Returns the attention weight
  // of every pair, [B, E, heads]: over each receiver's pairs they sum to 1.
  at::Tensor weights(const at::Tensor& h, const EdgeSet& pairs, const at::Tensor& bias);
  // h [B, N, L] -> [B, N, L]: the output projection of each receiver's attended values.
  at::Tensor forward(const at::Tensor& h, const EdgeSet& pairs, const at::Tensor& bias);
  std::int64_t heads() const { return heads_; }
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, output{nullptr};

 private:
  at::Tensor weights_from(const at::Tensor& q, const at::Tensor& k, const EdgeSet& pairs,
                          const at::Tensor& bias) const;
  std::int64_t heads_;
};
TORCH_MODULE(MeshAttention);

class MeshTransformerBlockImpl : public torch::nn::Module {
 public:
  MeshTransformerBlockImpl(std::int64_t latent, std::int64_t heads, std::int64_t conditioning);
  // x [B, N, L]; bias [E, heads]; condition [B, C] iff conditioned.
  at::Tensor forward(const at::Tensor& x, const EdgeSet& pairs, const at::Tensor& bias,
                     const at::Tensor& condition = {});
  ConditionalLayerNorm attention_norm{nullptr}, mlp_norm{nullptr};
  MeshAttention attention{nullptr};
  torch::nn::Linear mlp_hidden{nullptr}, mlp_output{nullptr};
};
TORCH_MODULE(MeshTransformerBlock);

class MeshTransformerImpl : public torch::nn::Module {
 public:
  // latent divisible by heads.
  MeshTransformerImpl(std::int64_t latent, std::int64_t layers, std::int64_t heads,
                      std::int64_t conditioning);
  // Every block's position bias from the pairs' static features [E, 4]: one [E, heads] per
  // block. Constant at inference, so the graph network caches them (static_latents).
  std::vector<at::Tensor> position_biases(const at::Tensor& pair_features);
  // x [B, N, L] -> [B, N, L]; `biases` from position_biases(pairs.features) (computed here
  // when empty); condition [B, C] iff conditioned.
  at::Tensor forward(const at::Tensor& x, const EdgeSet& pairs, const at::Tensor& condition = {},
                     std::vector<at::Tensor> biases = {});
  // Multiply-adds x 2 of one pass for a batch of one over `nodes` nodes and `pairs` pairs
  // (dense layers and the attention products; not the cached position bias).
  double flops(double nodes, double pairs) const;

  // One small MLP from the pair features to every block's per-head bias: a hidden layer of
  // kPositionHidden (not latent) wide, since there are ~20 pairs per node at k = 2.
  static constexpr std::int64_t kPositionHidden = 32;
  torch::nn::Linear position_hidden{nullptr}, position_output{nullptr};
  torch::nn::ModuleList blocks{nullptr};

 private:
  std::int64_t latent_, layers_, heads_;
};
TORCH_MODULE(MeshTransformer);

}  // namespace gale
