#pragma once
// The fair (unbiased) CRPS of an ensemble, the training loss of the one-pass generator
// (FGN / AIFS-ENS), as in /work/shared/CONVENTIONS.md: for M >= 2 members X_i and truth y
//   CRPS_fair = (1/M) sum_i |X_i - y| - 1 / (2 M (M - 1)) sum_i sum_j |X_i - X_j|,
// whose expectation over ensembles drawn from F is CRPS(F, y) for any M. The pairwise sum
// is computed from the sorted members in O(M log M):
//   sum_i sum_j |X_i - X_j| = 2 sum_k (2k - M - 1) X_(k),  k = 1..M in ascending order.
// Differentiable with autograd (sort's gradient routes through the permutation).
//
// `alpha` < 1 gives AIFS-CRPS's almost fair CRPS (Lang et al. 2024),
//   afCRPS = alpha CRPS_fair + (1 - alpha) CRPS_ensemble,
// where CRPS_ensemble divides the pairwise sum by 2 M^2. With two members the fair CRPS is
// zero whenever the truth lies between them, however far apart they are: nothing in a single
// sample then pulls an over-spread pair together. The small plain share restores that pull.
#include <ATen/core/Tensor.h>

namespace gale {

// Per point: members [M, ...], truth [...] -> [...] (the truth's shape).
at::Tensor fair_crps_pointwise(const at::Tensor& members, const at::Tensor& truth, double alpha = 1.0);

// The weighted mean over points, mean(crps * weights), weights broadcastable to the
// truth's shape (area x variable x level weights, as the deterministic MSE); a scalar.
at::Tensor fair_crps(const at::Tensor& members, const at::Tensor& truth, const at::Tensor& weights,
                     double alpha = 1.0);

}  // namespace gale
