#pragma once
// Forecasters to and from checkpoint files: the metadata that rebuilds the model (grid,
// variables, step, mesh, normalisation) and the checks that refuse a checkpoint which does
// not fit the run's config or data, naming the exact mismatch.
#include <torch/serialize/output-archive.h>

#include <sstream>
#include <string>

#include "gnn/checkpoint_file.hpp"
#include "gnn/forecaster.hpp"

namespace gale {

// Metadata that describes `model` (the caller adds config, data fingerprint, seed, step).
nlohmann::json forecaster_metadata(const ForecasterImpl& model);

// A module's weights or an optimiser's state as LibTorch archive bytes (anything with
// save(OutputArchive&)); load_weights reads a module's back.
template <typename Saveable>
std::string serialise_archive(Saveable& object) {
  torch::serialize::OutputArchive archive;
  object.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}
void load_weights(torch::nn::Module& module, const std::string& archive, const std::string& what);

// Rebuilds the forecaster a checkpoint describes and loads its weights (on the CPU):
// `model: gnn` the deterministic forecaster, `model: fgn` the generator (with noise_dim),
// `model: diffusion` the diffusion forecaster (with its `diffusion` settings: noise_embedding,
// sigma_data, p_mean, p_std and the sampler defaults {kind, steps, sigma_min, sigma_max,
// rho, s_churn, s_tmin, s_tmax (null: unbounded), s_noise}). `network` holds processor,
// attention_hops and heads only for the transformer processor (absent: the GNN).
Forecaster load_forecaster(const CheckpointFile& checkpoint, const std::string& path);
Forecaster load_forecaster(const std::string& path);

// Throws ConfigError "checkpoint PATH does not match ...: KEY is A in the checkpoint but B
// in the run" for the first of `keys` (JSON pointers, e.g. "/network/latent") that differs.
void require_matching(const nlohmann::json& checkpoint, const nlohmann::json& run, const std::vector<std::string>& keys,
                      const std::string& path, const std::string& run_name);

}  // namespace gale
