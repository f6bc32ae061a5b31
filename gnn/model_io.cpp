#include "gnn/model_io.hpp"

#include <fmt/format.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <sstream>

#include "core/errors.hpp"

namespace gale {

nlohmann::json forecaster_metadata(const ForecasterImpl& model) {
  const auto& spec = model.spec();
  const auto& grid = *model.grid();
  nlohmann::json j;
  j["format"] = "gale-checkpoint";
  j["model"] = "gnn";
  std::vector<std::string> keys;
  for (const auto& v : spec.variables) keys.push_back(v.key());
  j["variables"] = keys;
  j["time_step_hours"] = double(spec.step.count()) / 3600.0;
  j["grid"] = {{"kind", to_string(grid.kind())},
               {"latitudes", grid.row_latitudes()},
               {"longitudes", grid.longitudes()},
               {"fingerprint", grid.fingerprint()}};
  j["network"] = {{"mesh_level", spec.network.mesh_level},
                  {"latent", spec.network.latent},
                  {"layers", spec.network.layers},
                  {"radius_factor", spec.network.radius_factor}};
  const auto& s = model.stats();
  j["normalisation"] = {{"mean", s.mean}, {"stddev", s.stddev}, {"diff_stddev", s.diff_stddev}};
  return j;
}

void load_weights(torch::nn::Module& module, const std::string& bytes, const std::string& what) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size());
    module.load(archive);
  } catch (const c10::Error& e) {
    throw InputError(fmt::format("{}: the weights do not fit the model the metadata describes: {}", what,
                                 e.what_without_backtrace()));
  }
}

Forecaster load_forecaster(const CheckpointFile& checkpoint, const std::string& path) {
  const auto& j = checkpoint.metadata;
  try {
    if (j.at("format") != "gale-checkpoint" || j.at("model") != "gnn")
      throw InputError(fmt::format("{}: not a gnn forecaster checkpoint (model '{}')", path,
                                   j.value("model", std::string("?"))));
    ForecasterSpec spec;
    for (const auto& key : j.at("variables")) spec.variables.push_back(parse_variable_key(key.get<std::string>()));
    spec.step = Duration(std::int64_t(j.at("time_step_hours").get<double>() * 3600 + 0.5));
    const auto& n = j.at("network");
    spec.network = {n.at("mesh_level").get<int>(), n.at("latent").get<int>(), n.at("layers").get<int>(),
                    n.at("radius_factor").get<double>()};
    const auto& g = j.at("grid");
    const auto kind = g.at("kind").get<std::string>() == "regular_gg" ? GridKind::regular_gaussian : GridKind::regular_ll;
    auto grid = Grid::regular(kind, g.at("latitudes").get<std::vector<double>>(),
                              g.at("longitudes").get<std::vector<double>>());
    if (grid->fingerprint() != g.at("fingerprint").get<std::string>())
      throw InputError(fmt::format("{}: the grid rebuilt from the metadata has another fingerprint", path));
    const auto& s = j.at("normalisation");
    NormalisationStats stats{s.at("mean").get<std::vector<double>>(), s.at("stddev").get<std::vector<double>>(),
                             s.at("diff_stddev").get<std::vector<double>>()};
    Forecaster model(spec, grid, stats);
    load_weights(*model, checkpoint.weights, path);
    return model;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: checkpoint metadata incomplete: {}", path, e.what()));
  }
}

Forecaster load_forecaster(const std::string& path) { return load_forecaster(read_checkpoint_file(path), path); }

void require_matching(const nlohmann::json& checkpoint, const nlohmann::json& run, const std::vector<std::string>& keys,
                      const std::string& path, const std::string& run_name) {
  for (const auto& key : keys) {
    const nlohmann::json::json_pointer pointer(key);
    const auto a = checkpoint.contains(pointer) ? checkpoint.at(pointer).dump() : "(absent)";
    const auto b = run.contains(pointer) ? run.at(pointer).dump() : "(absent)";
    if (a != b)
      throw ConfigError(fmt::format("checkpoint {} does not match {}: {} is {} in the checkpoint but {} in {}", path,
                                    run_name, key, a.size() > 80 ? a.substr(0, 77) + "..." : a,
                                    b.size() > 80 ? b.substr(0, 77) + "..." : b, run_name));
  }
}

}  // namespace gale
