#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

#include "grids/cells.hpp"

using namespace gale;

namespace {
std::shared_ptr<const Grid> regular(double first_lat, double dlat, int rows, int cols) {
  std::vector<double> lats, lons;
  for (int j = 0; j < rows; ++j) lats.push_back(first_lat - dlat * j);
  for (int i = 0; i < cols; ++i) lons.push_back(360.0 * i / cols);
  return Grid::regular(GridKind::regular_ll, lats, lons);
}
}  // namespace

TEST_CASE("latitude weights: mean 1, symmetric, proportional to cos(lat) on a regular grid") {
  const auto grid = regular(90, 3, 61, 120);
  const auto w = latitude_weights(*grid);
  CHECK(std::accumulate(w.begin(), w.end(), 0.0) / double(w.size()) == Approx(1).epsilon(1e-12));
  CHECK(w[0] == Approx(w[w.size() - 1]).epsilon(1e-12));
  const double ratio = w[30 * 120] / w[15 * 120];  // equator vs 45N
  CHECK(ratio == Approx(1 / std::cos(M_PI / 4)).epsilon(1e-3));
}

TEST_CASE("cell edges: pole rows get half cells, offset grids tile the sphere") {
  const auto with_poles = latitude_edges(*regular(90, 1.5, 121, 240));
  CHECK(with_poles.front() == 90);
  CHECK(with_poles[1] == Approx(89.25));
  CHECK(with_poles.back() == -90);
  const auto offset = latitude_edges(*regular(87.1875, 5.625, 32, 64));  // WeatherBench 5.625 deg
  CHECK(offset.front() == 90);
  CHECK(offset[1] == Approx(84.375));
  CHECK(offset.back() == -90);
  // A regional grid ends half a spacing beyond its outermost rows.
  const auto uk = Grid::regular(GridKind::regular_ll, {58, 57.75, 57.5}, {0, 0.25, 359.75});
  const auto e = latitude_edges(*uk);
  CHECK(e.front() == Approx(58.125));
  CHECK(e.back() == Approx(57.375));
}
