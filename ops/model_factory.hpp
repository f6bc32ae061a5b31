#pragma once
// Learned models for `gale forecast`, built from their checkpoint files. The interface is
// torch-free; without LibTorch (GALE_WITH_TORCH=OFF) it refuses with a clear message.
#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/stepper.hpp"

namespace gale {

// `forecast.model: {type: gnn, checkpoint: FILE}`: the kind comes from the checkpoint's
// metadata: `model: gnn` gives the deterministic forecaster, `model: fgn` the one-pass
// generator (a Stepper named "fgn" whose members draw their noise from the StepKey),
// `model: diffusion` the diffusion forecaster (a Stepper named "diffusion" sampling with the
// checkpoint's sampler settings, or with `sampler` (kind, steps, s_churn, s_tmin, s_tmax,
// s_noise) overriding them; the noise schedule stays the checkpoint's). A sampler section
// for any other model is a ConfigError naming the key.
std::unique_ptr<Stepper> make_gnn_stepper(const std::string& checkpoint, int threads,
                                          const std::optional<ConfigNode>& sampler);
// SHA-256 of a checkpoint file's content (its provenance identity).
std::string model_checkpoint_digest(const std::string& checkpoint);

}  // namespace gale
