#pragma once
// Verification scores (WeatherBench 2 definitions, see shared/CONVENTIONS.md). Point-wise
// kernels and area-weighted accumulators; everything in double precision.
//
// Area weights w are per point and need not be normalised: every mean here is
// sum(w x) / sum(w) over the points that are finite in both forecast and truth.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gale {

// Fair CRPS of one point's ensemble x[0..M) against truth y (M >= 2):
//   (1/M) sum_i |x_i - y| - 1/(2 M (M-1)) sum_i sum_j |x_i - x_j|, in O(M log M).
// `members` is reordered (sorted) in place.
double fair_crps(std::vector<double>& members, double truth);
// The standard (non-fair) CRPS, as properscoring's crps_ensemble: the same with 1/(2 M^2).
double ensemble_crps(std::vector<double>& members, double truth);
// CRPS of a Gaussian N(mean, sd^2) against y: sd (z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)).
double gaussian_crps(double mean, double sd, double truth);

// Rank of the truth among M members, 0..M (M + 1 bins); ties are split by a
// deterministic pseudo-random draw from `tie_key`, so a perfect ensemble with ties stays flat.
int truth_rank(const std::vector<double>& members, double truth, std::uint64_t tie_key);

// Deterministic scores over one field (area-weighted over points).
struct DeterministicScores {
  double bias = 0, mse = 0, mae = 0;
  double weight = 0;  // total weight of valid points
};
DeterministicScores deterministic_scores(const float* forecast, const float* truth,
                                         const std::vector<double>& weights);
// The same for a double-precision forecast (an ensemble mean kept in double).
DeterministicScores deterministic_scores(const double* forecast, const float* truth,
                                         const std::vector<double>& weights);

// Anomaly correlation of forecast and truth anomalies against a climatology (all three on
// the same points): mean_w(f' t') / sqrt(mean_w(f'^2) mean_w(t'^2)), anomalies without
// removing their area mean (WeatherBench 2).
double anomaly_correlation(const float* forecast, const float* truth, const float* climatology,
                           const std::vector<double>& weights);

// Ensemble scores over one field: members[m] points to member m's values.
struct EnsembleScores {
  double crps = 0;            // area-weighted mean fair CRPS
  double mean_mse = 0;        // of the ensemble mean
  double variance = 0;        // area-weighted mean ensemble variance (ddof 1)
  double weight = 0;
  std::vector<double> rank_histogram;  // M + 1 bins, counts weighted by area
};
EnsembleScores ensemble_scores(const std::vector<const float*>& members, const float* truth,
                               const std::vector<double>& weights, std::uint64_t seed = 0);

// Brier score and reliability for one threshold (event: value > threshold).
struct ProbabilityScores {
  double brier = 0, weight = 0;
  // Reliability diagram: per forecast-probability bin (M + 1 bins, k members above), the
  // summed weight and the summed weight of observed events.
  std::vector<double> bin_weight, bin_observed;
};
ProbabilityScores probability_scores(const std::vector<const float*>& members, const float* truth,
                                     const std::vector<double>& weights, double threshold);

}  // namespace gale
