// Golden values from an independent implementation (torch-harmonics, see
// tests/golden/make_sht_golden.py): analysis of a band-limited T21 field on the 32 x 64
// Gaussian grid must match its coefficients, converted to our convention, and synthesis of
// those coefficients must give back the grid.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "grids/spectral_transform.hpp"

using namespace gale;

namespace {
struct Golden {
  int nlat = 0, nlon = 0, T = -1;
  std::vector<double> grid;
  std::vector<Complex> coeff;  // ours, m-major
  std::vector<Complex> raw;    // torch-harmonics, same order
  std::vector<std::pair<int, int>> mn;
};

// Next line that is neither empty nor a '#' comment; the part after '#' is dropped.
bool next_data_line(std::istream& in, std::string& line) {
  while (std::getline(in, line)) {
    if (auto h = line.find('#'); h != std::string::npos) line.erase(h);
    if (line.find_first_not_of(" \t\r") != std::string::npos) return true;
  }
  return false;
}

Golden read_golden(const std::string& path) {
  std::ifstream in(path);
  INFO(path);
  REQUIRE(in.good());
  Golden g;
  std::string line;
  REQUIRE(next_data_line(in, line));
  std::istringstream(line) >> g.nlat >> g.nlon >> g.T;
  REQUIRE(g.nlat > 0);
  for (int j = 0; j < g.nlat; ++j) {
    REQUIRE(next_data_line(in, line));
    std::istringstream row(line);
    double v;
    int k = 0;
    while (row >> v) g.grid.push_back(v), ++k;
    REQUIRE(k == g.nlon);
  }
  while (next_data_line(in, line)) {
    std::istringstream row(line);
    int m, n;
    double re, im, tre, tim;
    REQUIRE(bool(row >> m >> n >> re >> im >> tre >> tim));
    g.mn.emplace_back(m, n);
    g.coeff.emplace_back(re, im);
    g.raw.emplace_back(tre, tim);
  }
  return g;
}
}  // namespace

TEST_CASE("spectral transform matches torch-harmonics golden values (T21, 32 x 64)") {
  const auto g = read_golden(std::string(GALE_GOLDEN_DIR) + "/sht_t21_golden.txt");
  REQUIRE(g.nlat == 32);
  REQUIRE(g.nlon == 64);
  REQUIRE(g.T == 21);
  SphericalHarmonicTransform sht(g.T, g.nlat, g.nlon);
  REQUIRE(g.coeff.size() == sht.coefficients());

  // The file lists (m, n) m-major, i.e. in our index order; the stated conversion holds.
  const double sqrt_2pi = std::sqrt(2 * M_PI);
  std::vector<Complex> golden(sht.coefficients());
  for (std::size_t k = 0; k < g.mn.size(); ++k) {
    const auto [m, n] = g.mn[k];
    REQUIRE(sht.index(m, n) == k);
    golden[k] = g.coeff[k];
    const double sign = m % 2 ? -1.0 : 1.0;  // Condon-Shortley phase of torch-harmonics (csphase=True)
    REQUIRE(std::abs(g.raw[k] * sign / sqrt_2pi - g.coeff[k]) < 1e-14);
  }

  SECTION("analysis reproduces the golden coefficients") {
    std::vector<Complex> c(sht.coefficients());
    sht.analyse(g.grid.data(), c.data());
    double worst = 0;
    int wm = -1, wn = -1;
    for (const auto& [m, n] : g.mn) {
      const double d = std::abs(c[sht.index(m, n)] - golden[sht.index(m, n)]);
      if (d > worst) worst = d, wm = m, wn = n;
      INFO("m=" << m << " n=" << n << " ours=" << c[sht.index(m, n)] << " golden=" << golden[sht.index(m, n)]);
      CHECK(d < 1e-8);
    }
    WARN("max |analyse - golden| = " << worst << " at m=" << wm << " n=" << wn);
  }

  SECTION("synthesis of the golden coefficients reproduces the grid") {
    std::vector<double> grid(sht.grid_size());
    sht.synthesise(golden.data(), grid.data());
    double worst = 0;
    for (std::size_t p = 0; p < grid.size(); ++p) worst = std::max(worst, std::abs(grid[p] - g.grid[p]));
    WARN("max |synthesise - golden grid| = " << worst);
    CHECK(worst < 1e-8);
  }
}
