#include "grids/grid_mesh_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"
#include "grids/spatial_index.hpp"

namespace gale {

std::vector<Vec3> grid_points_xyz(const Grid& grid) {
  std::vector<Vec3> xyz(grid.size());
#pragma omp parallel for schedule(static)
  for (std::size_t p = 0; p < grid.size(); ++p) xyz[p] = lat_lon_to_xyz(grid.lat()[p], grid.lon()[p]);
  return xyz;
}

namespace {
// Barycentric weights of p (projected along the ray onto the plane of abc) in abc, and
// whether p lies inside the spherical triangle (with a tolerance for edges and vertices).
bool barycentric(const Vec3& a, const Vec3& b, const Vec3& c, const Vec3& p,
                 std::array<double, 3>& w) {
  const Vec3 n = cross(b - a, c - a);
  const double np = dot(n, p);
  if (np <= 0) return false;  // the opposite hemisphere
  const Vec3 q = (dot(n, a) / np) * p;
  const double area = dot(n, n);
  w[0] = dot(cross(c - b, q - b), n) / area;
  w[1] = dot(cross(a - c, q - c), n) / area;
  w[2] = 1 - w[0] - w[1];
  constexpr double eps = -1e-12;
  return w[0] >= eps && w[1] >= eps && w[2] >= eps;
}
}  // namespace

MeshLocation locate_in_mesh(const MultiMesh& mesh, const std::vector<Vec3>& points) {
  const auto& m = mesh.finest;
  std::vector<Vec3> centroids(m.faces.size());
  for (std::size_t f = 0; f < m.faces.size(); ++f)
    centroids[f] = normalised(m.vertices[m.faces[f][0]] + m.vertices[m.faces[f][1]] + m.vertices[m.faces[f][2]]);
  const PointIndex faces(std::move(centroids));
  MeshLocation loc;
  loc.face.resize(points.size());
  loc.vertices.resize(points.size());
  loc.weights.resize(points.size());
  bool all_found = true;
#pragma omp parallel for schedule(dynamic, 4096)
  for (std::size_t p = 0; p < points.size(); ++p) {
    // The containing face is among the few whose centroids are nearest; widen if not.
    bool found = false;
    for (std::size_t k = 4; k <= 64 && !found; k *= 4) {
      for (const auto f : faces.nearest(points[p], k)) {
        const auto& v = m.faces[f];
        std::array<double, 3> w{};
        if (barycentric(m.vertices[v[0]], m.vertices[v[1]], m.vertices[v[2]], points[p], w)) {
          // Clamp the tolerance band to exact non-negative weights summing to 1.
          for (auto& x : w) x = std::max(0.0, x);
          const double s = w[0] + w[1] + w[2];
          loc.face[p] = f;
          loc.vertices[p] = v;
          loc.weights[p] = {w[0] / s, w[1] / s, w[2] / s};
          found = true;
          break;
        }
      }
    }
    if (!found) {
#pragma omp atomic write
      all_found = false;
    }
  }
  if (!all_found) throw InternalError("locate_in_mesh: a point lies in no mesh face");
  return loc;
}

BipartiteGraph grid_to_mesh_graph(const std::vector<Vec3>& grid_xyz, const MultiMesh& mesh,
                                  double radius_factor) {
  if (!(radius_factor > 0 && radius_factor < 10))
    throw UserError(fmt::format("grid-to-mesh radius factor {} is outside (0, 10)", radius_factor));
  const PointIndex nodes(mesh.finest.vertices);
  const double radius = radius_factor * mesh.max_finest_edge_length;
  std::vector<std::vector<std::uint32_t>> per_point(grid_xyz.size());
#pragma omp parallel for schedule(dynamic, 4096)
  for (std::size_t p = 0; p < grid_xyz.size(); ++p) {
    per_point[p] = nodes.within(grid_xyz[p], radius);
    std::sort(per_point[p].begin(), per_point[p].end());
  }
  BipartiteGraph g;
  std::size_t total = 0;
  for (const auto& v : per_point) total += v.size();
  g.senders.reserve(total);
  g.receivers.reserve(total);
  for (std::size_t p = 0; p < per_point.size(); ++p)
    for (const auto n : per_point[p]) {
      g.senders.push_back(std::uint32_t(p));
      g.receivers.push_back(n);
    }
  return g;
}

BipartiteGraph mesh_to_grid_graph(const MeshLocation& location) {
  BipartiteGraph g;
  g.senders.reserve(location.vertices.size() * 3);
  g.receivers.reserve(location.vertices.size() * 3);
  for (std::size_t p = 0; p < location.vertices.size(); ++p)
    for (const auto v : location.vertices[p]) {
      g.senders.push_back(v);
      g.receivers.push_back(std::uint32_t(p));
    }
  return g;
}

std::vector<float> BipartiteGraph::edge_features(const std::vector<Vec3>& sender_xyz,
                                                 const std::vector<Vec3>& receiver_xyz) const {
  return relative_position_features(senders, sender_xyz, receivers, receiver_xyz);
}

}  // namespace gale
