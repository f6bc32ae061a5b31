#pragma once
// GraphCast's encoder-processor-decoder on the icosahedral multi-mesh:
//   encoder    grid -> mesh: embed grid nodes, mesh nodes and edges, one interaction
//              network over the grid->mesh edges (grid latents then updated by an MLP);
//   processor  `layers` interaction networks over the multi-mesh edges (unshared weights),
//              or with spec.processor "transformer" GenCast's `layers` transformer blocks
//              with attention over k-hop neighbourhoods of the finest mesh
//              (gnn/mesh_transformer.hpp);
//   decoder    mesh -> grid: one interaction network over the mesh->grid edges, then an
//              MLP to the output channels.
// Every MLP is Linear -> swish -> Linear (-> LayerNorm except the output), every update is
// residual. The network knows only normalised tensors [batch, grid point, channel].
//
// Conditioning (spec.conditioning > 0, e.g. the noise vector of the FGN generator): every
// LayerNorm of the per-sample blocks (grid embedding, encoder, grid update, processor,
// decoder) is followed by a per-block affine map from the conditioning vector c [batch, C]
// (gnn/conditional_norm.hpp):
//   y <- y * (1 + W_s c + b_s) + (W_t c + b_t),
// with W, b zero-initialised (identity at the start). The embedders of the constant graph
// features (mesh nodes, edges) are not conditioned, so their latents stay shared by all
// members and cached. With conditioning 0 the modules and parameters are exactly the
// deterministic network's (its checkpoints load unchanged).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <memory>

#include <string>

#include "core/grid.hpp"
#include "gnn/conditional_norm.hpp"
#include "gnn/mesh_transformer.hpp"
#include "gnn/message_passing.hpp"

namespace gale {

struct GraphNetworkSpec {
  int mesh_level = 3;          // finest icosahedral refinement (M3: 642 nodes)
  int latent = 64;             // width of every latent and hidden layer
  int layers = 6;              // processor message-passing steps
  double radius_factor = 0.6;  // grid->mesh radius, in finest-mesh edge lengths
  int conditioning = 0;        // size of the conditioning vector (0: none, deterministic)
  std::string processor = "gnn";  // "gnn" (interaction networks) or "transformer"
  static constexpr int kMaxAttentionHops = 32;  // training and checkpoint loading accept 1..this
  int attention_hops = 2;         // transformer: each mesh node attends to nodes within k hops
  int heads = 4;                  // transformer: attention heads (latent divisible by heads)
  bool transformer() const { return processor == "transformer"; }
};

// The three graphs between a grid and the multi-mesh, with their static features.
struct MeshGraphs {
  std::int64_t grid_nodes = 0, mesh_nodes = 0;
  at::Tensor mesh_node_features;  // [mesh nodes, 3]
  EdgeSet grid_to_mesh, mesh, mesh_to_grid;
  // Transformer processor only: the k-hop pairs of the finest mesh (grids/mesh_neighbourhoods.hpp).
  EdgeSet neighbourhood;
};
MeshGraphs build_mesh_graphs(const Grid& grid, const GraphNetworkSpec& spec);

class MlpImpl : public torch::nn::Module {
 public:
  // conditioning > 0 (with layer_norm): a conditional LayerNorm, see the file comment.
  MlpImpl(std::int64_t in, std::int64_t hidden, std::int64_t out, bool layer_norm, std::int64_t conditioning = 0);
  // x [..., in]; condition [B, C] for x [B, ..., in] (required iff the MLP is conditioned).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& condition = {}) {
    return finish(first->forward(x), condition);
  }
  // The rest of the MLP after its first linear layer (whose pre-activation a caller
  // may assemble piecewise, see InteractionImpl).
  at::Tensor finish(const at::Tensor& preactivation, const at::Tensor& condition = {});
  torch::nn::Linear first{nullptr}, second{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear condition_map{nullptr};  // C -> 2 out: (scale - 1, shift); absent when unconditioned
};
TORCH_MODULE(Mlp);

// One message-passing step: edges <- edges + MLP([edge, sender, receiver]), then
// receivers <- receivers + MLP([receiver, sum of incoming edges]).
class InteractionImpl : public torch::nn::Module {
 public:
  explicit InteractionImpl(std::int64_t latent, std::int64_t conditioning = 0);
  // edges [E, L] or [B, E, L]; senders [B, Ns, L]; receivers [B, Nr, L]. `edge_term`, when
  // given, is edge_term(edges) computed before (constant edges at inference); `condition`
  // [B, C] when the block is conditioned. Returns the updated edges and receivers.
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& edges, const at::Tensor& senders,
                                            const at::Tensor& receivers, const EdgeSet& graph,
                                            const at::Tensor& edge_term = {}, const at::Tensor& condition = {});
  // The edge block of the edge MLP's first layer, with its bias: [.., E, L].
  at::Tensor edge_term(const at::Tensor& edges) const;
  Mlp edge_mlp{nullptr}, node_mlp{nullptr};

 private:
  std::int64_t latent_;
};
TORCH_MODULE(Interaction);

class GraphNetworkImpl : public torch::nn::Module {
 public:
  GraphNetworkImpl(const GraphNetworkSpec& spec, const Grid& grid, std::int64_t in_channels,
                   std::int64_t out_channels);
  // x [B, grid points, in_channels] -> [B, grid points, out_channels]; `condition`
  // [B, spec.conditioning] is required iff spec.conditioning > 0.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& condition = {});
  // Moves parameters and graphs.
  void to_device(const at::Device& device);

  const MeshGraphs& graphs() const { return graphs_; }
  const GraphNetworkSpec& spec() const { return spec_; }
  // Multiply-adds x 2 of one processor pass for a batch of one (the dense layers only).
  double processor_flops() const;

  Mlp grid_embed{nullptr}, mesh_embed{nullptr}, grid_to_mesh_embed{nullptr}, mesh_edge_embed{nullptr},
      mesh_to_grid_embed{nullptr}, grid_update{nullptr}, output{nullptr};
  Interaction encoder{nullptr}, decoder{nullptr};
  torch::nn::ModuleList processor{nullptr};  // the GNN processor's Interactions (spec.processor "gnn")
  MeshTransformer transformer{nullptr};      // or the transformer processor (mesh_edge_embed then absent)

 private:
  // Everything computed from the constant graph features alone: the embedded mesh nodes
  // and edges, the first interactions' edge terms and the transformer's position biases
  // (one per block). Reused while no gradient is taken
  // and the weights are unchanged (their version counters), recomputed otherwise.
  struct StaticLatents {
    std::int64_t version = -1;
    at::Tensor mesh_nodes, grid_to_mesh, mesh, mesh_to_grid, encoder_term, processor_term, decoder_term;
    std::vector<at::Tensor> attention_biases;
  };
  StaticLatents static_latents();
  at::Tensor process(const at::Tensor& mesh_latent, const StaticLatents& s, const at::Tensor& condition);
  std::int64_t weights_version() const;

  GraphNetworkSpec spec_;
  MeshGraphs graphs_;
  StaticLatents cache_;
};
TORCH_MODULE(GraphNetwork);

}  // namespace gale
