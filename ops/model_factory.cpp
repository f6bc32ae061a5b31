#include "ops/model_factory.hpp"

#include "gnn/gnn_stepper.hpp"
#include "gnn/model_io.hpp"
#include "gnn/tensor_bridge.hpp"

namespace gale {

std::unique_ptr<Stepper> make_gnn_stepper(const std::string& checkpoint, int threads) {
  configure_torch_threads(threads);
  return std::make_unique<GnnStepper>(load_forecaster(checkpoint), checkpoint);
}

std::string model_checkpoint_digest(const std::string& checkpoint) { return checkpoint_digest(checkpoint); }

}  // namespace gale
