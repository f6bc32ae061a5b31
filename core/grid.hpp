#pragma once
// The horizontal grid a State lives on. Immutable and shared (std::shared_ptr<const Grid>)
// by every State on it. Points are ordered row by row, rows north -> south, longitudes
// ascending in [0, 360): the canonical orientation every reader produces.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace gale {

enum class GridKind { regular_ll, regular_gaussian, reduced_gaussian, mesh };
std::string to_string(GridKind kind);

class Grid {
 public:
  // Regular lat-lon or regular Gaussian: `lats` strictly north -> south, `lons` strictly
  // ascending in [0, 360). Throws InternalError when not canonical.
  static std::shared_ptr<const Grid> regular(GridKind kind, std::vector<double> lats,
                                             std::vector<double> lons);
  // Reduced Gaussian: row latitudes north -> south, `pl` points per row, each row
  // starting at longitude 0 with spacing 360/pl.
  static std::shared_ptr<const Grid> reduced_gaussian(std::vector<double> row_lats,
                                                      std::vector<long> pl);
  // Unstructured points (mesh nodes), in the caller's order.
  static std::shared_ptr<const Grid> points(GridKind kind, std::vector<double> lat,
                                            std::vector<double> lon);

  GridKind kind() const { return kind_; }
  std::size_t size() const { return lat_.size(); }
  const std::vector<double>& lat() const { return lat_; }  // per point, degrees
  const std::vector<double>& lon() const { return lon_; }  // per point, degrees [0, 360)

  // Structured grids only (empty for meshes).
  std::size_t rows() const { return row_lat_.size(); }
  const std::vector<double>& row_latitudes() const { return row_lat_; }
  const std::vector<std::size_t>& row_offsets() const { return row_offset_; }  // rows + 1
  // Distinct longitudes of a regular grid (empty for reduced grids and meshes).
  const std::vector<double>& longitudes() const { return distinct_lon_; }

  // Covers the whole sphere in longitude (a regular grid whose spacing closes the circle).
  bool global_in_longitude() const;
  // One-line human description: "regular_ll 120x61, 3 deg, 90N..90S, 0..357E".
  std::string describe() const;
  // SHA-256 of kind and coordinates: equal grids have equal fingerprints (cache keys).
  const std::string& fingerprint() const { return fingerprint_; }
  bool same_as(const Grid& other) const { return fingerprint_ == other.fingerprint_; }

 private:
  Grid() = default;
  static std::shared_ptr<const Grid> build_regular(GridKind kind, std::vector<double> lats,
                                                   std::vector<double> lons);
  static std::shared_ptr<const Grid> build_reduced(std::vector<double> row_lats, std::vector<long> pl);
  void finish();
  GridKind kind_ = GridKind::regular_ll;
  std::vector<double> lat_, lon_, row_lat_, distinct_lon_;
  std::vector<std::size_t> row_offset_;
  std::string fingerprint_;
};

}  // namespace gale
