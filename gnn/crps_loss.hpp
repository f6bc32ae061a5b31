#pragma once
// The fair (unbiased) CRPS of an ensemble, the training loss of the one-pass generator
// (FGN / AIFS-ENS), as in /work/shared/CONVENTIONS.md: for M >= 2 members X_i and truth y
//   CRPS_fair = (1/M) sum_i |X_i - y| - 1 / (2 M (M - 1)) sum_i sum_j |X_i - X_j|,
// whose expectation over ensembles drawn from F is CRPS(F, y) for any M. The pairwise sum
// is computed from the sorted members in O(M log M):
//   sum_i sum_j |X_i - X_j| = 2 sum_k (2k - M - 1) X_(k),  k = 1..M in ascending order.
// Differentiable with autograd (sort's gradient routes through the permutation).
#include <ATen/core/Tensor.h>

namespace gale {

// Per point: members [M, ...], truth [...] -> [...] (the truth's shape).
at::Tensor fair_crps_pointwise(const at::Tensor& members, const at::Tensor& truth);

// The weighted mean over points, mean(crps * weights), weights broadcastable to the
// truth's shape (area x variable x level weights, as the deterministic MSE); a scalar.
at::Tensor fair_crps(const at::Tensor& members, const at::Tensor& truth, const at::Tensor& weights);

}  // namespace gale
