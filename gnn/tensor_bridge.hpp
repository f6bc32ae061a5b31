#pragma once
// The hand-over between xtensor-owned State data and LibTorch at the model boundary:
// a zero-copy view (the tensor aliases the State's memory; the State must outlive it).
#include <ATen/core/Tensor.h>

#include "core/state.hpp"

namespace gale {

// [member, time, variable, point] float32 view of the whole State.
at::Tensor view_as_tensor(State& state);

// Copies a [member, time, variable, point] tensor (any dtype/device) into the State,
// checking the shape; names the dimension that disagrees.
void copy_into_state(const at::Tensor& tensor, State& state);

// Sets LibTorch's intra-op threads (the default here is 1) from GALE_THREADS or the
// hardware concurrency.
void configure_torch_threads(int threads = 0);

}  // namespace gale
