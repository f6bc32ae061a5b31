#include "gnn/graph_network.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/linear.h>

#include "grids/grid_mesh_graph.hpp"
#include "grids/icosahedral_mesh.hpp"
#include "grids/mesh_neighbourhoods.hpp"

namespace gale {

namespace {
at::Tensor as_tensor(const std::vector<float>& values, std::int64_t columns) {
  return at::tensor(values, at::kFloat).reshape({-1, columns});
}
EdgeSet edge_set(const std::vector<std::uint32_t>& senders, std::int64_t sender_nodes,
                 const std::vector<std::uint32_t>& receivers, std::int64_t receiver_nodes,
                 const std::vector<float>& features) {
  return {make_incidence(senders, sender_nodes), make_incidence(receivers, receiver_nodes), as_tensor(features, 4)};
}
}  // namespace

MeshGraphs build_mesh_graphs(const Grid& grid, const GraphNetworkSpec& spec) {
  const MultiMesh mesh = build_multimesh(spec.mesh_level);
  const auto grid_xyz = grid_points_xyz(grid);
  const auto& mesh_xyz = mesh.finest.vertices;
  MeshGraphs g;
  g.grid_nodes = std::int64_t(grid.size());
  g.mesh_nodes = std::int64_t(mesh.nodes());
  g.mesh_node_features = as_tensor(mesh.node_features(), 3);
  const auto encoder = grid_to_mesh_graph(grid_xyz, mesh, spec.radius_factor);
  g.grid_to_mesh = edge_set(encoder.senders, g.grid_nodes, encoder.receivers, g.mesh_nodes,
                            encoder.edge_features(grid_xyz, mesh_xyz));
  g.mesh = edge_set(mesh.edges.senders, g.mesh_nodes, mesh.edges.receivers, g.mesh_nodes, mesh.edge_features());
  if (spec.transformer()) {
    const auto pairs = mesh_neighbourhoods(mesh.nodes(), mesh_edges(mesh.finest), spec.attention_hops);
    g.neighbourhood = edge_set(pairs.senders, g.mesh_nodes, pairs.receivers, g.mesh_nodes, pairs.pair_features(mesh_xyz));
  }
  const auto decoder = mesh_to_grid_graph(locate_in_mesh(mesh, grid_xyz));
  g.mesh_to_grid = edge_set(decoder.senders, g.mesh_nodes, decoder.receivers, g.grid_nodes,
                            decoder.edge_features(mesh_xyz, grid_xyz));
  return g;
}

MlpImpl::MlpImpl(std::int64_t in, std::int64_t hidden, std::int64_t out, bool layer_norm, std::int64_t conditioning) {
  first = register_module("first", torch::nn::Linear(in, hidden));
  second = register_module("second", torch::nn::Linear(hidden, out));
  if (layer_norm) norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({out})));
  if (layer_norm && conditioning > 0) condition_map = register_module(kConditionMapModule, identity_condition_map(conditioning, out));
}

at::Tensor MlpImpl::finish(const at::Tensor& preactivation, const at::Tensor& condition) {
  auto y = second->forward(at::silu(preactivation));
  if (!norm) return y;
  return conditional_layer_norm(y, norm, condition_map, condition);  // gnn/conditional_norm.cpp
}

InteractionImpl::InteractionImpl(std::int64_t latent, std::int64_t conditioning) : latent_(latent) {
  edge_mlp = register_module("edge_mlp", Mlp(3 * latent, latent, latent, true, conditioning));
  node_mlp = register_module("node_mlp", Mlp(2 * latent, latent, latent, true, conditioning));
}

at::Tensor InteractionImpl::edge_term(const at::Tensor& edges) const {
  return torch::nn::functional::linear(edges, edge_mlp->first->weight.narrow(1, 0, latent_), edge_mlp->first->bias);
}

std::pair<at::Tensor, at::Tensor> InteractionImpl::forward(const at::Tensor& edges, const at::Tensor& senders,
                                                           const at::Tensor& receivers, const EdgeSet& graph,
                                                           const at::Tensor& precomputed_edge_term,
                                                           const at::Tensor& condition) {
  namespace F = torch::nn::functional;
  const auto L = latent_;
  // The first layer of the edge MLP on [edge, sender, receiver] is split into its three
  // blocks: the node blocks act on the nodes before gathering (there are far fewer nodes
  // than edges), which is the same function at a fraction of the multiply-adds.
  const auto& w = edge_mlp->first->weight;
  auto pre = (precomputed_edge_term.defined() ? precomputed_edge_term : edge_term(edges)) +
             gather_nodes(F::linear(senders, w.narrow(1, L, L)), graph.senders) +
             gather_nodes(F::linear(receivers, w.narrow(1, 2 * L, L)), graph.receivers);
  auto new_edges = edges + edge_mlp->finish(pre, condition);
  const auto incoming = sum_into_nodes(new_edges, graph.receivers);
  const auto& wn = node_mlp->first->weight;
  auto node_pre = F::linear(receivers, wn.narrow(1, 0, L), node_mlp->first->bias) + F::linear(incoming, wn.narrow(1, L, L));
  return {new_edges, receivers + node_mlp->finish(node_pre, condition)};
}

