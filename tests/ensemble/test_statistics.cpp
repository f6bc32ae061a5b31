#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/lexicon.hpp"
#include "ensemble/perturbation.hpp"
#include "ensemble/runner.hpp"
#include "ensemble/statistics.hpp"
#include "ensemble/statistics_gpu.hpp"

using namespace gale;

TEST_CASE("streaming statistics equal a brute-force computation (1e-6)") {
  std::mt19937 rng(9);
  std::normal_distribution<float> g(280, 15);
  const std::size_t members = 11, points = 500;
  std::vector<float> values(members * points);
  for (auto& v : values) v = g(rng);
  StatisticsSpec spec;
  spec.percentiles = {0, 10, 25, 50, 90, 100};
  spec.thresholds = {280, 300};
  std::vector<float> out(spec.names().size() * points);
  point_statistics(values.data(), members, points, spec, out.data());
  for (std::size_t p = 0; p < points; ++p) {
    std::vector<long double> x;
    for (std::size_t m = 0; m < members; ++m) x.push_back(values[m * points + p]);
    const long double mean = std::accumulate(x.begin(), x.end(), 0.0L) / members;
    long double ss = 0;
    for (auto v : x) ss += (v - mean) * (v - mean);
    std::sort(x.begin(), x.end());
    REQUIRE(out[p] == Approx(double(mean)).epsilon(1e-6));
    REQUIRE(out[points + p] == Approx(std::sqrt(double(ss / (members - 1)))).epsilon(1e-5));
    REQUIRE(out[2 * points + p] == float(x.front()));
    REQUIRE(out[3 * points + p] == float(x.back()));
    for (std::size_t q = 0; q < spec.percentiles.size(); ++q) {
      // numpy's default ("linear") percentile.
      const double rank = spec.percentiles[q] / 100 * (members - 1);
      const auto lo = std::size_t(rank), hi = std::min(lo + 1, members - 1);
      const double expected = double(x[lo] + (rank - lo) * (x[hi] - x[lo]));
      REQUIRE(out[(4 + q) * points + p] == Approx(expected).epsilon(1e-6));
    }
    for (std::size_t t = 0; t < spec.thresholds.size(); ++t) {
      const auto count = std::count_if(x.begin(), x.end(), [&](long double v) { return v > spec.thresholds[t]; });
      REQUIRE(out[(4 + spec.percentiles.size() + t) * points + p] == float(count));
    }
  }
  CHECK(spec.names()[4] == "p0");
  CHECK(spec.names().back() == "count_gt_300");
}

TEST_CASE("Welford keeps precision for a large mean") {
  const std::vector<float> values{1e6f + 1, 1e6f + 2, 1e6f + 3, 1e6f + 4};
  StatisticsSpec spec;
  spec.percentiles = {};
  std::vector<float> out(4);
  point_statistics(values.data(), 4, 1, spec, out.data());
  CHECK(out[1] == Approx(std::sqrt(5.0 / 3)).epsilon(1e-6));
}

TEST_CASE("perturbations: control untouched, seeded by (run, member), spatially correlated") {
  std::vector<double> lats, lons;
  for (int j = 0; j < 37; ++j) lats.push_back(90 - 5 * j);
  for (int i = 0; i < 72; ++i) lons.push_back(5 * i);
  const auto grid = Grid::regular(GridKind::regular_ll, lats, lons);
  const auto t0 = parse_iso8601("2000-01-01");
  State s(3, {t0}, {parse_variable_key("z500")}, grid, t0);
  s.data().fill(5e4f);
  PerturbationSpec spec;
  spec.type = "gaussian";
  spec.correlation_km = 1000;
  spec.amplitude["z500"] = 100;
  for (int m = 0; m < 3; ++m) perturb(s, std::size_t(m), m, spec, 42);
  for (std::size_t p = 0; p < s.points(); ++p) REQUIRE(s.field(0, 0, 0)[p] == 5e4f);
  // Same seed and member: the same field; another member: a different one.
  State again(1, {t0}, {parse_variable_key("z500")}, grid, t0);
  again.data().fill(5e4f);
  perturb(again, 0, 2, spec, 42);
  CHECK(std::equal(again.field(0, 0, 0), again.field(0, 0, 0) + again.points(), s.field(2, 0, 0)));
  double rms = 0, neighbour = 0, far = 0;
  const std::size_t n = s.points();
  for (std::size_t p = 0; p + 1 < n; ++p) {
    const double a = s.field(1, 0, 0)[p] - 5e4, b = s.field(1, 0, 0)[p + 1] - 5e4, c = s.field(1, 0, 0)[(p + n / 2) % n] - 5e4;
    rms += a * a, neighbour += a * b, far += a * c;
  }
  CHECK(std::sqrt(rms / n) == Approx(100).epsilon(0.35));  // amplitude, within sampling error
  CHECK(neighbour / rms > 0.8);                            // 5 deg apart: strongly correlated
  CHECK(std::abs(far / rms) < 0.3);                        // half the globe apart: not
}

TEST_CASE("members are balanced over ranks") {
  CHECK(member_block(10, 0, 3) == std::pair{0, 3});
  CHECK(member_block(10, 1, 3) == std::pair{3, 6});
  CHECK(member_block(10, 2, 3) == std::pair{6, 10});
  CHECK(member_block(2, 2, 3) == std::pair{1, 2});
}

TEST_CASE("the GPU statistics path agrees with the CPU, or declines cleanly without a device") {
  std::mt19937 rng(2);
  std::normal_distribution<float> g(0, 3);
  const std::size_t members = 20, points = 4096;
  std::vector<float> values(members * points);
  for (auto& v : values) v = g(rng);
  StatisticsSpec spec;
  spec.thresholds = {1.0};
  std::vector<float> cpu(spec.names().size() * points), gpu(cpu.size(), -1.0f);
  point_statistics(values.data(), members, points, spec, cpu.data());
  const bool used = point_statistics_cuda(values.data(), members, points, spec, gpu.data());
  CHECK(used == cuda_statistics_available());
  if (!used) {
    WARN("no CUDA device: the CPU path serves (the kernel was compiled " <<
#ifdef GALE_HAVE_CUDA
         "with nvcc"
#else
         "out: no nvcc"
#endif
         << ")");
    CHECK(gpu[0] == -1.0f);  // untouched
    return;
  }
  for (std::size_t i = 0; i < cpu.size(); ++i) REQUIRE(gpu[i] == Approx(cpu[i]).epsilon(1e-6).margin(1e-6));
}
