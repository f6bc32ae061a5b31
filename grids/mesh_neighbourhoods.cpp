#include "grids/mesh_neighbourhoods.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "core/errors.hpp"

namespace gale {

Neighbourhoods mesh_neighbourhoods(std::size_t nodes, const EdgeList& edges, int hops) {
  if (hops < 0 || hops > 255)
    throw UserError(fmt::format("mesh neighbourhoods need hops in 0..255, not {}", hops));
  // Adjacency in CSR form (neighbours of n: the receivers of n's outgoing edges).
  std::vector<std::size_t> offsets(nodes + 1, 0);
  for (const auto s : edges.senders) ++offsets[s + 1];
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
  std::vector<std::uint32_t> adjacent(edges.size());
  auto cursor = offsets;
  for (std::size_t e = 0; e < edges.size(); ++e)
    adjacent[cursor[edges.senders[e]]++] = edges.receivers[e];

  Neighbourhoods out;
  // Per receiver: a BFS that stops at depth `hops`. `seen_by[n] == i` marks n as reached
  // from i, so the marks need no clearing between receivers.
  std::vector<std::uint32_t> seen_by(nodes, std::uint32_t(-1));
  std::vector<std::uint8_t> depth(nodes, 0);
  std::vector<std::uint32_t> frontier, next, reached;
  for (std::uint32_t i = 0; i < nodes; ++i) {
    seen_by[i] = i;
    depth[i] = 0;
    frontier.assign({i});
    reached.assign({i});
    for (int d = 1; d <= hops && !frontier.empty(); ++d) {
      next.clear();
      for (const auto n : frontier)
        for (std::size_t k = offsets[n]; k < offsets[n + 1]; ++k) {
          const auto m = adjacent[k];
          if (seen_by[m] == i) continue;
          seen_by[m] = i;
          depth[m] = std::uint8_t(d);
          next.push_back(m);
          reached.push_back(m);
        }
      frontier.swap(next);
    }
    std::sort(reached.begin(), reached.end());
    for (const auto j : reached) {
      out.senders.push_back(j);
      out.receivers.push_back(i);
      out.hops.push_back(depth[j]);
    }
  }
  return out;
}

std::vector<float> Neighbourhoods::pair_features(const std::vector<Vec3>& vertices) const {
  return relative_position_features(senders, vertices, receivers, vertices);
}

}  // namespace gale
