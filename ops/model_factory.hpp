#pragma once
// Learned models for `gale forecast`, built from their checkpoint files. The interface is
// torch-free; without LibTorch (GALE_WITH_TORCH=OFF) it refuses with a clear message.
#include <memory>
#include <string>

#include "core/stepper.hpp"

namespace gale {

std::unique_ptr<Stepper> make_gnn_stepper(const std::string& checkpoint, int threads);
// SHA-256 of a checkpoint file's content (its provenance identity).
std::string model_checkpoint_digest(const std::string& checkpoint);

}  // namespace gale
