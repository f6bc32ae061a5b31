#include "verify/scores.hpp"

#include <algorithm>
#include <cmath>

#include "core/errors.hpp"

namespace gale {

namespace {
// sum_i sum_j |x_i - x_j| over sorted x: 2 sum_i (2 i - M + 1) x_i.
double pairwise_abs_sum(const std::vector<double>& sorted) {
  const double m = double(sorted.size());
  double s = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) s += (2.0 * double(i) - m + 1) * sorted[i];
  return 2 * s;
}
double mean_abs_error(const std::vector<double>& x, double y) {
  double s = 0;
  for (double v : x) s += std::abs(v - y);
  return s / double(x.size());
}
std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

double fair_crps(std::vector<double>& members, double truth) {
  const std::size_t m = members.size();
  if (m < 2) throw UserError("fair CRPS needs at least two members");
  std::sort(members.begin(), members.end());
  return mean_abs_error(members, truth) - pairwise_abs_sum(members) / (2.0 * double(m) * double(m - 1));
}

double ensemble_crps(std::vector<double>& members, double truth) {
  const std::size_t m = members.size();
  if (m < 1) throw UserError("CRPS needs at least one member");
  std::sort(members.begin(), members.end());
  return mean_abs_error(members, truth) - pairwise_abs_sum(members) / (2.0 * double(m) * double(m));
}

double gaussian_crps(double mean, double sd, double truth) {
  if (!(sd > 0)) return std::abs(truth - mean);
  const double z = (truth - mean) / sd;
  const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
  const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
  return sd * (z * (2 * cdf - 1) + 2 * pdf - 1 / std::sqrt(M_PI));
}

int truth_rank(const std::vector<double>& members, double truth, std::uint64_t tie_key) {
  int below = 0, ties = 0;
  for (double x : members) {
    below += x < truth;
    ties += x == truth;
  }
  if (ties == 0) return below;
  return below + int(mix(tie_key) % std::uint64_t(ties + 1));
}

namespace {
template <class T>
DeterministicScores deterministic(const T* forecast, const float* truth, const std::vector<double>& weights) {
  DeterministicScores s;
  for (std::size_t p = 0; p < weights.size(); ++p) {
    const double f = forecast[p], t = truth[p];
    if (!std::isfinite(f) || !std::isfinite(t)) continue;
    const double w = weights[p], e = f - t;
    s.bias += w * e;
    s.mse += w * e * e;
    s.mae += w * std::abs(e);
    s.weight += w;
  }
  if (s.weight > 0) s.bias /= s.weight, s.mse /= s.weight, s.mae /= s.weight;
  return s;
}
}  // namespace

DeterministicScores deterministic_scores(const float* forecast, const float* truth,
                                         const std::vector<double>& weights) {
  return deterministic(forecast, truth, weights);
}

DeterministicScores deterministic_scores(const double* forecast, const float* truth,
                                         const std::vector<double>& weights) {
  return deterministic(forecast, truth, weights);
}

double anomaly_correlation(const float* forecast, const float* truth, const float* climatology,
                           const std::vector<double>& weights) {
  double ft = 0, ff = 0, tt = 0;
  for (std::size_t p = 0; p < weights.size(); ++p) {
    const double c = climatology[p];
    const double f = forecast[p] - c, t = truth[p] - c;
    if (!std::isfinite(f) || !std::isfinite(t)) continue;
    ft += weights[p] * f * t;
    ff += weights[p] * f * f;
    tt += weights[p] * t * t;
  }
  return ff > 0 && tt > 0 ? ft / std::sqrt(ff * tt) : NAN;
}

EnsembleScores ensemble_scores(const std::vector<const float*>& members, const float* truth,
                               const std::vector<double>& weights, std::uint64_t seed) {
  const std::size_t m = members.size();
  if (m < 2) throw UserError("ensemble scores need at least two members");
  EnsembleScores s;
  std::vector<double> hist(m + 1, 0.0);
  double* h = hist.data();
  double crps = 0, mean_mse = 0, variance = 0, weight = 0;
  const long n = long(weights.size());
#pragma omp parallel reduction(+ : crps, mean_mse, variance, weight) reduction(+ : h[:m + 1])
  {
    std::vector<double> x(m);
#pragma omp for schedule(static)
    for (long p = 0; p < n; ++p) {
      const double y = truth[p];
      bool finite = std::isfinite(y);
      for (std::size_t k = 0; k < m && finite; ++k) {
        x[k] = members[k][p];
        finite = std::isfinite(x[k]);
      }
      if (!finite) continue;
      // One sort serves the rank, the fair CRPS and (order-free) the moments.
      std::sort(x.begin(), x.end());
      double sum = 0, abs_err = 0;
      for (double v : x) sum += v, abs_err += std::abs(v - y);
      const double mean = sum / double(m);
      double var = 0;
      for (double v : x) var += (v - mean) * (v - mean);
      var /= double(m - 1);
      const double w = weights[std::size_t(p)];
      h[truth_rank(x, y, seed ^ (std::uint64_t(p) * 0x100000001b3ULL))] += w;
      crps += w * (abs_err / double(m) - pairwise_abs_sum(x) / (2.0 * double(m) * double(m - 1)));
      mean_mse += w * (mean - y) * (mean - y);
      variance += w * var;
      weight += w;
    }
  }
  s.rank_histogram = std::move(hist);
  s.weight = weight;
  if (weight > 0) {
    s.crps = crps / weight;
    s.mean_mse = mean_mse / weight;
    s.variance = variance / weight;
  }
  return s;
}

ProbabilityScores probability_scores(const std::vector<const float*>& members, const float* truth,
                                     const std::vector<double>& weights, double threshold) {
  const std::size_t m = members.size();
  ProbabilityScores s;
  s.bin_weight.assign(m + 1, 0.0);
  s.bin_observed.assign(m + 1, 0.0);
  for (std::size_t p = 0; p < weights.size(); ++p) {
    const double y = truth[p];
    if (!std::isfinite(y)) continue;
    std::size_t above = 0;
    bool finite = true;
    for (std::size_t k = 0; k < m; ++k) {
      const double v = members[k][p];
      finite &= std::isfinite(v);
      above += v > threshold;
    }
    if (!finite) continue;
    const double prob = double(above) / double(m), event = y > threshold ? 1.0 : 0.0;
    const double w = weights[p];
    s.brier += w * (event - prob) * (event - prob);
    s.weight += w;
    s.bin_weight[above] += w;
    s.bin_observed[above] += w * event;
  }
  if (s.weight > 0) s.brier /= s.weight;
  return s;
}

}  // namespace gale
