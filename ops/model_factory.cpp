#include "ops/model_factory.hpp"

#include <fmt/format.h>

#include "core/errors.hpp"
#include "gnn/gnn_stepper.hpp"
#include "gnn/model_io.hpp"
#include "gnn/tensor_bridge.hpp"

namespace gale {

std::unique_ptr<Stepper> make_gnn_stepper(const std::string& checkpoint, int threads,
                                          const std::optional<ConfigNode>& sampler) {
  configure_torch_threads(threads);
  auto model = load_forecaster(checkpoint);
  std::optional<DiffusionSpec> diffusion = model->spec().diffusion;
  if (sampler && !diffusion)
    sampler->fail(fmt::format("applies to diffusion models only; {} is a {} model", checkpoint, model->spec().kind()));
  auto stepper = std::make_unique<GnnStepper>(std::move(model), checkpoint);
  if (sampler) {
    read_sampler_settings(*sampler, *diffusion, false);
    try {
      stepper->set_sampler(diffusion->sampler_kind, diffusion->sampler);  // validates
    } catch (const ConfigError& e) {
      sampler->fail(e.what());
    }
  }
  return stepper;
}

std::string model_checkpoint_digest(const std::string& checkpoint) { return checkpoint_digest(checkpoint); }

}  // namespace gale
