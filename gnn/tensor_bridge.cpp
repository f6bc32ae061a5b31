#include "gnn/tensor_bridge.hpp"

#include <ATen/Parallel.h>
#include <ATen/ops/from_blob.h>
#include <fmt/format.h>

#include <cstdlib>
#include <thread>

#include "core/errors.hpp"

namespace gale {

at::Tensor view_as_tensor(State& state) {
  const auto& s = state.data().shape();
  const std::vector<int64_t> sizes{int64_t(s[0]), int64_t(s[1]), int64_t(s[2]), int64_t(s[3])};
  return at::from_blob(state.data().data(), sizes, at::TensorOptions().dtype(at::kFloat));
}

void copy_into_state(const at::Tensor& tensor, State& state) {
  static const char* dims[] = {"member", "time", "variable", "point"};
  if (tensor.dim() != 4)
    throw DataError(fmt::format("model output has {} dimensions, expected 4 "
                                "[member, time, variable, point]", tensor.dim()));
  const auto& s = state.data().shape();
  for (int d = 0; d < 4; ++d)
    if (tensor.size(d) != int64_t(s[d]))
      throw DataError(fmt::format("model output dimension '{}' has {} entries, the state {}",
                                  dims[d], tensor.size(d), s[d]));
  view_as_tensor(state).copy_(tensor.to(at::kCPU, at::kFloat));
}

void configure_torch_threads(int threads) {
  if (threads <= 0) {
    const char* env = std::getenv("GALE_THREADS");
    threads = env ? std::atoi(env) : int(std::thread::hardware_concurrency());
  }
  at::set_num_threads(std::max(1, threads));
}

}  // namespace gale