GraphNetworkImpl::GraphNetworkImpl(const GraphNetworkSpec& spec, const Grid& grid, std::int64_t in_channels,
                                   std::int64_t out_channels)
    : spec_(spec), graphs_(build_mesh_graphs(grid, spec)) {
  TORCH_CHECK(spec.processor == "gnn" || spec.transformer(), "unknown processor '", spec.processor, "'");
  const std::int64_t L = spec.latent, C = spec.conditioning;
  grid_embed = register_module("grid_embed", Mlp(in_channels, L, L, true, C));
  mesh_embed = register_module("mesh_embed", Mlp(3, L, L, true));
  grid_to_mesh_embed = register_module("grid_to_mesh_embed", Mlp(4, L, L, true));
  // Registered in the same order as before the transformer existed: a GNN's parameters (and
  // their random initialisation) are unchanged.
  if (!spec.transformer()) mesh_edge_embed = register_module("mesh_edge_embed", Mlp(4, L, L, true));
  mesh_to_grid_embed = register_module("mesh_to_grid_embed", Mlp(4, L, L, true));
  encoder = register_module("encoder", Interaction(L, C));
  grid_update = register_module("grid_update", Mlp(L, L, L, true, C));
  if (spec.transformer()) {
    transformer = register_module("transformer", MeshTransformer(L, spec.layers, spec.heads, C));
  } else {
    processor = register_module("processor", torch::nn::ModuleList());
    for (int i = 0; i < spec.layers; ++i) processor->push_back(Interaction(L, C));
  }
  decoder = register_module("decoder", Interaction(L, C));
  output = register_module("output", Mlp(L, L, out_channels, false));
}

void GraphNetworkImpl::to_device(const at::Device& device) {
  to(device);
  graphs_.mesh_node_features = graphs_.mesh_node_features.to(device);
  graphs_.grid_to_mesh = graphs_.grid_to_mesh.to(device);
  graphs_.mesh = graphs_.mesh.to(device);
  graphs_.mesh_to_grid = graphs_.mesh_to_grid.to(device);
  if (spec_.transformer()) graphs_.neighbourhood = graphs_.neighbourhood.to(device);
}

std::int64_t GraphNetworkImpl::weights_version() const {
  std::int64_t version = 0;
  for (const auto& p : parameters()) version += std::int64_t(p._version());
  return version;
}

GraphNetworkImpl::StaticLatents GraphNetworkImpl::static_latents() {
  const bool reusable = !at::GradMode::is_enabled();
  if (reusable && cache_.version == weights_version() && cache_.mesh_nodes.defined()) return cache_;
  StaticLatents s;
  s.mesh_nodes = mesh_embed->forward(graphs_.mesh_node_features);
  s.grid_to_mesh = grid_to_mesh_embed->forward(graphs_.grid_to_mesh.features);
  s.mesh_to_grid = mesh_to_grid_embed->forward(graphs_.mesh_to_grid.features);
  s.encoder_term = encoder->edge_term(s.grid_to_mesh);
  if (spec_.transformer()) {
    s.attention_biases = transformer->position_biases(graphs_.neighbourhood.features);
  } else {
    s.mesh = mesh_edge_embed->forward(graphs_.mesh.features);
    s.processor_term = (*processor)[0]->as<InteractionImpl>()->edge_term(s.mesh);
  }
  s.decoder_term = decoder->edge_term(s.mesh_to_grid);
  if (reusable) {
    s.version = weights_version();
    cache_ = s;
  } else {
    cache_ = {};  // weights are about to change: do not keep tensors tied to the graph
  }
  return s;
}

at::Tensor GraphNetworkImpl::forward(const at::Tensor& x, const at::Tensor& condition) {
  const auto batch = x.size(0);
  TORCH_CHECK(spec_.conditioning == 0 || (condition.defined() && condition.sizes() == at::IntArrayRef({batch, spec_.conditioning})),
              "the graph network is conditioned: forward needs a conditioning tensor [", batch, ", ",
              spec_.conditioning, "]");
  const auto& c = spec_.conditioning > 0 ? condition : at::Tensor();
  const auto s = static_latents();
  auto grid = grid_embed->forward(x, c);
  auto mesh = s.mesh_nodes.unsqueeze(0).expand({batch, -1, -1});
  // Encoder: grid -> mesh.
  auto mesh_latent = encoder->forward(s.grid_to_mesh, grid, mesh, graphs_.grid_to_mesh, s.encoder_term, c).second;
  grid = grid + grid_update->forward(grid, c);
  mesh_latent = process(mesh_latent, s, c);
  // Decoder: mesh -> grid.
  auto grid_latent = decoder->forward(s.mesh_to_grid, mesh_latent, grid, graphs_.mesh_to_grid, s.decoder_term, c).second;
  return output->forward(grid_latent);
}

at::Tensor GraphNetworkImpl::process(const at::Tensor& mesh_latent, const StaticLatents& s, const at::Tensor& c) {
  if (spec_.transformer()) return transformer->forward(mesh_latent, graphs_.neighbourhood, c, s.attention_biases);
  // The GNN on the multi-mesh.
  auto edges = s.mesh, nodes = mesh_latent;
  bool first = true;
  for (const auto& layer : *processor) {
    auto [e, m] = layer->as<InteractionImpl>()->forward(edges, nodes, nodes, graphs_.mesh,
                                                         first ? s.processor_term : at::Tensor(), c);
    edges = e;
    nodes = m;
    first = false;
  }
  return nodes;
}

double GraphNetworkImpl::processor_flops() const {
  if (spec_.transformer()) return transformer->flops(double(graphs_.mesh_nodes), double(graphs_.neighbourhood.size()));
  const double L = spec_.latent, E = double(graphs_.mesh.size()), M = double(graphs_.mesh_nodes);
  // Edge MLP: split first layer (edge block on E, two node blocks on M), second layer on E.
  const double edge = 2 * E * L * L + 2 * 2 * M * L * L + 2 * E * L * L;
  // Node MLP: first layer 2L -> L on M, second layer on M.
  const double node = 2 * M * 2 * L * L + 2 * M * L * L;
  return spec_.layers * (edge + node);
}

}  // namespace gale
