#include "core/grid.hpp"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>
#include <mutex>

#include "core/errors.hpp"
#include "core/hash.hpp"

namespace gale {

std::string to_string(GridKind kind) {
  switch (kind) {
    case GridKind::regular_ll: return "regular_ll";
    case GridKind::regular_gaussian: return "regular_gg";
    case GridKind::reduced_gaussian: return "reduced_gg";
    case GridKind::mesh: return "mesh";
  }
  return "?";
}

static void require_north_to_south(const std::vector<double>& lats) {
  for (std::size_t j = 1; j < lats.size(); ++j)
    if (!(lats[j] < lats[j - 1]))
      throw InternalError("grid latitudes must be strictly north -> south");
}

namespace {
// Equal grids are one object: files on the same grid share its (large) coordinate arrays,
// and building it again is skipped. Weak references, so unused grids are freed.
std::shared_ptr<const Grid> shared_grid(const std::string& key, const std::function<std::shared_ptr<const Grid>()>& make) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const Grid>> grids;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = grids.find(key); it != grids.end())
    if (auto g = it->second.lock()) return g;
  auto g = make();
  grids[key] = g;
  return g;
}

std::string compact_key(GridKind kind, const std::vector<double>& a, const void* b, std::size_t b_bytes) {
  Sha256 sha;
  sha.update(to_string(kind));
  sha.update(a.data(), a.size() * sizeof(double));
  sha.update(b, b_bytes);
  return sha.hex();
}
}  // namespace

std::shared_ptr<const Grid> Grid::regular(GridKind kind, std::vector<double> lats,
                                          std::vector<double> lons) {
  const auto key = compact_key(kind, lats, lons.data(), lons.size() * sizeof(double));
  return shared_grid(key, [&] { return build_regular(kind, std::move(lats), std::move(lons)); });
}

std::shared_ptr<const Grid> Grid::build_regular(GridKind kind, std::vector<double> lats,
                                                std::vector<double> lons) {
  require_north_to_south(lats);
  for (std::size_t i = 0; i < lons.size(); ++i)
    if (lons[i] < 0 || lons[i] >= 360 || (i && !(lons[i] > lons[i - 1])))
      throw InternalError("grid longitudes must be strictly ascending in [0, 360)");
  auto g = std::shared_ptr<Grid>(new Grid());
  g->kind_ = kind;
  g->row_lat_ = std::move(lats);
  g->distinct_lon_ = std::move(lons);
  const std::size_t nlon = g->distinct_lon_.size();
  g->lat_.reserve(nlon * g->row_lat_.size());
  g->lon_.reserve(nlon * g->row_lat_.size());
  for (std::size_t j = 0; j < g->row_lat_.size(); ++j) {
    g->row_offset_.push_back(j * nlon);
    for (double lon : g->distinct_lon_) {
      g->lat_.push_back(g->row_lat_[j]);
      g->lon_.push_back(lon);
    }
  }
  g->row_offset_.push_back(g->lat_.size());
  g->finish();
  return g;
}

std::shared_ptr<const Grid> Grid::reduced_gaussian(std::vector<double> row_lats,
                                                   std::vector<long> pl) {
  const auto key = compact_key(GridKind::reduced_gaussian, row_lats, pl.data(), pl.size() * sizeof(long));
  return shared_grid(key, [&] { return build_reduced(std::move(row_lats), std::move(pl)); });
}

std::shared_ptr<const Grid> Grid::build_reduced(std::vector<double> row_lats, std::vector<long> pl) {
  require_north_to_south(row_lats);
  if (pl.size() != row_lats.size())
    throw InternalError("reduced Gaussian grid: pl and row latitudes differ in length");
  auto g = std::shared_ptr<Grid>(new Grid());
  g->kind_ = GridKind::reduced_gaussian;
  g->row_lat_ = std::move(row_lats);
  for (std::size_t j = 0; j < pl.size(); ++j) {
    g->row_offset_.push_back(g->lat_.size());
    for (long i = 0; i < pl[j]; ++i) {
      g->lat_.push_back(g->row_lat_[j]);
      g->lon_.push_back(360.0 * double(i) / double(pl[j]));
    }
  }
  g->row_offset_.push_back(g->lat_.size());
  g->finish();
  return g;
}

std::shared_ptr<const Grid> Grid::points(GridKind kind, std::vector<double> lat,
                                         std::vector<double> lon) {
  if (lat.size() != lon.size()) throw InternalError("grid: lat and lon differ in length");
  auto g = std::shared_ptr<Grid>(new Grid());
  g->kind_ = kind;
  g->lat_ = std::move(lat);
  g->lon_ = std::move(lon);
  g->finish();
  return g;
}

void Grid::finish() {
  // Hash what defines the grid, not the per-point expansion: rows and distinct longitudes
  // for regular grids, rows and row lengths for reduced ones, every point for meshes.
  // (A 0.25 deg grid is 1M points: hashing 16 MB per file read would dominate ingest.)
  Sha256 sha;
  const auto kind_name = to_string(kind_);
  sha.update(kind_name);
  auto add = [&](const auto& v) { sha.update(v.data(), v.size() * sizeof(v[0])); };
  if (!distinct_lon_.empty()) {
    add(row_lat_);
    add(distinct_lon_);
  } else if (!row_lat_.empty()) {
    add(row_lat_);
    add(row_offset_);
  } else {
    add(lat_);
    add(lon_);
  }
  fingerprint_ = sha.hex();
}

bool Grid::global_in_longitude() const {
  if (kind_ == GridKind::reduced_gaussian || kind_ == GridKind::mesh) return true;
  const auto n = distinct_lon_.size();
  if (n < 2) return false;
  // Global when the points are evenly spaced and n steps close the circle.
  const double step = 360.0 / double(n);
  for (std::size_t i = 1; i < n; ++i)
    if (std::abs(distinct_lon_[i] - distinct_lon_[i - 1] - step) > 1e-6) return false;
  return true;
}

std::string Grid::describe() const {
  if (kind_ == GridKind::mesh) return fmt::format("mesh, {} nodes", size());
  const double north = row_lat_.front(), south = row_lat_.back();
  if (kind_ == GridKind::reduced_gaussian)
    return fmt::format("reduced_gg N{}, {} rows, {} points, {:.3f}..{:.3f}", rows() / 2, rows(),
                       size(), north, south);
  const auto nlon = distinct_lon_.size();
  const double dlon = nlon > 1 ? distinct_lon_[1] - distinct_lon_[0] : 0;
  return fmt::format("{} {}x{}, {:g} deg, lat {:g}..{:g}, lon {:g}..{:g}", to_string(kind_), nlon,
                     rows(), dlon, north, south, distinct_lon_.front(), distinct_lon_.back());
}

}  // namespace gale
