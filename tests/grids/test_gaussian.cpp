#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

#include "../data.hpp"
#include "grids/gaussian.hpp"
#include "ingest/field.hpp"

using namespace gale;

TEST_CASE("Gauss-Legendre nodes and weights against closed forms") {
  // N=1: P_2 roots at x = +-1/sqrt(3), weights 1.
  const auto g1 = gaussian_latitudes(1);
  CHECK(std::sin(g1.latitudes_deg[0] * M_PI / 180) == Approx(1 / std::sqrt(3.0)).epsilon(1e-14));
  CHECK(g1.weights[0] == Approx(1.0).epsilon(1e-14));
  // N=2: P_4 roots sqrt(3/7 +- 2/7 sqrt(6/5)), weights (18 -+ sqrt 30)/36.
  const auto g2 = gaussian_latitudes(2);
  const double x0 = std::sqrt(3.0 / 7 + 2.0 / 7 * std::sqrt(6.0 / 5));
  CHECK(std::sin(g2.latitudes_deg[0] * M_PI / 180) == Approx(x0).epsilon(1e-14));
  CHECK(g2.weights[0] == Approx((18 - std::sqrt(30.0)) / 36).epsilon(1e-13));
  // The quadrature integrates polynomials of degree 2*nlat-1 exactly: int x^6 = 2/7.
  const auto g8 = gaussian_latitudes(8);
  double integral = 0;
  for (std::size_t i = 0; i < g8.weights.size(); ++i)
    integral += g8.weights[i] * std::pow(std::sin(g8.latitudes_deg[i] * M_PI / 180), 6);
  CHECK(integral == Approx(2.0 / 7).epsilon(1e-13));
  CHECK(std::accumulate(g8.weights.begin(), g8.weights.end(), 0.0) == Approx(2).epsilon(1e-14));
}

TEST_CASE("our Gaussian latitudes match the O32 file's to 1e-6 degrees") {
  GALE_REQUIRE_DATA();
  const auto reader = open_reader(gale::test::data_file("O32_global.grib2"));
  const auto& rows = reader->headers()[0].grid->row_latitudes();
  const auto ours = gaussian_latitudes(32);
  REQUIRE(rows.size() == 64);
  for (std::size_t j = 0; j < 64; ++j) CHECK(rows[j] == Approx(ours.latitudes_deg[j]).margin(1e-6));
}

