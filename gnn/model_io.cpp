#include "gnn/model_io.hpp"

#include <fmt/format.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "core/errors.hpp"

namespace gale {

namespace {

nlohmann::json diffusion_metadata(const DiffusionSpec& d) {
  const auto& s = d.sampler;
  return {{"noise_embedding", d.noise_embedding},
          {"sigma_data", d.edm.sigma_data},
          {"p_mean", d.edm.p_mean},
          {"p_std", d.edm.p_std},
          {"sampler",
           {{"kind", diffusion::to_string(d.sampler_kind)},
            {"steps", s.steps},
            {"sigma_min", d.edm.sigma_min},
            {"sigma_max", d.edm.sigma_max},
            {"rho", d.edm.rho},
            {"s_churn", s.s_churn},
            {"s_tmin", s.s_tmin},
            {"s_tmax", std::isfinite(s.s_tmax) ? nlohmann::json(s.s_tmax) : nlohmann::json(nullptr)},  // null: no bound
            {"s_noise", s.s_noise}}}};
}

DiffusionSpec parse_diffusion_metadata(const nlohmann::json& j) {
  DiffusionSpec d;
  d.noise_embedding = j.at("noise_embedding").get<int>();
  d.edm.sigma_data = j.at("sigma_data").get<double>();
  d.edm.p_mean = j.at("p_mean").get<double>();
  d.edm.p_std = j.at("p_std").get<double>();
  const auto& s = j.at("sampler");
  d.sampler_kind = diffusion::parse_sampler_kind(s.at("kind").get<std::string>());
  d.sampler.steps = s.at("steps").get<int>();
  d.edm.sigma_min = s.at("sigma_min").get<double>();
  d.edm.sigma_max = s.at("sigma_max").get<double>();
  d.edm.rho = s.at("rho").get<double>();
  d.sampler.s_churn = s.at("s_churn").get<double>();
  d.sampler.s_tmin = s.at("s_tmin").get<double>();
  d.sampler.s_tmax = s.at("s_tmax").is_null() ? std::numeric_limits<double>::infinity() : s.at("s_tmax").get<double>();
  d.sampler.s_noise = s.at("s_noise").get<double>();
  return d;
}

}  // namespace

nlohmann::json forecaster_metadata(const ForecasterImpl& model) {
  const auto& spec = model.spec();
  const auto& grid = *model.grid();
  nlohmann::json j;
  j["format"] = "gale-checkpoint";
  j["model"] = spec.kind();
  if (spec.generative()) j["noise_dim"] = spec.network.conditioning;
  if (spec.diffusion) j["diffusion"] = diffusion_metadata(*spec.diffusion);
  std::vector<std::string> keys;
  for (const auto& v : spec.variables) keys.push_back(v.key());
  j["variables"] = keys;
  // Only when set: other checkpoints' metadata (and the committed ones) stay as they were.
  if (!spec.conserve_global_mean.empty()) j["conserve_global_mean"] = spec.conserve_global_mean;
  j["time_step_hours"] = double(spec.step.count()) / 3600.0;
  j["grid"] = {{"kind", to_string(grid.kind())},
               {"latitudes", grid.row_latitudes()},
               {"longitudes", grid.longitudes()},
               {"fingerprint", grid.fingerprint()}};
  j["network"] = {{"mesh_level", spec.network.mesh_level},
                  {"latent", spec.network.latent},
                  {"layers", spec.network.layers},
                  {"radius_factor", spec.network.radius_factor}};
  // Only for the transformer: a GNN's metadata (and committed checkpoints) stay as they were.
  if (spec.network.transformer()) {
    j["network"]["processor"] = spec.network.processor;
    j["network"]["attention_hops"] = spec.network.attention_hops;
    j["network"]["heads"] = spec.network.heads;
  }
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
    const auto model_kind = j.at("model");
    if (j.at("format") != "gale-checkpoint" || (model_kind != "gnn" && model_kind != "fgn" && model_kind != "diffusion"))
      throw InputError(fmt::format("{}: not a gnn, fgn or diffusion forecaster checkpoint (model '{}')", path,
                                   j.value("model", std::string("?"))));
    ForecasterSpec spec;
    for (const auto& key : j.at("variables")) spec.variables.push_back(parse_variable_key(key.get<std::string>()));
    spec.step = Duration(std::int64_t(j.at("time_step_hours").get<double>() * 3600 + 0.5));
    const auto& n = j.at("network");
    spec.network = {n.at("mesh_level").get<int>(), n.at("latent").get<int>(), n.at("layers").get<int>(),
                    n.at("radius_factor").get<double>()};
    spec.network.processor = n.value("processor", std::string("gnn"));  // absent: a GNN checkpoint
    if (spec.network.processor != "gnn" && !spec.network.transformer())
      throw InputError(fmt::format("{}: unknown network.processor '{}' (gnn or transformer)", path,
                                   spec.network.processor));
    if (spec.network.transformer()) {
      spec.network.attention_hops = n.at("attention_hops").get<int>();
      spec.network.heads = n.at("heads").get<int>();
      if (spec.network.attention_hops < 1 || spec.network.attention_hops > GraphNetworkSpec::kMaxAttentionHops || spec.network.heads < 1 ||
          spec.network.latent % spec.network.heads != 0)
        throw InputError(fmt::format("{}: invalid transformer metadata: attention_hops {}, heads {}, latent {}", path,
                                     spec.network.attention_hops, spec.network.heads, spec.network.latent));
    }
    if (j.at("model") == "fgn") {
      spec.network.conditioning = j.at("noise_dim").get<int>();
      if (spec.network.conditioning < 1)
        throw InputError(fmt::format("{}: an fgn checkpoint needs noise_dim >= 1", path));
    }
    if (model_kind == "diffusion") {
      try {
        spec.diffusion = parse_diffusion_metadata(j.at("diffusion"));
        spec.diffusion->validate();
      } catch (const ConfigError& e) {
        throw InputError(fmt::format("{}: invalid diffusion metadata: {}", path, e.what()));
      }
      spec.network.conditioning = spec.diffusion->noise_embedding;
    }
    if (j.contains("conserve_global_mean")) {
      spec.conserve_global_mean = j.at("conserve_global_mean").get<std::vector<std::string>>();
      for (const auto& key : spec.conserve_global_mean)
        if (std::none_of(spec.variables.begin(), spec.variables.end(), [&](const Variable& v) { return v.key() == key; }))
          throw InputError(fmt::format("{}: conserve_global_mean names '{}', which is not a variable of the model", path, key));
      if (spec.diffusion) throw InputError(fmt::format("{}: conserve_global_mean is not for a diffusion model", path));
    }
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
