#include "grids/icosahedral_mesh.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "core/errors.hpp"

namespace gale {

TriangularMesh icosahedron() {
  const double phi = (1 + std::sqrt(5.0)) / 2;
  TriangularMesh m;
  const Vec3 raw[12] = {{-1, phi, 0}, {1, phi, 0},  {-1, -phi, 0}, {1, -phi, 0},
                        {0, -1, phi}, {0, 1, phi},  {0, -1, -phi}, {0, 1, -phi},
                        {phi, 0, -1}, {phi, 0, 1},  {-phi, 0, -1}, {-phi, 0, 1}};
  for (const auto& v : raw) m.vertices.push_back(normalised(v));
  m.faces = {{0, 11, 5}, {0, 5, 1},  {0, 1, 7},   {0, 7, 10}, {0, 10, 11}, {1, 5, 9}, {5, 11, 4},
             {11, 10, 2}, {10, 7, 6}, {7, 1, 8},   {3, 9, 4},  {3, 4, 2},   {3, 2, 6}, {3, 6, 8},
             {3, 8, 9},  {4, 9, 5},  {2, 4, 11},  {6, 2, 10}, {8, 6, 7},   {9, 8, 1}};
  // Make every face counter-clockwise seen from outside.
  for (auto& f : m.faces) {
    const auto &a = m.vertices[f[0]], &b = m.vertices[f[1]], &c = m.vertices[f[2]];
    if (dot(cross(b - a, c - a), a + b + c) < 0) std::swap(f[1], f[2]);
  }
  return m;
}

TriangularMesh refine(const TriangularMesh& mesh) {
  TriangularMesh out;
  out.vertices = mesh.vertices;
  out.faces.reserve(mesh.faces.size() * 4);
  std::unordered_map<std::uint64_t, std::uint32_t> midpoint_of;
  midpoint_of.reserve(mesh.faces.size() * 2);
  auto midpoint = [&](std::uint32_t a, std::uint32_t b) {
    const std::uint64_t key = (std::uint64_t(std::min(a, b)) << 32) | std::max(a, b);
    const auto [it, inserted] = midpoint_of.try_emplace(key, std::uint32_t(out.vertices.size()));
    if (inserted) out.vertices.push_back(normalised(out.vertices[a] + out.vertices[b]));
    return it->second;
  };
  for (const auto& f : mesh.faces) {
    const auto ab = midpoint(f[0], f[1]), bc = midpoint(f[1], f[2]), ca = midpoint(f[2], f[0]);
    out.faces.push_back({f[0], ab, ca});
    out.faces.push_back({ab, f[1], bc});
    out.faces.push_back({ca, bc, f[2]});
    out.faces.push_back({ab, bc, ca});
  }
  return out;
}

std::vector<TriangularMesh> mesh_hierarchy(int finest_level) {
  if (finest_level < 0 || finest_level > 9)
    throw UserError(fmt::format("mesh level {} is outside 0..9", finest_level));
  std::vector<TriangularMesh> levels{icosahedron()};
  for (int k = 1; k <= finest_level; ++k) levels.push_back(refine(levels.back()));
  return levels;
}

static void append_face_edges(const TriangularMesh& mesh, std::vector<std::uint64_t>& keys) {
  for (const auto& f : mesh.faces)
    for (int e = 0; e < 3; ++e) {
      const std::uint64_t a = f[e], b = f[(e + 1) % 3];
      keys.push_back((a << 32) | b);
      keys.push_back((b << 32) | a);
    }
}

static EdgeList to_edge_list(std::vector<std::uint64_t>& keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  EdgeList edges;
  edges.senders.reserve(keys.size());
  edges.receivers.reserve(keys.size());
  for (const auto k : keys) {
    edges.senders.push_back(std::uint32_t(k >> 32));
    edges.receivers.push_back(std::uint32_t(k & 0xffffffffu));
  }
  return edges;
}

EdgeList mesh_edges(const TriangularMesh& mesh) {
  std::vector<std::uint64_t> keys;
  append_face_edges(mesh, keys);
  return to_edge_list(keys);
}

MultiMesh build_multimesh(int finest_level) {
  const auto levels = mesh_hierarchy(finest_level);
  MultiMesh mm;
  mm.finest_level = finest_level;
  mm.finest = levels.back();
  // Vertex indices are stable across refinement, so every level's edges are already in
  // the finest mesh's numbering.
  std::vector<std::uint64_t> keys;
  for (const auto& level : levels) append_face_edges(level, keys);
  mm.edges = to_edge_list(keys);
  for (const auto& f : mm.finest.faces)
    for (int e = 0; e < 3; ++e)
      mm.max_finest_edge_length = std::max(
          mm.max_finest_edge_length, norm(mm.finest.vertices[f[e]] - mm.finest.vertices[f[(e + 1) % 3]]));
  return mm;
}

std::shared_ptr<const Grid> MultiMesh::grid() const {
  std::vector<double> lat(nodes()), lon(nodes());
  for (std::size_t i = 0; i < nodes(); ++i) xyz_to_lat_lon(finest.vertices[i], lat[i], lon[i]);
  return Grid::points(GridKind::mesh, std::move(lat), std::move(lon));
}

std::vector<float> MultiMesh::node_features() const {
  std::vector<float> out;
  out.reserve(nodes() * 3);
  for (const auto& v : finest.vertices) {
    double lat, lon;
    xyz_to_lat_lon(v, lat, lon);
    out.push_back(float(std::cos(lat * kDegToRad)));
    out.push_back(float(std::sin(lon * kDegToRad)));
    out.push_back(float(std::cos(lon * kDegToRad)));
  }
  return out;
}

Vec3 displacement_in_receiver_frame(const Vec3& sender, const Vec3& receiver) {
  double lat, lon;
  xyz_to_lat_lon(receiver, lat, lon);
  const double cl = std::cos(-lon * kDegToRad), sl = std::sin(-lon * kDegToRad);
  const double ct = std::cos(lat * kDegToRad), st = std::sin(lat * kDegToRad);
  auto rotate = [&](const Vec3& p) {
    const Vec3 q{cl * p[0] - sl * p[1], sl * p[0] + cl * p[1], p[2]};  // about z by -lon
    return Vec3{ct * q[0] + st * q[2], q[1], -st * q[0] + ct * q[2]};  // about y by +lat
  };
  return rotate(sender) - rotate(receiver);
}

std::vector<float> relative_position_features(const std::vector<std::uint32_t>& senders,
                                              const std::vector<Vec3>& sender_xyz,
                                              const std::vector<std::uint32_t>& receivers,
                                              const std::vector<Vec3>& receiver_xyz) {
  const std::size_t n = senders.size();
  std::vector<Vec3> d(n);
  double longest = 0;
#pragma omp parallel for reduction(max : longest)
  for (std::size_t e = 0; e < n; ++e) {
    d[e] = displacement_in_receiver_frame(sender_xyz[senders[e]], receiver_xyz[receivers[e]]);
    longest = std::max(longest, norm(d[e]));
  }
  if (longest == 0) longest = 1;  // self pairs only: all zeros
  std::vector<float> out(n * 4);
  for (std::size_t e = 0; e < n; ++e) {
    out[4 * e] = float(norm(d[e]) / longest);
    for (int k = 0; k < 3; ++k) out[4 * e + 1 + k] = float(d[e][k] / longest);
  }
  return out;
}

std::vector<float> MultiMesh::edge_features() const {
  std::vector<float> out;
  out.reserve(edges.size() * 4);
  double longest = 0;
  for (std::size_t e = 0; e < edges.size(); ++e)
    longest = std::max(longest, norm(finest.vertices[edges.senders[e]] - finest.vertices[edges.receivers[e]]));
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const auto d = displacement_in_receiver_frame(finest.vertices[edges.senders[e]],
                                                  finest.vertices[edges.receivers[e]]);
    out.push_back(float(norm(d) / longest));
    for (int k = 0; k < 3; ++k) out.push_back(float(d[k] / longest));
  }
  return out;
}

std::vector<double> node_areas(const TriangularMesh& mesh) {
  std::vector<double> area(mesh.vertices.size(), 0.0);
  for (const auto& f : mesh.faces) {
    const double a = spherical_triangle_area(mesh.vertices[f[0]], mesh.vertices[f[1]], mesh.vertices[f[2]]);
    for (auto v : f) area[v] += a / 3;
  }
  return area;
}

}  // namespace gale
