#include "gnn/crps_loss.hpp"

#include <ATen/ATen.h>

namespace gale {

at::Tensor fair_crps_pointwise(const at::Tensor& members, const at::Tensor& truth, double alpha) {
  const auto M = members.size(0);
  TORCH_CHECK(M >= 2, "the fair CRPS needs at least two members, got ", M);
  TORCH_CHECK(members.sizes().slice(1) == truth.sizes(), "fair_crps: members [M, ...] and truth [...] differ in shape");
  const auto skill = (members - truth.unsqueeze(0)).abs().mean(0);
  const auto sorted = std::get<0>(members.sort(0));
  // (2k - M - 1) for k = 1..M, broadcast over the point dimensions.
  std::vector<std::int64_t> shape(std::size_t(members.dim()), 1);
  shape.front() = M;
  const auto rank_weight = (at::arange(1, M + 1, members.options()) * 2 - double(M + 1)).view(shape);
  // sum_ij |Xi - Xj| / 2, times alpha / (M (M - 1)) (fair) + (1 - alpha) / M^2 (ensemble).
  const double m = double(M);
  const double coefficient = alpha / (m * (m - 1)) + (1 - alpha) / (m * m);
  return skill - (sorted * rank_weight).sum(0) * coefficient;
}

at::Tensor fair_crps(const at::Tensor& members, const at::Tensor& truth, const at::Tensor& weights, double alpha) {
  return (fair_crps_pointwise(members, truth, alpha) * weights).mean();
}

}  // namespace gale
