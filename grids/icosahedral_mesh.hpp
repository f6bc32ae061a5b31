#pragma once
// Icosahedral meshes by recursive refinement (GraphCast's M0..M6) and the multi-mesh:
// the nodes of the finest mesh with the union of the edges of every level.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/grid.hpp"
#include "grids/sphere.hpp"

namespace gale {

struct TriangularMesh {
  std::vector<Vec3> vertices;                       // unit vectors
  std::vector<std::array<std::uint32_t, 3>> faces;  // counter-clockwise seen from outside
};

// M0: the regular icosahedron with vertices at the cyclic permutations of (0, +-1, +-phi),
// normalised. No vertex sits on a pole, so no grid row is degenerate for the mesh.
TriangularMesh icosahedron();
// Splits every triangle into four; the new vertex on each edge is the normalised midpoint.
// The vertices of `mesh` keep their indices, so level k's nodes are a prefix of level k+1's.
TriangularMesh refine(const TriangularMesh& mesh);
// M0..M{finest_level}: index k is Mk.
std::vector<TriangularMesh> mesh_hierarchy(int finest_level);

// Directed edges, both directions of every undirected edge, sorted (sender, receiver).
struct EdgeList {
  std::vector<std::uint32_t> senders, receivers;
  std::size_t size() const { return senders.size(); }
};
EdgeList mesh_edges(const TriangularMesh& mesh);

struct MultiMesh {
  int finest_level = 0;
  TriangularMesh finest;  // nodes of the multi-mesh = vertices of the finest level
  EdgeList edges;         // union over levels of each level's edges, deduplicated
  double max_finest_edge_length = 0;  // chord length on the unit sphere

  std::size_t nodes() const { return finest.vertices.size(); }
  // The nodes as a Grid (kind mesh) so States can live on the mesh.
  std::shared_ptr<const Grid> grid() const;
  // GraphCast node features per node: cos(lat), sin(lon), cos(lon). [nodes x 3]
  std::vector<float> node_features() const;
  // GraphCast edge features per edge: length, then the sender - receiver displacement in
  // the receiver's local frame (receiver rotated to lat 0, lon 0), all divided by the
  // longest edge. [edges x 4]
  std::vector<float> edge_features() const;
};

MultiMesh build_multimesh(int finest_level);

// Spherical area of each node: a third of the area of every face around it (sums to 4 pi).
std::vector<double> node_areas(const TriangularMesh& mesh);

// Local-frame displacement of `sender` seen from `receiver` (shared by mesh and grid
// edges): rotates `receiver` onto (1, 0, 0) first by -lon about z, then by lat about y.
Vec3 displacement_in_receiver_frame(const Vec3& sender, const Vec3& receiver);

// GraphCast edge features of the directed pairs senders[e] -> receivers[e]: chord length,
// then the displacement in the receiver's local frame, all divided by the longest pair (all
// zeros when every pair is a node with itself). [pairs x 4]
std::vector<float> relative_position_features(const std::vector<std::uint32_t>& senders,
                                              const std::vector<Vec3>& sender_xyz,
                                              const std::vector<std::uint32_t>& receivers,
                                              const std::vector<Vec3>& receiver_xyz);

}  // namespace gale
