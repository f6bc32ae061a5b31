#pragma once
// Gathering node values onto edges and summing edge values into nodes, for a fixed edge
// list. Both are deterministic: the sum walks each node's edges in a fixed order (CSR)
// with one thread per node, instead of the atomic scatter of index_add_, so training and
// inference give the same bits for any thread count, rank count and rerun. Each is the
// other's backward, so gradients are deterministic as well.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace gale {

// One direction of a fixed edge list: `index[e]` is the node of edge e; the CSR lists
// each node's edges, in ascending edge order.
struct NodeIncidence {
  at::Tensor index;    // int64 [edges]
  at::Tensor order;    // int64 [edges]: edge ids sorted by node (stable)
  at::Tensor offsets;  // int64 [nodes + 1]
  std::int64_t nodes = 0;
};
NodeIncidence make_incidence(const std::vector<std::uint32_t>& index, std::int64_t nodes);

// A directed graph from one node set to another (or to itself).
struct EdgeSet {
  NodeIncidence senders, receivers;
  at::Tensor features;  // float [edges, 4]: length and receiver-frame displacement
  std::int64_t size() const { return senders.index.size(0); }
  EdgeSet to(const at::Device& device) const;
};

// nodes [B, N, H] -> [B, E, H]: the value of each edge's node.
at::Tensor gather_nodes(const at::Tensor& nodes, const NodeIncidence& incidence);
// edges [B, E, H] -> [B, N, H]: for each node, the sum over its edges.
at::Tensor sum_into_nodes(const at::Tensor& edges, const NodeIncidence& incidence);

}  // namespace gale
