// k-hop mesh neighbourhoods (the mesh transformer's attention pattern): one hop is the mesh
// neighbours plus the node itself, every pair lies within k hops and the pattern is
// symmetric, and the counts follow the icosahedral mesh (12 pentagon vertices).
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "grids/icosahedral_mesh.hpp"
#include "grids/mesh_neighbourhoods.hpp"

using namespace gale;

namespace {
using Pair = std::pair<std::uint32_t, std::uint32_t>;  // (sender, receiver)
std::set<Pair> pairs(const Neighbourhoods& n) {
  std::set<Pair> out;
  for (std::size_t e = 0; e < n.size(); ++e) out.insert({n.senders[e], n.receivers[e]});
  return out;
}
std::set<Pair> edge_pairs(const EdgeList& edges) {
  std::set<Pair> out;
  for (std::size_t e = 0; e < edges.size(); ++e) out.insert({edges.senders[e], edges.receivers[e]});
  return out;
}
std::map<std::uint32_t, int> receiver_counts(const Neighbourhoods& n) {
  std::map<std::uint32_t, int> out;
  for (const auto r : n.receivers) ++out[r];
  return out;
}
}  // namespace

TEST_CASE("one hop is each node's mesh neighbours plus itself") {
  const auto mesh = mesh_hierarchy(3).back();
  const auto edges = mesh_edges(mesh);
  const auto n = mesh_neighbourhoods(mesh.vertices.size(), edges, 1);
  auto expected = edge_pairs(edges);
  for (std::uint32_t i = 0; i < mesh.vertices.size(); ++i) expected.insert({i, i});
  CHECK(pairs(n) == expected);
  CHECK(n.size() == expected.size());  // no duplicates
  for (std::size_t e = 0; e < n.size(); ++e)
    REQUIRE(int(n.hops[e]) == (n.senders[e] == n.receivers[e] ? 0 : 1));
  // Zero hops: the node alone.
  CHECK(mesh_neighbourhoods(mesh.vertices.size(), edges, 0).size() == mesh.vertices.size());
}

TEST_CASE("two hops: within two edges, symmetric, sorted by receiver, icosahedral counts") {
  const auto mesh = mesh_hierarchy(2).back();
  const auto edges = mesh_edges(mesh);
  const auto n = mesh_neighbourhoods(mesh.vertices.size(), edges, 2);
  const auto one_hop = edge_pairs(edges);
  const auto all = pairs(n);
  CHECK(all.size() == n.size());
  for (std::size_t e = 0; e < n.size(); ++e) {
    const auto j = n.senders[e], i = n.receivers[e];
    INFO(j << " -> " << i);
    REQUIRE(all.count({i, j}) == 1);  // symmetric
    if (e > 0) REQUIRE(Pair{n.receivers[e - 1], n.senders[e - 1]} < Pair{i, j});
    // Within two hops: itself, a neighbour, or a neighbour of a neighbour.
    bool within = i == j || one_hop.count({j, i});
    for (std::uint32_t m = 0; !within && m < mesh.vertices.size(); ++m)
      within = one_hop.count({j, m}) && one_hop.count({m, i});
    REQUIRE(within);
    REQUIRE(int(n.hops[e]) == (i == j ? 0 : one_hop.count({j, i}) ? 1 : 2));
  }
  // Two-hop counts on a triangulated sphere: a vertex of the icosahedron (the first 12,
  // pentagons with 5 neighbours) reaches 1 + 5 + 10 nodes; a hexagon 1 + 6 + 12, one fewer
  // when a pentagon is its neighbour (the missing wedge of the pentagon shortens its second
  // ring). Level 2 puts pentagons 4 edges apart, so no node sees two of them that close.
  const auto counts = receiver_counts(n);
  const auto one = receiver_counts(mesh_neighbourhoods(mesh.vertices.size(), edges, 1));
  for (std::uint32_t i = 0; i < mesh.vertices.size(); ++i) {
    INFO("node " << i);
    const bool pentagon = i < 12;
    bool next_to_pentagon = false;
    for (std::uint32_t p = 0; p < 12; ++p)
      next_to_pentagon = next_to_pentagon || one_hop.count({p, i});
    CHECK(one.at(i) == (pentagon ? 6 : 7));
    CHECK(counts.at(i) == (pentagon ? 16 : next_to_pentagon ? 18 : 19));
  }
}

TEST_CASE("pair features: zero for the node itself, unit longest pair, lengths grow with hops") {
  const auto mesh = mesh_hierarchy(2).back();
  const auto n = mesh_neighbourhoods(mesh.vertices.size(), mesh_edges(mesh), 2);
  const auto f = n.pair_features(mesh.vertices);
  REQUIRE(f.size() == 4 * n.size());
  float longest = 0, longest_one_hop = 0, shortest_two_hop = 10;
  for (std::size_t e = 0; e < n.size(); ++e) {
    const float length = f[4 * e];
    longest = std::max(longest, length);
    if (n.hops[e] == 0)
      for (int k = 0; k < 4; ++k) REQUIRE(f[4 * e + k] == 0.0f);
    if (n.hops[e] == 1) longest_one_hop = std::max(longest_one_hop, length);
    if (n.hops[e] == 2) shortest_two_hop = std::min(shortest_two_hop, length);
    // The displacement's norm is the length (the receiver-frame rotation keeps lengths).
    const double d2 = double(f[4 * e + 1]) * f[4 * e + 1] + double(f[4 * e + 2]) * f[4 * e + 2] +
                      double(f[4 * e + 3]) * f[4 * e + 3];
    REQUIRE(std::sqrt(d2) == Approx(length).margin(1e-6));
  }
  CHECK(longest == Approx(1.0f).epsilon(1e-6));
  CHECK(longest_one_hop < 1.0f);
  CHECK(shortest_two_hop > 0.0f);
}
