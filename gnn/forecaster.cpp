#include "gnn/forecaster.hpp"

#include <ATen/ATen.h>

#include "gnn/forcings.hpp"

namespace gale {

namespace {
at::Tensor column(const std::vector<double>& values) {
  return at::tensor(std::vector<float>(values.begin(), values.end()), at::kFloat).reshape({-1, 1});
}
}  // namespace

std::int64_t ForecasterImpl::input_channels(std::size_t variables) {
  return std::int64_t(2 * variables) + kStaticFeatures + 3 * kTimeForcings;
}

ForecasterImpl::ForecasterImpl(ForecasterSpec spec, std::shared_ptr<const Grid> grid, NormalisationStats stats)
    : spec_(std::move(spec)), grid_(std::move(grid)), stats_(std::move(stats)) {
  const auto V = spec_.variables.size();
  network = register_module("network", GraphNetwork(spec_.network, *grid_, input_channels(V), std::int64_t(V)));
  mean_ = column(stats_.mean);
  std_ = column(stats_.stddev);
  diff_std_ = column(stats_.diff_stddev);
  static_ = at::tensor(static_features(*grid_), at::kFloat).reshape({-1, kStaticFeatures});
}

void ForecasterImpl::to_device(const at::Device& device) {
  device_ = device;
  network->to_device(device);
  mean_ = mean_.to(device);
  std_ = std_.to(device);
  diff_std_ = diff_std_.to(device);
  static_ = static_.to(device);
}

at::Tensor ForecasterImpl::network_inputs(const at::Tensor& previous, const at::Tensor& current,
                                          const std::vector<TimePoint>& times) const {
  const auto batch = previous.size(0);
  const auto points = std::int64_t(grid_->size());
  std::vector<at::Tensor> forcing;
  for (const auto t : times) {
    std::vector<at::Tensor> at_times;
    for (const auto when : {t - spec_.step, t, t + spec_.step})
      at_times.push_back(at::tensor(time_forcings(*grid_, when), at::kFloat).reshape({points, kTimeForcings}));
    forcing.push_back(at::cat(at_times, 1));
  }
  return at::cat({((previous - mean_) / std_).transpose(1, 2), ((current - mean_) / std_).transpose(1, 2),
                  static_.unsqueeze(0).expand({batch, -1, -1}), at::stack(forcing).to(device_)},
                 2);
}

at::Tensor ForecasterImpl::forward(const at::Tensor& previous, const at::Tensor& current,
                                   const std::vector<TimePoint>& times) {
  const auto residual = network->forward(network_inputs(previous, current, times)).transpose(1, 2);
  return current + residual * diff_std_;
}

}  // namespace gale
