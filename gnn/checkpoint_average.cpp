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
  // Sums in double, parameters and buffers alike (buffers are constants of the model, so
  // their mean is themselves; integer ones must simply agree).
  auto tensors_of = [](ForecasterImpl& model) {
    auto named = model.named_parameters(true);
    for (const auto& b : model.named_buffers(true)) named.insert(b.key(), b.value());
    return named;
  };
  auto target = tensors_of(*average);
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
    const auto tensors = tensors_of(*model);
    for (std::size_t k = 0; k < tensors.size(); ++k) {  // same model: same names in the same order
      if (tensors[k].key() != target[k].key())
        throw InputError(fmt::format("{}: holds {} where {} holds {}", paths[i], tensors[k].key(), paths.front(),
                                     target[k].key()));
      const auto& value = tensors[k].value();
      if (!at::isFloatingType(value.scalar_type()) && !at::equal(value, target[k].value()))
        throw InputError(fmt::format("{}: the model constant {} differs from {}'s", paths[i], tensors[k].key(),
                                     paths.front()));
      sums[k] += value.to(at::kDouble);
    }
    record(file, paths[i]);
    last_metadata = file.metadata;
  }
  std::size_t k = 0;
  for (auto& t : target) {
    auto& value = t.value();
    if (at::isFloatingType(value.scalar_type())) value.copy_(sums[k] / double(paths.size()));
    ++k;
  }
  last_metadata["averaged_from"] = sources;
  return CheckpointFile{last_metadata, serialise_archive(*average), ""};
}

}  // namespace gale
