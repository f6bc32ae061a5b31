// CUDA kernel for the per-point ensemble statistics (see statistics_gpu.hpp).
#include <cuda_runtime.h>

#include <vector>

#include "ensemble/statistics_gpu.hpp"

namespace gale {

namespace {
constexpr int kMaxMembers = 128;  // members sorted in a per-thread local array

__global__ void statistics_kernel(const float* values, int members, int points, const double* percentiles,
                                  int n_percentiles, const double* thresholds, int n_thresholds, float* out) {
  const int p = blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= points) return;
  double x[kMaxMembers];
  double mean = 0, m2 = 0;
  bool finite = true;
  for (int k = 0; k < members; ++k) {
    x[k] = values[std::size_t(k) * points + p];
    finite = finite && isfinite(x[k]);
    const double delta = x[k] - mean;
    mean += delta / double(k + 1);
    m2 += delta * (x[k] - mean);
  }
  const int nstat = 4 + n_percentiles + n_thresholds;
  if (!finite) {
    for (int s = 0; s < nstat; ++s) out[std::size_t(s) * points + p] = nanf("");
    return;
  }
  for (int i = 1; i < members; ++i) {  // insertion sort: members are few
    const double v = x[i];
    int j = i - 1;
    while (j >= 0 && x[j] > v) {
      x[j + 1] = x[j];
      --j;
    }
    x[j + 1] = v;
  }
  out[p] = float(mean);
  out[std::size_t(points) + p] = float(members > 1 ? sqrt(m2 / double(members - 1)) : 0.0);
  out[2 * std::size_t(points) + p] = float(x[0]);
  out[3 * std::size_t(points) + p] = float(x[members - 1]);
  int s = 4;
  for (int q = 0; q < n_percentiles; ++q, ++s) {
    const double rank = percentiles[q] / 100 * double(members - 1);
    const int lo = int(floor(rank)), hi = min(lo + 1, members - 1);
    out[std::size_t(s) * points + p] = float(x[lo] + (rank - double(lo)) * (x[hi] - x[lo]));
  }
  for (int t = 0; t < n_thresholds; ++t, ++s) {
    int count = 0;
    for (int k = 0; k < members; ++k) count += x[k] > thresholds[t];
    out[std::size_t(s) * points + p] = float(count);
  }
}
}  // namespace

bool cuda_statistics_available() {
  int devices = 0;
  return cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
}

void select_cuda_device(int node_local_rank) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0) cudaSetDevice(node_local_rank % devices);
}

bool point_statistics_cuda(const float* values, std::size_t members, std::size_t points, const StatisticsSpec& spec,
                           float* out) {
  if (members > std::size_t(kMaxMembers) || !cuda_statistics_available()) return false;
  const std::size_t nstat = 4 + spec.percentiles.size() + spec.thresholds.size();
  float *d_values = nullptr, *d_out = nullptr;
  double *d_q = nullptr, *d_t = nullptr;
  bool ok = cudaMalloc(&d_values, members * points * sizeof(float)) == cudaSuccess &&
            cudaMalloc(&d_out, nstat * points * sizeof(float)) == cudaSuccess &&
            cudaMalloc(&d_q, (spec.percentiles.size() + 1) * sizeof(double)) == cudaSuccess &&
            cudaMalloc(&d_t, (spec.thresholds.size() + 1) * sizeof(double)) == cudaSuccess;
  ok = ok && cudaMemcpy(d_values, values, members * points * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess;
  ok = ok && cudaMemcpy(d_q, spec.percentiles.data(), spec.percentiles.size() * sizeof(double),
                        cudaMemcpyHostToDevice) == cudaSuccess;
  ok = ok && cudaMemcpy(d_t, spec.thresholds.data(), spec.thresholds.size() * sizeof(double),
                        cudaMemcpyHostToDevice) == cudaSuccess;
  if (ok) {
    const int block = 128, grid = int((points + block - 1) / block);
    statistics_kernel<<<grid, block>>>(d_values, int(members), int(points), d_q, int(spec.percentiles.size()), d_t,
                                       int(spec.thresholds.size()), d_out);
    ok = cudaGetLastError() == cudaSuccess &&
         cudaMemcpy(out, d_out, nstat * points * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess;
  }
  cudaFree(d_values);
  cudaFree(d_out);
  cudaFree(d_q);
  cudaFree(d_t);
  return ok;
}

}  // namespace gale
