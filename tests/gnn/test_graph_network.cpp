// The encoder-processor-decoder: graph connectivity (every grid point reaches the mesh and
// is reached from it), the shape of every block's output, gradients reaching every
// parameter, and the split first layer equal to the concatenated MLP it stands for.
#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>

#include "gnn/forecaster.hpp"
#include "gnn/forcings.hpp"
#include "grids/gaussian.hpp"
#include "tests/gnn/gnn_fixtures.hpp"

// After LibTorch's headers: c10 defines its own CHECK, which Catch must override.
#include <catch2/catch.hpp>

using namespace gale;
using gale::test::small_grid;

namespace {
at::Tensor counts(const NodeIncidence& inc) {
  return inc.offsets.slice(0, 1) - inc.offsets.slice(0, 0, inc.nodes);
}
}  // namespace

TEST_CASE("mesh graphs connect every grid point both ways") {
  const auto grid = small_grid();
  const auto g = build_mesh_graphs(*grid, {2, 16, 2, 0.6});
  CHECK(g.grid_nodes == 512);
  CHECK(g.mesh_nodes == 162);
  CHECK(g.mesh_node_features.sizes() == at::IntArrayRef({162, 3}));
  // Decoder: exactly the three vertices of the containing face for every grid point.
  CHECK(at::all(counts(g.mesh_to_grid.receivers) == 3).item<bool>());
  // Encoder: every grid point sends to at least one mesh node, every mesh node receives.
  CHECK(at::all(counts(g.grid_to_mesh.senders) >= 1).item<bool>());
  CHECK(at::all(counts(g.grid_to_mesh.receivers) >= 1).item<bool>());
  // Multi-mesh: every node has the 5 or 6 neighbours of the finest level at least.
  CHECK(at::all(counts(g.mesh.receivers) >= 5).item<bool>());
  for (const auto* e : {&g.grid_to_mesh, &g.mesh, &g.mesh_to_grid}) {
    CHECK(e->features.size(0) == e->size());
    CHECK(e->features.size(1) == 4);
    CHECK(e->features.select(1, 0).max().item<float>() == Approx(1.0f).epsilon(1e-6));  // normalised lengths
  }
}

TEST_CASE("every block keeps its shape and the output has one channel per variable") {
  at::manual_seed(1);
  const auto grid = small_grid();
  GraphNetwork net(GraphNetworkSpec{2, 16, 2, 0.6}, *grid, 11, 4);
  const auto x = at::randn({3, 512, 11});
  const auto latent = net->grid_embed->forward(x);
  CHECK(latent.sizes() == at::IntArrayRef({3, 512, 16}));
  const auto& g = net->graphs();
  const auto mesh = net->mesh_embed->forward(g.mesh_node_features).unsqueeze(0).expand({3, -1, -1});
  auto [edges, mesh_latent] = net->encoder->forward(net->grid_to_mesh_embed->forward(g.grid_to_mesh.features), latent,
                                                    mesh, g.grid_to_mesh);
  CHECK(edges.sizes() == at::IntArrayRef({3, g.grid_to_mesh.size(), 16}));
  CHECK(mesh_latent.sizes() == at::IntArrayRef({3, 162, 16}));
  CHECK(net->forward(x).sizes() == at::IntArrayRef({3, 512, 4}));
  // Batch elements are independent: the forward of one sample alone equals its row.
  CHECK(at::allclose(net->forward(x.slice(0, 1, 2)), net->forward(x).slice(0, 1, 2), 1e-5, 1e-5));
}

TEST_CASE("the split first layer equals the MLP on concatenated edge, sender and receiver") {
  at::manual_seed(2);
  const auto grid = small_grid();
  const auto g = build_mesh_graphs(*grid, {1, 8, 1, 0.6});
  Interaction block(8);
  const auto edges = at::randn({g.mesh.size(), 8});
  const auto nodes = at::randn({2, g.mesh_nodes, 8});
  auto [new_edges, new_nodes] = block->forward(edges, nodes, nodes, g.mesh);
  const auto s = nodes.index_select(1, g.mesh.senders.index), r = nodes.index_select(1, g.mesh.receivers.index);
  const auto expected_edges = edges + block->edge_mlp->forward(at::cat({edges.unsqueeze(0).expand({2, -1, -1}), s, r}, 2));
  CHECK(at::allclose(new_edges, expected_edges, 1e-5, 1e-5));
  const auto incoming = at::zeros_like(nodes).index_add(1, g.mesh.receivers.index, expected_edges);
  CHECK(at::allclose(new_nodes, nodes + block->node_mlp->forward(at::cat({nodes, incoming}, 2)), 1e-5, 1e-5));
}

TEST_CASE("gradients reach every parameter of the forecaster") {
  at::manual_seed(4);
  const auto grid = small_grid();
  std::vector<Variable> vars;
  for (const char* k : {"z500", "u500", "v500", "t500"}) vars.push_back(parse_variable_key(k));
  Forecaster model(ForecasterSpec{vars, std::chrono::hours(6), {2, 16, 2, 0.6}, std::nullopt, {}}, grid,
                   NormalisationStats{{5e4, 0, 0, 250}, {3e3, 10, 10, 10}, {300, 3, 3, 1}});
  CHECK(ForecasterImpl::input_channels(4) == 8 + kStaticFeatures + 3 * kTimeForcings);
  const auto previous = at::randn({2, 4, 512}) * 10 + 5e4, current = previous + at::randn({2, 4, 512});
  const TimePoint t = parse_iso8601("2001-03-01T06");
  const auto next = model->forward(previous, current, {t, t + std::chrono::hours(6)});
  CHECK(next.sizes() == at::IntArrayRef({2, 4, 512}));
  next.pow(2).mean().backward();
  int checked = 0;
  for (const auto& p : model->named_parameters()) {
    INFO(p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(p.value().grad().abs().sum().item<double>() > 0);
    ++checked;
  }
  CHECK(checked > 40);
}

TEST_CASE("time forcings: insolation follows the sun") {
  // 2001-06-21 12 UTC: the sun is near overhead at 23.4 N, 0 E and below the horizon at 180 E.
  const TimePoint t = parse_iso8601("2001-06-21T12");
  CHECK(toa_insolation(23.44, 0, t) == Approx(kSolarConstant * 0.967).epsilon(0.01));  // aphelion: 3% less
  CHECK(toa_insolation(23.44, 180, t) == 0.0);
  CHECK(toa_insolation(-89, 0, t) == 0.0);  // polar night
  CHECK(toa_insolation(89, 0, t) > 400);    // polar day
}
