#pragma once
// The deterministic forecaster on tensors: normalisation and residual prediction wrapped
// around the graph network, so the network sees only normalised inputs and predicts the
// normalised 6 h difference. Training (which needs gradients through rollouts) and the
// State-level GnnStepper both go through forward().
#include <memory>
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"
#include "core/variable.hpp"
#include "gnn/graph_network.hpp"
#include "ingest/normalisation.hpp"

namespace gale {

struct ForecasterSpec {
  std::vector<Variable> variables;  // prognostic variables, in channel order
  Duration step = std::chrono::hours(6);
  GraphNetworkSpec network;
};

class ForecasterImpl : public torch::nn::Module {
 public:
  ForecasterImpl(ForecasterSpec spec, std::shared_ptr<const Grid> grid, NormalisationStats stats);

  // previous, current: [B, V, P] in canonical units, valid at times[b] - step and times[b].
  // Returns the forecast for times[b] + step, [B, V, P] in canonical units.
  at::Tensor forward(const at::Tensor& previous, const at::Tensor& current, const std::vector<TimePoint>& times);
  // The network's input channels for the same arguments: [B, P, 2V + static + 3 forcings].
  at::Tensor network_inputs(const at::Tensor& previous, const at::Tensor& current,
                            const std::vector<TimePoint>& times) const;
  // Per-variable scale of one step's difference, [V, 1]: the loss is measured in it.
  const at::Tensor& difference_scale() const { return diff_std_; }

  void to_device(const at::Device& device);
  const at::Device& device() const { return device_; }
  const ForecasterSpec& spec() const { return spec_; }
  const std::shared_ptr<const Grid>& grid() const { return grid_; }
  const NormalisationStats& stats() const { return stats_; }
  static std::int64_t input_channels(std::size_t variables);

  GraphNetwork network{nullptr};

 private:
  ForecasterSpec spec_;
  std::shared_ptr<const Grid> grid_;
  NormalisationStats stats_;
  at::Tensor mean_, std_, diff_std_, static_;  // [V,1], [V,1], [V,1], [P, static]
  at::Device device_ = at::kCPU;
};
TORCH_MODULE(Forecaster);

}  // namespace gale
