#pragma once
// Ensemble statistics at each point from all members (in member order, so the result
// does not depend on how members were spread over ranks): mean and standard deviation
// (Welford, ddof 1), minimum, maximum, exact percentiles (linear interpolation between
// order statistics, numpy's default) and counts of members above thresholds.
#include <cstddef>
#include <string>
#include <vector>

namespace gale {

struct StatisticsSpec {
  std::vector<double> percentiles{10, 50, 90};  // 0..100
  std::vector<double> thresholds;                // event: value > threshold
  // Names of the output fields, in order: mean, std, min, max, p<q>..., gt_<t>...
  std::vector<std::string> names() const;
};

// values: members x points (member-major); out: names().size() x points.
// NaN in any member gives NaN statistics at that point.
void point_statistics(const float* values, std::size_t members, std::size_t points, const StatisticsSpec& spec,
                      float* out);

}  // namespace gale
