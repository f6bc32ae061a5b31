#pragma once
// k-hop neighbourhoods on a mesh: the sparse attention pattern of the mesh transformer
// (GenCast's processor), where each node attends to the nodes within k edges of it.
#include <cstdint>
#include <vector>

#include "grids/icosahedral_mesh.hpp"

namespace gale {

// Directed pairs sender j -> receiver i for every j within `hops` edges of i, i itself
// included (hop 0). Sorted by (receiver, sender), so each receiver's pairs are contiguous.
// Symmetric: j is in i's neighbourhood iff i is in j's.
struct Neighbourhoods {
  std::vector<std::uint32_t> senders, receivers;
  std::vector<std::uint8_t> hops;  // graph distance of each pair, 0..k
  std::size_t size() const { return senders.size(); }
  // Relative position of each pair, as the mesh edge features: chord length, then the
  // sender - receiver displacement in the receiver's local frame, all divided by the
  // longest pair (the self pair is all zeros). [pairs x 4]
  std::vector<float> pair_features(const std::vector<Vec3>& vertices) const;
};

// Breadth-first search to depth `hops` (>= 0) from every node of a graph with `nodes` nodes
// and the directed `edges` (both directions of every undirected edge, as mesh_edges gives).
Neighbourhoods mesh_neighbourhoods(std::size_t nodes, const EdgeList& edges, int hops);

}  // namespace gale
