#pragma once
// Regridding as sparse weight matrices: built once, applied to every field, cached on
// disk keyed by a hash of both grids and the method.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "grids/grid_mesh_graph.hpp"

namespace gale {

// Compressed sparse rows: out[r] = sum_k weight[k] * in[col[k]] for k in row r.
struct SparseMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<std::uint64_t> row_start{0};
  std::vector<std::uint32_t> col;
  std::vector<double> weight;

  std::size_t nonzeros() const { return col.size(); }
  // NaN in any contributing input gives NaN out (missing stays missing).
  void apply(const float* in, float* out) const;
  void apply(const std::vector<float>& in, std::vector<float>& out) const;

  // Binary file with a key; load() returns nothing when the file is absent, for another
  // key, or damaged (it is then rebuilt).
  void save(const std::string& path, const std::string& key) const;
  static std::optional<SparseMatrix> load(const std::string& path, const std::string& key);
};

// Structured global grid (regular lat-lon, regular or reduced Gaussian) -> arbitrary
// points: bilinear in longitude along the two bracketing rows, then linear in latitude.
// Beyond the outermost rows (Gaussian grids stop short of the poles) the outermost row is
// used. Throws UserError for a source not global in longitude.
SparseMatrix bilinear_weights(const Grid& source, const std::vector<double>& lat,
                              const std::vector<double>& lon);

// Multi-mesh nodes -> grid points: barycentric in the containing finest-mesh triangle.
SparseMatrix barycentric_weights(const MeshLocation& location, std::size_t mesh_nodes);

// First-order conservative remap between regular lat-lon grids (coarsening, e.g. 0.25 deg
// to 1.5 deg): each target cell averages the source cells it overlaps, weighted by
// overlap area. Cells from grids/cells.hpp; longitudes periodic.
SparseMatrix conservative_weights(const Grid& source, const Grid& target);

// Disk cache: <dir>/<sha256(method, parameters, grid fingerprints)>.weights
class RegridCache {
 public:
  // dir: GALE_CACHE_DIR, else $XDG_CACHE_HOME/gale, else ~/.cache/gale, when empty.
  explicit RegridCache(std::string dir = "");
  const std::string& dir() const { return dir_; }
  SparseMatrix get(const std::string& method, const Grid& source, const Grid& target,
                   const std::string& parameters, const std::function<SparseMatrix()>& build) const;
  bool last_was_hit() const { return hit_; }

 private:
  std::string dir_;
  mutable bool hit_ = false;
};

}  // namespace gale
