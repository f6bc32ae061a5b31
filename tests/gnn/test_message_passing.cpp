// Deterministic gather / segment-sum: values and gradients equal LibTorch's index_select /
// index_add_ reference, and repeated runs give identical bits.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <random>

#include "gnn/message_passing.hpp"

// After LibTorch's headers: c10 defines its own CHECK, which Catch must override.
#include <catch2/catch.hpp>

using namespace gale;

namespace {
std::vector<std::uint32_t> random_index(std::size_t edges, std::uint32_t nodes, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint32_t> index(edges);
  for (auto& i : index) i = rng() % nodes;
  index[0] = nodes - 1;  // the last node is used; node 0 may have no edge at all
  return index;
}
}  // namespace

TEST_CASE("segment sum and gather equal index_add_ and index_select, with gradients") {
  at::manual_seed(3);
  const std::int64_t nodes = 37, edges = 211, batch = 3, width = 5;
  const auto inc = make_incidence(random_index(edges, nodes, 1), nodes);
  REQUIRE(inc.offsets[nodes].item<std::int64_t>() == edges);

  auto x = at::randn({batch, edges, width}, at::kDouble).requires_grad_(true);
  auto y = sum_into_nodes(x, inc);
  auto reference = at::zeros({batch, nodes, width}, at::kDouble).index_add(1, inc.index, x);
  CHECK(at::allclose(y, reference, 1e-12, 1e-12));

  auto h = at::randn({batch, nodes, width}, at::kDouble).requires_grad_(true);
  auto g = gather_nodes(h, inc);
  CHECK(at::equal(g, h.index_select(1, inc.index)));

  // Gradients of a scalar function through both ops equal the reference ops' gradients.
  const auto w1 = at::randn({batch, nodes, width}, at::kDouble), w2 = at::randn({batch, edges, width}, at::kDouble);
  const auto ours = torch::autograd::grad({(sum_into_nodes(x, inc) * w1).sum() + (gather_nodes(h, inc) * w2).sum()},
                                          {x, h});
  const auto refs = torch::autograd::grad({(at::zeros_like(reference).index_add(1, inc.index, x) * w1).sum() +
                                           (h.index_select(1, inc.index) * w2).sum()},
                                          {x, h});
  CHECK(at::allclose(ours[0], refs[0], 1e-12, 1e-12));
  CHECK(at::allclose(ours[1], refs[1], 1e-12, 1e-12));
}

TEST_CASE("the float segment sum is bitwise reproducible and sums in edge order") {
  const std::int64_t nodes = 500, edges = 20000;
  const auto inc = make_incidence(random_index(std::size_t(edges), nodes, 2), nodes);
  at::manual_seed(5);
  const auto x = at::randn({2, edges, 64});
  const auto a = sum_into_nodes(x, inc), b = sum_into_nodes(x, inc);
  CHECK(at::equal(a, b));
  // The sum of a node equals the sequential float sum over its edges in ascending order.
  const auto order = inc.order.accessor<std::int64_t, 1>();
  const auto offsets = inc.offsets.accessor<std::int64_t, 1>();
  const std::int64_t n = 7;
  float expected = 0;
  for (auto k = offsets[n]; k < offsets[n + 1]; ++k) expected += x[1][order[k]][3].item<float>();
  CHECK(a[1][n][3].item<float>() == expected);
}
