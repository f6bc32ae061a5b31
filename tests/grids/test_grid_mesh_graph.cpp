#include <catch2/catch.hpp>

#include <algorithm>

#include "grids/grid_mesh_graph.hpp"

using namespace gale;

namespace {
std::shared_ptr<const Grid> latlon(double step) {
  std::vector<double> lats, lons;
  for (int j = 0; j <= int(180 / step); ++j) lats.push_back(90 - step * j);
  for (int i = 0; i < int(360 / step); ++i) lons.push_back(step * i);
  return Grid::regular(GridKind::regular_ll, lats, lons);
}
}  // namespace

TEST_CASE("every grid point has encoder edges and exactly three decoder edges") {
  const auto mesh = build_multimesh(4);
  const auto grid = latlon(2.5);  // includes both poles and the 0/360 meridian
  const auto xyz = grid_points_xyz(*grid);
  const auto g2m = grid_to_mesh_graph(xyz, mesh);
  std::vector<int> per_point(grid->size(), 0);
  for (const auto s : g2m.senders) ++per_point[s];
  CHECK(*std::min_element(per_point.begin(), per_point.end()) >= 1);
  // Every edge is within the radius.
  const double radius = 0.6 * mesh.max_finest_edge_length;
  for (std::size_t e = 0; e < g2m.size(); ++e)
    REQUIRE(norm(xyz[g2m.senders[e]] - mesh.finest.vertices[g2m.receivers[e]]) <= radius * (1 + 1e-12));

  const auto location = locate_in_mesh(mesh, xyz);
  const auto m2g = mesh_to_grid_graph(location);
  CHECK(m2g.size() == 3 * grid->size());
  for (std::size_t p = 0; p < grid->size(); ++p) {
    const auto& w = location.weights[p];
    REQUIRE(w[0] + w[1] + w[2] == Approx(1).epsilon(1e-12));
    REQUIRE(std::min({w[0], w[1], w[2]}) >= 0);
    // The barycentric combination of the vertices points back at the grid point.
    Vec3 q{0, 0, 0};
    for (int v = 0; v < 3; ++v) q = q + w[v] * mesh.finest.vertices[location.vertices[p][v]];
    REQUIRE(norm(normalised(q) - xyz[p]) < 1e-9);
  }
}

TEST_CASE("a larger radius factor gives more encoder edges") {
  const auto mesh = build_multimesh(2);
  const auto xyz = grid_points_xyz(*latlon(10));
  CHECK(grid_to_mesh_graph(xyz, mesh, 1.2).size() > grid_to_mesh_graph(xyz, mesh, 0.6).size());
  REQUIRE_THROWS_WITH(grid_to_mesh_graph(xyz, mesh, -1), Catch::Contains("radius factor"));
}
