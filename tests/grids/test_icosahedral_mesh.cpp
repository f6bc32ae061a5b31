#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <set>

#include "grids/icosahedral_mesh.hpp"

using namespace gale;

TEST_CASE("refinement follows the recurrence: 10*4^k+2 nodes, 20*4^k faces, 30*4^k edges") {
  const auto levels = mesh_hierarchy(5);
  for (int k = 0; k <= 5; ++k) {
    const auto& m = levels[k];
    const std::size_t p = std::size_t(1) << (2 * k);
    CHECK(m.vertices.size() == 10 * p + 2);
    CHECK(m.faces.size() == 20 * p);
    CHECK(mesh_edges(m).size() == 2 * 30 * p);  // directed, both ways
  }
}

TEST_CASE("unit norms, outward counter-clockwise faces, stable vertex prefix") {
  const auto levels = mesh_hierarchy(4);
  for (const auto& m : levels) {
    for (const auto& v : m.vertices) REQUIRE(std::abs(norm(v) - 1) < 1e-12);
    for (const auto& f : m.faces) {
      const auto &a = m.vertices[f[0]], &b = m.vertices[f[1]], &c = m.vertices[f[2]];
      REQUIRE(dot(cross(b - a, c - a), a + b + c) > 0);
    }
  }
  for (std::size_t i = 0; i < levels[3].vertices.size(); ++i)
    REQUIRE(levels[3].vertices[i] == levels[4].vertices[i]);
}

TEST_CASE("multi-mesh: union of every level's edges, symmetric, with GraphCast features") {
  const auto mm = build_multimesh(3);
  std::size_t expected = 0;
  for (int k = 0; k <= 3; ++k) expected += 60 * (std::size_t(1) << (2 * k));
  CHECK(mm.edges.size() == expected);  // levels share no edge: coarse edges are longer
  std::set<std::pair<std::uint32_t, std::uint32_t>> edges;
  for (std::size_t e = 0; e < mm.edges.size(); ++e) edges.insert({mm.edges.senders[e], mm.edges.receivers[e]});
  for (const auto& [s, r] : edges) REQUIRE(edges.count({r, s}) == 1);

  const auto features = mm.edge_features();
  REQUIRE(features.size() == 4 * mm.edges.size());
  float longest = 0;
  for (std::size_t e = 0; e < mm.edges.size(); ++e) {
    const float len = features[4 * e];
    const float d = std::sqrt(features[4 * e + 1] * features[4 * e + 1] +
                              features[4 * e + 2] * features[4 * e + 2] +
                              features[4 * e + 3] * features[4 * e + 3]);
    REQUIRE(len == Approx(d).epsilon(1e-5));
    longest = std::max(longest, len);
  }
  CHECK(longest == Approx(1.0f));
  const auto nodes = mm.node_features();
  REQUIRE(nodes.size() == 3 * mm.nodes());
  for (std::size_t i = 0; i < mm.nodes(); ++i)
    REQUIRE(nodes[3 * i + 1] * nodes[3 * i + 1] + nodes[3 * i + 2] * nodes[3 * i + 2] == Approx(1).epsilon(1e-6));
}

TEST_CASE("receiver frame: the receiver maps to (1,0,0)") {
  const Vec3 r = lat_lon_to_xyz(35, 120), s = lat_lon_to_xyz(36, 121);
  const auto d = displacement_in_receiver_frame(s, r);
  CHECK(norm(d) == Approx(norm(s - r)).epsilon(1e-12));
  // Sender north-east of the receiver: +y (east) and +z (north) in the local frame.
  CHECK(d[1] > 0);
  CHECK(d[2] > 0);
  CHECK(std::abs(displacement_in_receiver_frame(r, r)[0]) < 1e-15);
}

TEST_CASE("node areas sum to the sphere's 4 pi") {
  for (int k : {0, 2, 5}) {
    const auto levels = mesh_hierarchy(k);
    const auto a = node_areas(levels.back());
    CHECK(std::accumulate(a.begin(), a.end(), 0.0) == Approx(4 * M_PI).epsilon(1e-12));
  }
  CHECK(spherical_triangle_area({1, 0, 0}, {0, 1, 0}, {0, 0, 1}) == Approx(M_PI / 2).epsilon(1e-14));
}
