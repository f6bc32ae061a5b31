#pragma once
// The bipartite graphs between a data grid and the multi-mesh (GraphCast's encoder and
// decoder graphs) and where each grid point sits in the finest mesh.
#include <array>
#include <cstdint>
#include <vector>

#include "core/grid.hpp"
#include "grids/icosahedral_mesh.hpp"

namespace gale {

// For each query point: the finest-mesh face containing it, its three vertices and the
// barycentric weights of the point in that face (non-negative, summing to 1).
struct MeshLocation {
  std::vector<std::uint32_t> face;
  std::vector<std::array<std::uint32_t, 3>> vertices;
  std::vector<std::array<double, 3>> weights;
};
MeshLocation locate_in_mesh(const MultiMesh& mesh, const std::vector<Vec3>& points);

std::vector<Vec3> grid_points_xyz(const Grid& grid);

// Directed bipartite edges: senders index one node set, receivers the other.
struct BipartiteGraph {
  std::vector<std::uint32_t> senders, receivers;
  std::size_t size() const { return senders.size(); }
  // GraphCast features per edge: length and receiver-frame displacement, divided by the
  // longest edge of this graph. [edges x 4]
  std::vector<float> edge_features(const std::vector<Vec3>& sender_xyz,
                                   const std::vector<Vec3>& receiver_xyz) const;
};

// Encoder graph: every grid point sends to every mesh node within
// radius_factor x (longest finest-mesh edge), chord distance. Sorted by grid point.
BipartiteGraph grid_to_mesh_graph(const std::vector<Vec3>& grid_xyz, const MultiMesh& mesh,
                                  double radius_factor = 0.6);
// Decoder graph: each grid point receives from the three vertices of its containing face.
BipartiteGraph mesh_to_grid_graph(const MeshLocation& location);

}  // namespace gale
