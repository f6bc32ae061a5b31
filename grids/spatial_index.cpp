#include "grids/spatial_index.hpp"

#include <nanoflann.hpp>

namespace gale {

namespace {
struct Cloud {
  const std::vector<Vec3>* points;
  std::size_t kdtree_get_point_count() const { return points->size(); }
  double kdtree_get_pt(std::size_t i, std::size_t dim) const { return (*points)[i][dim]; }
  template <class Box>
  bool kdtree_get_bbox(Box&) const { return false; }
};
using KdTree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, Cloud>, Cloud, 3,
                                                   std::uint32_t>;
}  // namespace

struct PointIndex::Tree {
  Cloud cloud;
  KdTree tree;
  explicit Tree(const std::vector<Vec3>* p)
      : cloud{p}, tree(3, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(16)) {
    tree.buildIndex();
  }
};

PointIndex::PointIndex(std::vector<Vec3> points)
    : points_(std::move(points)), tree_(std::make_unique<Tree>(&points_)) {}

PointIndex::~PointIndex() = default;

std::vector<std::uint32_t> PointIndex::within(const Vec3& q, double chord_radius) const {
  std::vector<std::pair<std::uint32_t, double>> matches;
  nanoflann::SearchParams params;
  params.sorted = false;
  // nanoflann's L2 adaptor works with squared distances.
  tree_->tree.radiusSearch(q.data(), chord_radius * chord_radius, matches, params);
  std::vector<std::uint32_t> out;
  out.reserve(matches.size());
  for (const auto& m : matches) out.push_back(m.first);
  return out;
}

std::vector<std::uint32_t> PointIndex::nearest(const Vec3& q, std::size_t k) const {
  k = std::min(k, points_.size());
  std::vector<std::uint32_t> idx(k);
  std::vector<double> dist(k);
  const auto found = tree_->tree.knnSearch(q.data(), k, idx.data(), dist.data());
  idx.resize(found);
  return idx;
}

}  // namespace gale
