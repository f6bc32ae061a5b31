#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "grids/spectral_transform.hpp"

using namespace gale;

namespace {
std::vector<Complex> random_coefficients(const SphericalHarmonicTransform& sht, unsigned seed, int n_min = 0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g;
  std::vector<Complex> c(sht.coefficients());
  for (int m = 0; m <= sht.truncation(); ++m)
    for (int n = m; n <= sht.truncation(); ++n)
      c[sht.index(m, n)] = n < n_min ? Complex(0) : Complex(g(rng), m == 0 ? 0.0 : g(rng));
  return c;
}
double max_diff(const std::vector<Complex>& a, const std::vector<Complex>& b) {
  double d = 0;
  for (std::size_t k = 0; k < a.size(); ++k) d = std::max(d, std::abs(a[k] - b[k]));
  return d;
}
}  // namespace

TEST_CASE("grid -> spectral -> grid round trip of a band-limited field to 1e-10") {
  for (auto [T, nlat, nlon] : {std::tuple{21, 32, 64}, std::tuple{42, 64, 128}, std::tuple{85, 128, 256}}) {
    SphericalHarmonicTransform sht(T, nlat, nlon);
    const auto c = random_coefficients(sht, 7);
    std::vector<double> grid(sht.grid_size());
    sht.synthesise(c.data(), grid.data());
    std::vector<Complex> back(sht.coefficients());
    sht.analyse(grid.data(), back.data());
    INFO("T" << T);
    CHECK(max_diff(c, back) < 1e-10);
    std::vector<double> grid2(grid.size());
    sht.synthesise(back.data(), grid2.data());
    double d = 0;
    for (std::size_t p = 0; p < grid.size(); ++p) d = std::max(d, std::abs(grid[p] - grid2[p]));
    CHECK(d < 1e-10);
  }
}

TEST_CASE("closed forms: sin(lat) and a solid-body rotation") {
  SphericalHarmonicTransform sht(10, 16, 32);
  std::vector<double> grid(sht.grid_size());
  for (int j = 0; j < sht.nlat(); ++j)
    for (int k = 0; k < sht.nlon(); ++k) grid[j * sht.nlon() + k] = sht.mu()[j];
  std::vector<Complex> c(sht.coefficients());
  sht.analyse(grid.data(), c.data());
  // mu = sqrt(2/3) P(0,1) with P(0,1) = sqrt(3/2) mu.
  CHECK(c[sht.index(0, 1)].real() == Approx(std::sqrt(2.0 / 3)).epsilon(1e-13));
  CHECK(std::abs(c[sht.index(0, 0)]) < 1e-14);

  // u = u0 cos(lat): vorticity 2 u0 mu / a; U = u cos(lat) = u0 (1 - mu^2), V = 0.
  const double a = 6.371e6, u0 = 20;
  std::vector<Complex> vort(sht.coefficients()), div(sht.coefficients());
  vort[sht.index(0, 1)] = 2 * u0 / a * std::sqrt(2.0 / 3);
  std::vector<double> U(sht.grid_size()), V(sht.grid_size());
  sht.winds_from_vorticity_divergence(vort.data(), div.data(), a, U.data(), V.data());
  for (int j = 0; j < sht.nlat(); ++j) {
    REQUIRE(U[j * sht.nlon() + 3] == Approx(u0 * (1 - sht.mu()[j] * sht.mu()[j])).epsilon(1e-12));
    REQUIRE(std::abs(V[j * sht.nlon() + 5]) < 1e-12);
  }
}

TEST_CASE("divergence and curl of the winds give back divergence and vorticity") {
  SphericalHarmonicTransform sht(42, 64, 128);
  const double a = 6.371e6;
  auto vort = random_coefficients(sht, 1, 1), div = random_coefficients(sht, 2, 1);
  for (auto* c : {&vort, &div})
    for (auto& x : *c) x *= 1e-5;
  std::vector<double> U(sht.grid_size()), V(sht.grid_size()), minus_U(sht.grid_size());
  sht.winds_from_vorticity_divergence(vort.data(), div.data(), a, U.data(), V.data());
  std::vector<Complex> d(sht.coefficients()), z(sht.coefficients());
  sht.analyse_divergence(U.data(), V.data(), a, d.data());
  for (std::size_t p = 0; p < U.size(); ++p) minus_U[p] = -U[p];
  sht.analyse_divergence(V.data(), minus_U.data(), a, z.data());  // curl = div of (V, -U)
  CHECK(max_diff(d, div) < 1e-10 * 1e-5);
  CHECK(max_diff(z, vort) < 1e-10 * 1e-5);
}

TEST_CASE("the transform refuses grids too small for its truncation") {
  REQUIRE_THROWS_WITH(SphericalHarmonicTransform(42, 32, 64), Catch::Contains("T42"));
}
