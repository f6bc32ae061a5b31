#include "ensemble/statistics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gale {

std::vector<std::string> StatisticsSpec::names() const {
  std::vector<std::string> n{"mean", "std", "min", "max"};
  for (double q : percentiles) n.push_back(fmt::format("p{:g}", q));
  for (double t : thresholds) n.push_back(fmt::format("count_gt_{:g}", t));
  return n;
}

void point_statistics(const float* values, std::size_t members, std::size_t points, const StatisticsSpec& spec,
                      float* out) {
  const std::size_t nstat = 4 + spec.percentiles.size() + spec.thresholds.size();
#pragma omp parallel
  {
  std::vector<double> x(members);
#pragma omp for schedule(static)
  for (std::size_t p = 0; p < points; ++p) {
    bool finite = true;
    double mean = 0, m2 = 0;
    for (std::size_t k = 0; k < members; ++k) {
      x[k] = values[k * points + p];
      finite &= std::isfinite(x[k]);
      // Welford: stable for large means and many members.
      const double delta = x[k] - mean;
      mean += delta / double(k + 1);
      m2 += delta * (x[k] - mean);
    }
    float* o = out + p;
    if (!finite) {
      for (std::size_t s = 0; s < nstat; ++s) o[s * points] = NAN;
      continue;
    }
    std::sort(x.begin(), x.end());
    o[0] = float(mean);
    o[1 * points] = float(members > 1 ? std::sqrt(m2 / double(members - 1)) : 0.0);
    o[2 * points] = float(x.front());
    o[3 * points] = float(x.back());
    std::size_t s = 4;
    for (double q : spec.percentiles) {
      const double rank = q / 100 * double(members - 1);
      const auto lo = std::size_t(std::floor(rank));
      const auto hi = std::min(lo + 1, members - 1);
      o[s++ * points] = float(x[lo] + (rank - double(lo)) * (x[hi] - x[lo]));
    }
    for (double t : spec.thresholds)
      o[s++ * points] = float(x.end() - std::upper_bound(x.begin(), x.end(), t));
  }
  }  // omp parallel
}

}  // namespace gale
