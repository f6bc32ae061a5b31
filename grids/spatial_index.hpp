#pragma once
// k-d tree over points on the unit sphere (nanoflann), queried by chord distance.
// Queries are const and thread-safe.
#include <cstdint>
#include <memory>
#include <vector>

#include "grids/sphere.hpp"

namespace gale {

class PointIndex {
 public:
  explicit PointIndex(std::vector<Vec3> points);
  ~PointIndex();
  PointIndex(const PointIndex&) = delete;
  PointIndex& operator=(const PointIndex&) = delete;

  // Indices of all points within `chord_radius` of q (any order).
  std::vector<std::uint32_t> within(const Vec3& q, double chord_radius) const;
  // Indices of the k nearest points, nearest first.
  std::vector<std::uint32_t> nearest(const Vec3& q, std::size_t k) const;
  std::size_t size() const { return points_.size(); }

 private:
  struct Tree;
  std::vector<Vec3> points_;
  std::unique_ptr<Tree> tree_;
};

}  // namespace gale
