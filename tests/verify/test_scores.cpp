#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <random>

#include "verify/scores.hpp"

using namespace gale;

TEST_CASE("fair CRPS equals the brute-force pairwise formula") {
  std::mt19937 rng(3);
  std::normal_distribution<double> g(2, 3);
  for (int m : {2, 3, 10, 51}) {
    std::vector<double> x(m);
    for (auto& v : x) v = g(rng);
    const double y = g(rng);
    double a = 0, b = 0;
    for (double xi : x) {
      a += std::abs(xi - y);
      for (double xj : x) b += std::abs(xi - xj);
    }
    const double brute = a / m - b / (2.0 * m * (m - 1));
    auto copy = x;
    CHECK(fair_crps(copy, y) == Approx(brute).epsilon(1e-12));
    copy = x;
    CHECK(ensemble_crps(copy, y) == Approx(a / m - b / (2.0 * m * m)).epsilon(1e-12));
  }
}

TEST_CASE("fair CRPS of a large Gaussian ensemble matches the closed form") {
  std::mt19937 rng(5);
  const double mean = 1.5, sd = 2.0;
  std::normal_distribution<double> g(mean, sd);
  // Average over many cases: sampling error of the mean ~ 1e-3 relative.
  double sum = 0, exact = 0;
  const int cases = 400, m = 200;
  std::vector<double> x(m);
  for (int c = 0; c < cases; ++c) {
    for (auto& v : x) v = g(rng);
    const double y = g(rng);
    sum += fair_crps(x, y);
    exact += gaussian_crps(mean, sd, y);
  }
  CHECK(sum / cases == Approx(exact / cases).epsilon(0.02));
  CHECK(gaussian_crps(0, 1, 0) == Approx((std::sqrt(2.0) - 1) / std::sqrt(M_PI)).epsilon(1e-12));
}

TEST_CASE("RMSE, bias and ACC of synthetic fields with known answers") {
  const std::vector<double> w{1, 1, 2, 4};
  const float truth[] = {0, 1, 2, 3}, clim[] = {0, 0, 0, 0};
  const float forecast[] = {1, 3, 5, 7};  // errors 1, 2, 3, 4 weighted 1, 1, 2, 4
  const auto s = deterministic_scores(forecast, truth, w);
  CHECK(s.bias == Approx((1 + 2 + 6 + 16) / 8.0));
  CHECK(s.mse == Approx((1 + 4 + 18 + 64) / 8.0));
  CHECK(s.mae == Approx((1 + 2 + 6 + 16) / 8.0));
  CHECK(anomaly_correlation(truth, truth, clim, w) == Approx(1));
  const float opposite[] = {0, -1, -2, -3};
  CHECK(anomaly_correlation(opposite, truth, clim, w) == Approx(-1));
  // NaN points are left out of every mean.
  const float with_nan[] = {1, NAN, 3, 4};
  CHECK(deterministic_scores(with_nan, truth, w).weight == Approx(7));
}

TEST_CASE("a perfect ensemble has a flat rank histogram and spread-skill near 1") {
  std::mt19937 rng(11);
  std::normal_distribution<double> g;
  const int m = 9, points = 200000;
  std::vector<std::vector<float>> members(m, std::vector<float>(points));
  std::vector<float> truth(points);
  for (int p = 0; p < points; ++p) {
    const double centre = 3 * g(rng);  // varies from point to point
    truth[p] = float(centre + g(rng));
    for (int k = 0; k < m; ++k) members[k][p] = float(centre + g(rng));
  }
  std::vector<const float*> ptrs;
  for (auto& v : members) ptrs.push_back(v.data());
  const std::vector<double> w(points, 1.0);
  const auto s = ensemble_scores(ptrs, truth.data(), w);
  // Each bin holds points/(M+1); binomial sampling error ~ sqrt(n p (1-p)) = ~126: 5 sigma.
  for (double count : s.rank_histogram) CHECK(std::abs(count - points / double(m + 1)) < 5 * 126);
  const double spread_skill = std::sqrt(s.variance) / std::sqrt(s.mean_mse) * std::sqrt((m + 1.0) / m);
  CHECK(spread_skill == Approx(1).epsilon(0.02));
}

TEST_CASE("Brier score and reliability bins") {
  const float a[] = {1, 1, 0}, b[] = {1, 0, 0}, truth[] = {1, 0, 1};
  const std::vector<double> w{1, 1, 1};
  const auto s = probability_scores({a, b}, truth, w, 0.5);
  // probabilities 1, 0.5, 0; events 1, 0, 1: ((0)^2 + 0.25 + 1) / 3
  CHECK(s.brier == Approx(1.25 / 3));
  CHECK(s.bin_weight == std::vector<double>{1, 1, 1});
  CHECK(s.bin_observed == std::vector<double>{1, 0, 1});
}

TEST_CASE("ties in the rank histogram are split, not piled into one bin") {
  std::vector<int> counts(4, 0);
  const std::vector<double> x{1, 1, 1};
  for (std::uint64_t k = 0; k < 4000; ++k) ++counts[std::size_t(truth_rank(x, 1.0, k))];
  for (int c : counts) CHECK(std::abs(c - 1000) < 150);
}
