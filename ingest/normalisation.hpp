#pragma once
// Per-variable normalisation statistics, as GraphCast uses them: area-weighted mean and
// standard deviation of the states, and standard deviation of their differences over one
// model time step (the scale of the residual the network predicts).
#include <vector>

#include "core/time.hpp"
#include "ingest/dataset_index.hpp"

namespace gale {

struct NormalisationStats {
  std::vector<double> mean, stddev, diff_stddev;  // per variable, canonical units
};

// Streams the states at `times` (and at t + step where present) through Welford sums.
// Throws DataError when a variable is constant (a zero scale cannot normalise).
NormalisationStats compute_normalisation(const DatasetIndex& data, const std::vector<TimePoint>& times,
                                         Duration step);

}  // namespace gale
