#pragma once
// numpy.percentile(x, q) with its default "linear" method, in double: the reference the
// product tests check Gale's percentiles against.
#include <algorithm>
#include <cmath>
#include <vector>

namespace gale::test {
inline double numpy_percentile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  const double rank = q / 100 * double(x.size() - 1);
  const auto lo = std::size_t(std::floor(rank));
  const auto hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (rank - double(lo)) * (x[hi] - x[lo]);
}
}  // namespace gale::test
