#include "core/grid.hpp"

#include <fmt/format.h>

#include <cmath>

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

std::shared_ptr<const Grid> Grid::regular(GridKind kind, std::vector<double> lats,
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
  Sha256 sha;
  const auto kind_name = to_string(kind_);
  sha.update(kind_name);
  sha.update(lat_.data(), lat_.size() * sizeof(double));
  sha.update(lon_.data(), lon_.size() * sizeof(double));
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
