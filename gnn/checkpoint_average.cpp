#include "gnn/checkpoint_average.hpp"

#include <ATen/core/grad_mode.h>
#include <fmt/format.h>

#include <filesystem>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "gnn/model_io.hpp"

namespace gale {

CheckpointFile average_checkpoints(const std::vector<std::string>& paths) {
  if (paths.size() < 2)
    throw ConfigError(fmt::format("average-checkpoints: {} checkpoint given; averaging needs two or more",
                                  paths.size()));
  // Everything that makes two checkpoints the same model (the training history may differ).
  static const std::vector<std::string> kSameModel{
      "/model",     "/variables",  "/time_step_hours", "/grid/fingerprint", "/network/processor",
      "/network/mesh_level", "/network/latent", "/network/layers", "/network", "/noise_dim", "/diffusion",
      "/normalisation"};
  CheckpointFile first = read_checkpoint_file(paths.front());
  Forecaster average = load_forecaster(first, paths.front());
  const auto reference = forecaster_metadata(*average);
  at::NoGradGuard no_grad;
  // Sums in double. The models hold no buffers: their constants (mesh, normalisation) are
  // rebuilt from the metadata checked above, so the parameters are all there is to average.
  if (!average->buffers(true).empty())
    throw InternalError("average_checkpoints: the model has buffers, which this average leaves out");
  auto target = average->named_parameters(true);
  std::vector<at::Tensor> sums;
  for (const auto& t : target) sums.push_back(t.value().to(at::kDouble));
  nlohmann::json sources = nlohmann::json::array();
  auto record = [&](const CheckpointFile& file, const std::string& path) {
    sources.push_back({{"file", std::filesystem::path(path).filename().string()},
                       {"sha256", sha256_file(path)},  // of the file, as init_from records it
                       {"step", file.metadata.contains("training") ? file.metadata.at("training").value("step", -1) : -1}});
  };
  record(first, paths.front());
  nlohmann::json last_metadata = first.metadata;
  for (std::size_t i = 1; i < paths.size(); ++i) {
    const auto file = read_checkpoint_file(paths[i]);
    auto model = load_forecaster(file, paths[i]);
    require_matching(forecaster_metadata(*model), reference, kSameModel, paths[i], paths.front());
    const auto tensors = model->named_parameters(true);
    for (std::size_t k = 0; k < tensors.size(); ++k) {  // same model: same names in the same order
      if (tensors[k].key() != target[k].key())
        throw InputError(fmt::format("{}: holds {} where {} holds {}", paths[i], tensors[k].key(), paths.front(),
                                     target[k].key()));
      sums[k] += tensors[k].value().to(at::kDouble);
    }
    record(file, paths[i]);
    last_metadata = file.metadata;
  }
  for (std::size_t k = 0; k < target.size(); ++k) target[k].value().copy_(sums[k] / double(paths.size()));
  last_metadata["averaged_from"] = sources;
  return CheckpointFile{last_metadata, serialise_archive(*average), ""};
}

}  // namespace gale
