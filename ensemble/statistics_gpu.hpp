#pragma once
// The ensemble statistics on a CUDA device, when one exists: the same results as
// point_statistics (one thread per point, members sorted in registers). Built only when
// CMake finds a CUDA compiler; without a device it returns false and the caller uses the
// CPU path.
#include <cstddef>

#include "ensemble/statistics.hpp"

namespace gale {

bool cuda_statistics_available();
// One GPU per rank: rank r on a node uses device r mod (devices on the node). No-op
// without CUDA or devices.
void select_cuda_device(int node_local_rank);
// Same contract as point_statistics; returns false (and leaves `out` alone) when no CUDA
// device is usable, so callers fall back to the CPU.
bool point_statistics_cuda(const float* values, std::size_t members, std::size_t points, const StatisticsSpec& spec,
                           float* out);

}  // namespace gale
