// Built when no CUDA compiler is found: the GPU path reports itself unavailable.
#include "ensemble/statistics_gpu.hpp"

namespace gale {
bool cuda_statistics_available() { return false; }
void select_cuda_device(int) {}
bool point_statistics_cuda(const float*, std::size_t, std::size_t, const StatisticsSpec&, float*) { return false; }
}  // namespace gale
