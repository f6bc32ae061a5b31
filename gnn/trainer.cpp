#include "gnn/trainer.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <random>
#include <sstream>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/stepper.hpp"
#include "ensemble/on_rank0.hpp"
#include "gnn/checkpoint_average.hpp"
#include "gnn/conditional_norm.hpp"
#include "gnn/crps_loss.hpp"
#include "gnn/diffusion_forecaster.hpp"
#include "gnn/model_io.hpp"
#include "gnn/tensor_bridge.hpp"
#include "grids/cells.hpp"
#include "ingest/normalisation.hpp"


namespace gale {

namespace {

constexpr double kPi = 3.14159265358979323846;

Period parse_period(const ConfigNode& node) {
  node.allow_only({"start", "end"});
  auto when = [&](const char* key) {
    try {
      return parse_iso8601(node.get_string(key), node.path() + "." + key);
    } catch (const ConfigError&) {
      throw;
    } catch (const UserError& e) {
      node.at(key).fail(e.what());
    }
  };
  Period p{when("start"), when("end")};
  if (!(p.end > p.start)) node.fail("end must be after start");
  return p;
}

nlohmann::json to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& kv : node) j[kv.first.as<std::string>()] = to_json(kv.second);
    return j;
  }
  if (node.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& v : node) j.push_back(to_json(v));
    return j;
  }
  return node.IsScalar() ? nlohmann::json(node.as<std::string>()) : nlohmann::json();
}

// Per variable: configured weight x pressure-level weight (level / mean level of the
// variables with that name, as GraphCast weighs upper levels less).
std::vector<double> variable_weights(const TrainingSpec& spec) {
  std::vector<double> w;
  for (const auto& v : spec.variables) {
    double level_weight = 1;
    if (v.level_kind == LevelKind::isobaric) {
      double sum = 0;
      int n = 0;
      for (const auto& o : spec.variables)
        if (o.name == v.name && o.level_kind == LevelKind::isobaric) sum += o.level, ++n;
      level_weight = v.level / (sum / n);
    }
    const auto it = spec.variable_weights.find(v.key());
    w.push_back((it == spec.variable_weights.end() ? 1.0 : it->second) * level_weight);
  }
  return w;
}

// The training sample order: epoch e visits the samples in a permutation seeded by
// (seed, e); global sample k of the run is sample k % N of epoch k / N. No state to save.
std::size_t sample_at(std::uint64_t seed, std::size_t k, std::size_t count) {
  const std::size_t epoch = k / count;
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + epoch);
  std::shuffle(order.begin(), order.end(), rng);
  return order[k % count];
}

struct Batch {
  std::vector<TimePoint> times;  // valid time of the "current" state of each sample
  at::Tensor states;             // [b, rollout + 2, V, P]: t - step, t, t + step, ...
  // Per sample: the seed of its generator noise (from the run seed and the sample's global
  // position, so it does not depend on the rank count).
  std::vector<std::uint64_t> noise_seeds;
};

std::uint64_t sample_noise_seed(std::uint64_t seed, std::uint64_t global_sample, bool validation) {
  return StepKey{seed ^ ((global_sample + 1) * 0x9E3779B97F4A7C15ULL) ^ (validation ? 0xA5A5A5A5A5A5A5A5ULL : 0), 0, 0}
      .hash();
}

Batch load_batch(const DatasetIndex& data, const std::vector<TimePoint>& times, Duration step, int rollout,
                 std::vector<std::uint64_t> noise_seeds = {}) {
  const auto V = std::int64_t(data.variables().size()), P = std::int64_t(data.grid()->size());
  Batch batch{times, at::empty({std::int64_t(times.size()), rollout + 2, V, P}, at::kFloat), std::move(noise_seeds)};
  float* out = batch.states.data_ptr<float>();
  for (const auto t : times)
    for (int k = -1; k <= rollout; ++k) {
      const auto values = data.load(t + std::int64_t(k) * step);
      out = std::copy(values.begin(), values.end(), out);
    }
  return batch;
}

// The generator's fair CRPS of a rollout: `members` trajectories per sample (each member
// its own noise per step), scored per step against the truth on the normalised residual
// (x - truth at the previous step) / difference scale; mean over samples, rollout steps,
// variables and points, weighted as the MSE.
at::Tensor generator_rollout_loss(ForecasterImpl& model, const Batch& batch, int rollout, const at::Tensor& weights,
                                  int members, double crps_alpha) {
  const auto states = batch.states.to(model.device());
  const auto b = states.size(0), V = states.size(2), P = states.size(3);
  const std::int64_t M = members, D = model.spec().network.conditioning;
  auto previous = states.select(1, 0).repeat_interleave(M, 0), current = states.select(1, 1).repeat_interleave(M, 0);
  std::vector<TimePoint> times;
  for (const auto t : batch.times) times.insert(times.end(), std::size_t(M), t);
  at::Tensor loss;
  for (int k = 0; k < rollout; ++k) {
    std::vector<at::Tensor> noise;
    for (std::int64_t s = 0; s < b; ++s)
      for (std::int64_t m = 0; m < M; ++m)
        noise.push_back(member_noise(StepKey{batch.noise_seeds.at(std::size_t(s)), int(m), k}.hash(), D));
    const auto next = model.forward(previous, current, times, at::stack(noise));
    const auto reference = states.select(1, k + 1);
    const auto x = ((next.view({b, M, V, P}) - reference.unsqueeze(1)) / model.difference_scale()).transpose(0, 1);
    const auto y = (states.select(1, k + 2) - reference) / model.difference_scale();
    const auto term = fair_crps(x, y, weights, crps_alpha);
    loss = k == 0 ? term : loss + term;
    previous = current;
    current = next;
    for (auto& t : times) t += model.spec().step;
  }
  return loss / double(rollout);
}

// Weighted mean squared error of a rollout, in units of each variable's one-step
// difference scale: mean over samples, rollout steps, variables and points. For a
// generator, the fair CRPS over `members` members instead; for the diffusion model, the
// EDM loss of the step (sum w lambda (D - y)^2 / sum w, gnn/diffusion_forecaster.hpp).
at::Tensor rollout_loss(ForecasterImpl& model, const Batch& batch, int rollout, const at::Tensor& weights,
                        int members = 1, double crps_alpha = 1.0) {
  if (model.spec().generative()) return generator_rollout_loss(model, batch, rollout, weights, members, crps_alpha);
  if (model.spec().diffusion) {  // the EDM loss of one step (rollout is 1, see parse_training_config)
    const auto states = batch.states.to(model.device());
    return diffusion_loss(model, states.select(1, 0), states.select(1, 1), states.select(1, 2), batch.times,
                          batch.noise_seeds, weights);
  }
  const auto states = batch.states.to(model.device());
  auto previous = states.select(1, 0), current = states.select(1, 1);
  auto times = batch.times;
  at::Tensor loss;
  for (int k = 0; k < rollout; ++k) {
    const auto next = model.forward(previous, current, times);
    const auto error = (next - states.select(1, k + 2)) / model.difference_scale();
    const auto term = (error * error * weights).mean();
    loss = k == 0 ? term : loss + term;
    previous = current;
    current = next;
    for (auto& t : times) t += model.spec().step;
  }
  return loss / double(rollout);
}

// Sums every gradient over the ranks (one MPI_Allreduce on a flat buffer).
void allreduce_gradients(MPI_Comm comm, const std::vector<at::Tensor>& parameters) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  if (ranks == 1) return;
  std::vector<at::Tensor> grads;
  for (const auto& p : parameters) grads.push_back(p.grad().to(at::kCPU).reshape({-1}));
  auto flat = at::cat(grads).contiguous();
  MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr<float>(), int(flat.numel()), MPI_FLOAT, MPI_SUM, comm);
  std::int64_t offset = 0;
  for (const auto& p : parameters) {
    const auto n = p.numel();
    p.mutable_grad().copy_(flat.narrow(0, offset, n).view_as(p));
    offset += n;
  }
}

double allreduce_sum(MPI_Comm comm, double value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_SUM, comm);
  return value;
}



}  // namespace

std::vector<std::string> training_files(const TrainingSpec& spec) {
  std::vector<std::string> files;
  for (const auto& pattern : spec.files)
    try {
      for (auto& f : expand_glob(pattern)) files.push_back(std::move(f));
    } catch (const InputError& e) {
      throw InputError(std::string("train.data.files: ") + e.what());
    }
  return files;
}

int rollout_at(const std::vector<std::pair<int, int>>& schedule, int step) {
  int length = 1;
  for (const auto& [from, n] : schedule)
    if (step >= from) length = n;
  return length;
}

double learning_rate_at(const TrainingSpec& spec, int step) {
  if (step < spec.warmup_steps) return spec.learning_rate * double(step + 1) / spec.warmup_steps;
  const double span = std::max(1, spec.steps - spec.warmup_steps);
  const double progress = std::min(1.0, double(step - spec.warmup_steps) / span);
  return spec.min_learning_rate + 0.5 * (spec.learning_rate - spec.min_learning_rate) * (1 + std::cos(kPi * progress));
}

std::vector<TimePoint> sample_times(const DatasetIndex& data, const Period& period, Duration step, int rollout) {
  std::vector<TimePoint> out;
  for (const auto t : data.times()) {
    bool ok = period.contains(t - step) && period.contains(t + std::int64_t(rollout) * step);
    for (int k = -1; ok && k <= rollout; ++k) ok = data.has(t + std::int64_t(k) * step);
    if (ok) out.push_back(t);
  }
  return out;
}

std::vector<int> averaged_steps(const TrainingSpec& spec) {
  std::vector<int> steps;
  if (spec.average_weights_from <= 0) return steps;
  const int every = spec.checkpoint_every;
  for (int s = (spec.average_weights_from + every - 1) / every * every; s < spec.steps; s += every) steps.push_back(s);
  steps.push_back(spec.steps);
  return steps;
}

std::filesystem::path weight_snapshot_dir(const TrainingSpec& spec) { return spec.output + ".snapshots"; }

std::string weight_snapshot_path(const TrainingSpec& spec, int step) {
  return (weight_snapshot_dir(spec) / fmt::format("step-{:06d}.gale", step)).string();
}

TrainingSpec parse_training_config(const Config& config) {
  const auto root = config.root();
  root.allow_only({"train"});
  const auto node = root.at("train");
  node.allow_only({"data", "model", "noise_dim", "members_per_sample", "diffusion", "network", "loss",
                   "conserve_global_mean", "optimiser", "steps", "batch_size", "rollout", "validation_samples",
                   "validate_every", "checkpoint_every", "average_weights_from", "seed", "threads", "device",
                   "init_from", "output", "metrics"});
  TrainingSpec spec;
  const auto data = node.at("data");
  data.allow_only({"files", "variables", "step_hours", "train", "validation", "test"});
  for (const auto& pattern : data.at("files").as_strings()) spec.files.push_back(config.resolve_path(pattern));
  for (const auto& key : data.at("variables").as_strings()) {
    try {
      spec.variables.push_back(parse_variable_key(key));
    } catch (const UserError& e) {
      data.at("variables").fail(e.what());
    }
  }
  spec.step = Duration(std::int64_t(3600 * data.get_double("step_hours", 6, 0.25, 240)));
  spec.train = parse_period(data.at("train"));
  spec.validation = parse_period(data.at("validation"));
  spec.test = parse_period(data.at("test"));
  if (node.has("network")) {
    const auto n = node.at("network");
    n.allow_only({"mesh_level", "latent", "layers", "radius_factor", "processor", "attention_hops", "heads"});
    spec.network.mesh_level = int(n.get_long("mesh_level", 3, 0, 6));
    spec.network.latent = int(n.get_long("latent", 64, 4, 1024));
    spec.network.layers = int(n.get_long("layers", 6, 1, 64));
    spec.network.radius_factor = n.get_double("radius_factor", 0.6, 0.1, 5);
    // The processor: interaction networks (gnn) or GenCast's k-hop mesh transformer.
    spec.network.processor = n.get_choice("processor", "gnn", {"gnn", "transformer"});
    if (spec.network.transformer()) {
      spec.network.attention_hops = int(n.get_long("attention_hops", 2, 1, GraphNetworkSpec::kMaxAttentionHops));
      spec.network.heads = int(n.get_long("heads", 4, 1, 64));
      if (spec.network.latent % spec.network.heads != 0)
        n.at(n.has("heads") ? "heads" : "latent")
            .fail(fmt::format("train.network.latent {} must be divisible by train.network.heads {}",
                              spec.network.latent, spec.network.heads));
    } else {
      for (const char* key : {"attention_hops", "heads"})
        if (n.has(key)) n.at(key).fail("only for train.network.processor: transformer");
    }
  }
  // The generator: model fgn, its noise size and members per training example. The keys
  // are refused for the deterministic model (which stays exactly as before).
  const auto model_kind = node.get_choice("model", "gnn", {"gnn", "fgn", "diffusion"});
  const bool generator = model_kind == "fgn";
  for (const char* key : {"noise_dim", "members_per_sample"})
    if (!generator && node.has(key)) node.at(key).fail("only for train.model: fgn");
  if (generator) {
    spec.network.conditioning = int(node.get_long("noise_dim", 32, 1, 4096));
    spec.members_per_sample = int(node.get_long("members_per_sample", 2, 2, 64));
  }
  // The diffusion model: its noise-level embedding, EDM training noise and sampler defaults.
  if (model_kind != "diffusion" && node.has("diffusion")) node.at("diffusion").fail("only for train.model: diffusion");
  if (model_kind == "diffusion") {
    DiffusionSpec d;
    if (node.has("diffusion")) {
      const auto n = node.at("diffusion");
      n.allow_only({"noise_embedding", "sigma_data", "p_mean", "p_std", "sampler"});
      d.noise_embedding = int(n.get_long("noise_embedding", d.noise_embedding, 2, 1024));
      if (d.noise_embedding % 2 != 0) n.at("noise_embedding").fail("must be even (sine and cosine pairs)");
      d.edm.sigma_data = n.get_double("sigma_data", d.edm.sigma_data, 1e-6, 1e6);
      d.edm.p_mean = n.get_double("p_mean", d.edm.p_mean, -20, 20);
      d.edm.p_std = n.get_double("p_std", d.edm.p_std, 1e-3, 20);
      if (n.has("sampler")) read_sampler_settings(n.at("sampler"), d, true);
    }
    d.validate();
    spec.diffusion = d;
    spec.network.conditioning = d.noise_embedding;
  }
  if (node.has("conserve_global_mean")) {
    const auto list = node.at("conserve_global_mean");
    if (model_kind == "diffusion") list.fail("not for train.model: diffusion (its steps are sampled, not one forward pass)");
    for (const auto& item : list.items()) {
      const auto key = item.as_string();
      if (std::none_of(spec.variables.begin(), spec.variables.end(), [&](const Variable& v) { return v.key() == key; }))
        item.fail("not one of train.data.variables");
      spec.conserve_global_mean.push_back(key);
    }
  }
  if (node.has("loss")) {
    const auto l = node.at("loss");
    l.allow_only({"variable_weights", "crps_alpha"});
    if (l.has("crps_alpha")) {
      if (!generator) l.at("crps_alpha").fail("only for train.model: fgn");
      spec.crps_alpha = l.get_double("crps_alpha", 1.0, 0, 1);
    }
    if (l.has("variable_weights"))
      for (const auto& kv : l.at("variable_weights").yaml()) {
        const auto key = kv.first.as<std::string>();
        const ConfigNode value(kv.second, "train.loss.variable_weights." + key, config.origin());
        const bool known = std::any_of(spec.variables.begin(), spec.variables.end(),
                                       [&](const Variable& v) { return v.key() == key; });
        if (!known) value.fail("not one of train.data.variables");
        spec.variable_weights[key] = value.as_double();
      }
  }
  if (node.has("optimiser")) {
    const auto o = node.at("optimiser");
    o.allow_only({"learning_rate", "min_learning_rate", "warmup_steps", "weight_decay", "clip_norm",
                  "backbone_learning_rate_scale"});
    spec.learning_rate = o.get_double("learning_rate", spec.learning_rate, 1e-8, 1);
    spec.min_learning_rate = o.get_double("min_learning_rate", spec.min_learning_rate, 0, spec.learning_rate);
    spec.warmup_steps = int(o.get_long("warmup_steps", spec.warmup_steps, 1, 1000000));
    spec.weight_decay = o.get_double("weight_decay", spec.weight_decay, 0, 10);
    spec.clip_norm = o.get_double("clip_norm", spec.clip_norm, 1e-6, 1e6);
    if (o.has("backbone_learning_rate_scale")) {
      if (!generator) o.at("backbone_learning_rate_scale").fail("only for train.model: fgn");
      spec.backbone_learning_rate_scale = o.get_double("backbone_learning_rate_scale", 1.0, 0, 1);
    }
  }
  spec.steps = int(node.get_long("steps", spec.steps, 1, 100000000));
  spec.batch_size = int(node.get_long("batch_size", spec.batch_size, 1, 4096));
  if (node.has("rollout")) {
    spec.rollout.clear();
    for (const auto& item : node.at("rollout").items()) {
      item.allow_only({"from_step", "steps"});
      spec.rollout.emplace_back(int(item.get_long("from_step", 0, 0, 100000000)), int(item.get_long("steps", 1, 1, 40)));
    }
    if (!std::is_sorted(spec.rollout.begin(), spec.rollout.end()))
      node.at("rollout").fail("entries must be in increasing from_step order");
    // GenCast trains the denoiser on single steps; there is no differentiable sampled rollout.
    if (spec.diffusion && std::any_of(spec.rollout.begin(), spec.rollout.end(), [](const auto& r) { return r.second > 1; }))
      node.at("rollout").fail("train.model: diffusion trains one step: every rollout length must be 1");
  }
  spec.validation_samples = int(node.get_long("validation_samples", spec.validation_samples, 1, 100000));
  spec.validate_every = int(node.get_long("validate_every", spec.validate_every, 1, 100000000));
  spec.checkpoint_every = int(node.get_long("checkpoint_every", spec.checkpoint_every, 1, 100000000));
  spec.average_weights_from = int(node.get_long("average_weights_from", 0, 1, spec.steps));
  if (spec.average_weights_from > 0 && averaged_steps(spec).size() < 2)
    node.at("average_weights_from")
        .fail(fmt::format("no checkpoint (every {} steps) falls between it and the last step {}; the average needs two",
                          spec.checkpoint_every, spec.steps));
  spec.seed = std::uint64_t(node.get_long("seed", 1, 0, 1L << 62));
  spec.threads = int(node.get_long("threads", 0, 0, 1024));
  spec.device = node.get_string("device", "cpu");
  if (spec.device != "cpu" && spec.device.rfind("cuda", 0) != 0)
    node.at("device").fail("expected cpu or cuda[:N]");
  if (node.has("init_from")) spec.init_from = config.resolve_path(node.get_string("init_from"));
  spec.output = config.resolve_path(node.get_string("output"));
  if (!spec.init_from.empty() && std::filesystem::weakly_canonical(spec.init_from) ==
                                     std::filesystem::weakly_canonical(spec.output))
    node.at("init_from").fail("must differ from train.output (the run would overwrite its own starting point)");
  spec.run_config = to_json(node.yaml());
  spec.run_config.erase("steps");  // a resumed run may be extended
  spec.run_config.erase("threads");
  // Averaging happens after the last step and leaves the optimiser's path as it is: a run
  // with and without it passes through the same weights (the output records what it
  // averaged, under averaged_from).
  spec.run_config.erase("average_weights_from");
  spec.run_config.erase("output");
  spec.run_config.erase("metrics");  // where the metrics go (ops/run_metrics.hpp) does not change the model
  if (spec.network.transformer()) {  // resolved, as below
    spec.run_config["network"]["attention_hops"] = std::to_string(spec.network.attention_hops);
    spec.run_config["network"]["heads"] = std::to_string(spec.network.heads);
  }
  if (generator) {  // resolved, so a change of default cannot slip past the resume check
    spec.run_config["noise_dim"] = std::to_string(spec.network.conditioning);
    spec.run_config["members_per_sample"] = std::to_string(spec.members_per_sample);
  }
  if (spec.diffusion) {  // the resolved training-side settings (the sampler does not change training)
    spec.run_config["noise_embedding"] = std::to_string(spec.diffusion->noise_embedding);
    spec.run_config["edm"] = fmt::format("sigma_data {} p_mean {} p_std {}", spec.diffusion->edm.sigma_data,
                                         spec.diffusion->edm.p_mean, spec.diffusion->edm.p_std);
  }
  return spec;
}

TrainingResult train_forecaster(MPI_Comm comm, const TrainingSpec& spec, bool resume) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  if (spec.batch_size % ranks != 0)
    throw ConfigError(fmt::format("train.batch_size {} is not divisible by the {} MPI ranks", spec.batch_size, ranks));
  if (spec.device != "cpu" && !torch::cuda::is_available())
    throw ConfigError(fmt::format("train.device is {} but no CUDA device is available here; use device: cpu",
                                  spec.device));
  configure_torch_threads(spec.threads);
  const at::Device device(spec.device);

  const DatasetIndex data(training_files(spec), spec.variables);
  int max_rollout = 1;
  for (const auto& r : spec.rollout) max_rollout = std::max(max_rollout, r.second);
  const auto train_times = sample_times(data, spec.train, spec.step, max_rollout);
  const auto validation_times = sample_times(data, spec.validation, spec.step, 1);
  if (train_times.empty() || validation_times.empty())
    throw DataError(fmt::format("train: the data ({} times from {} to {}) hold no {} samples for a rollout of {} steps",
                                data.times().size(), iso8601(data.times().front()), iso8601(data.times().back()),
                                train_times.empty() ? "training" : "validation", max_rollout));

  nlohmann::json run_meta = {{"config", spec.run_config}, {"data_fingerprint", data.fingerprint()}};
  CheckpointFile previous;
  int start_step = 0;
  std::vector<double> losses, validation_losses;
  const bool resuming = resume && std::filesystem::exists(spec.output);
  if (resuming) {
    previous = read_checkpoint_file(spec.output);
    require_matching(previous.metadata, run_meta, {"/config", "/data_fingerprint"}, spec.output, "this training run");
    start_step = previous.metadata.at("training").at("step").get<int>();
    if (previous.metadata.contains("averaged_from") && start_step < spec.steps)
      throw ConfigError(fmt::format("{} holds averaged weights (train.average_weights_from), the end of a run; "
                                    "start a new run from it with train.init_from instead of --resume",
                                    spec.output));
    if (previous.metadata.contains("init_from")) run_meta["init_from"] = previous.metadata.at("init_from");
    losses = previous.metadata.at("training").at("losses").get<std::vector<double>>();
    validation_losses = previous.metadata.at("training").at("validation_losses").get<std::vector<double>>();
  }

  // Weight averaging: a fresh run's snapshots are its own (any an earlier run of the same
  // output left go); a resumed one must have those of the steps it already passed, and they
  // must be this run's. Checked on every rank (they all read the output) before training.
  const auto averaged = averaged_steps(spec);
  const auto snapshot_dir = weight_snapshot_dir(spec);
  const bool averaging_done = resuming && previous.metadata.contains("averaged_from");
  if (!resuming)
    on_rank0(comm, "cannot write the weight snapshots in " + snapshot_dir.string(),
             [&] { std::filesystem::remove_all(snapshot_dir); });
  if (resuming && !averaging_done)
    for (const int s : averaged) {
      if (s > start_step) break;
      const auto snapshot = weight_snapshot_path(spec, s);
      if (!std::filesystem::exists(snapshot))
        throw DataError(fmt::format("train: {} resumes at step {} with average_weights_from {}, but the snapshot of "
                                    "step {} ({}) is missing: was the key added when resuming? Leave it out, or "
                                    "train again from the start",
                                    spec.output, start_step, spec.average_weights_from, s, snapshot));
      const auto meta = read_checkpoint_file(snapshot).metadata;
      require_matching(meta, run_meta, {"/config", "/data_fingerprint"}, snapshot, "this training run");
      if (meta.at("training").at("step") != s)
        throw DataError(fmt::format("train: the snapshot {} holds step {}, not {}", snapshot,
                                    meta.at("training").at("step").dump(), s));
    }

  // Fine-tuning starts from another checkpoint's weights and normalisation.
  CheckpointFile initial;
  const bool fine_tuning = !resuming && !spec.init_from.empty();
  if (fine_tuning) {
    initial = read_checkpoint_file(spec.init_from);
    run_meta["init_from"] = {{"file", std::filesystem::path(spec.init_from).filename().string()},
                             {"sha256", sha256_file(spec.init_from)}};
  }

  // Normalisation statistics: from the training period (or the checkpoint's on resume or
  // fine-tuning, so the network sees inputs scaled as it learned them).
  NormalisationStats stats;
  if (resuming || fine_tuning) {
    const auto& s = (resuming ? previous : initial).metadata.at("normalisation");
    stats = {s.at("mean").get<std::vector<double>>(), s.at("stddev").get<std::vector<double>>(),
             s.at("diff_stddev").get<std::vector<double>>()};
  } else {
    std::vector<TimePoint> state_times;
    for (const auto t : data.times())
      if (spec.train.contains(t)) state_times.push_back(t);
    stats = compute_normalisation(data, state_times, spec.step);
  }

  at::manual_seed(spec.seed);  // identical initial weights on every rank
  Forecaster model(ForecasterSpec{spec.variables, spec.step, spec.network, spec.diffusion, spec.conserve_global_mean},
                   data.grid(), stats);
  if (resuming) load_weights(*model, previous.weights, spec.output);
  if (fine_tuning) {
    const auto own = forecaster_metadata(*model);
    // The processor first, so a GNN -> transformer start is refused naming it (the whole
    // /network would be cut short in the message).
    require_matching(initial.metadata, own,
                     {"/variables", "/time_step_hours", "/grid/fingerprint", "/network/processor", "/network"},
                     spec.init_from, "this training run");
    const auto initial_kind = initial.metadata.value("model", std::string("gnn"));
    if (initial_kind == model->spec().kind()) {
      require_matching(initial.metadata, own, {"/noise_dim", "/diffusion/noise_embedding"}, spec.init_from,
                       "this training run");
      load_weights(*model, initial.weights, spec.init_from);
    } else if (initial_kind == "gnn") {
      // A generator or diffusion model from a deterministic model: its weights, conditioning
      // maps at identity. The diffusion denoiser's grid embedding takes the noisy residual as
      // V more input channels (appended last): their weights start at zero, so at first the
      // network is the deterministic model, F = its predicted residual (D's limit at large
      // sigma).
      auto deterministic_spec = model->spec();
      deterministic_spec.network.conditioning = 0;
      deterministic_spec.diffusion.reset();
      Forecaster deterministic(deterministic_spec, data.grid(), stats);
      load_weights(*deterministic, initial.weights, spec.init_from);
      auto target = model->named_parameters();
      at::NoGradGuard no_grad;
      for (const auto& p : deterministic->named_parameters()) {
        auto& t = target[p.key()];
        if (t.sizes() == p.value().sizes()) {
          t.copy_(p.value());
        } else {
          if (!model->spec().diffusion || p.key() != "network.grid_embed.first.weight")
            throw InternalError("train: " + p.key() + " differs in shape from the deterministic model's");
          t.zero_();
          t.narrow(1, 0, p.value().size(1)).copy_(p.value());
        }
      }
    } else {
      throw ConfigError(fmt::format("train.init_from {} is a {} checkpoint; a {} run cannot start from it",
                                    spec.init_from, initial_kind, model->spec().kind()));
    }
  }
  model->to_device(device);
  model->train();
  // One parameter group in module order, as every committed checkpoint was trained; with a
  // backbone_learning_rate_scale below 1, two: the noise-conditioning maps at the scheduled
  // learning rate, then the backbone at that fraction of it (frozen, and left out, at 0).
  const bool split = spec.backbone_learning_rate_scale < 1;
  std::vector<at::Tensor> parameters, backbone;  // the trained ones; the backbone's when split
  for (const auto& p : model->named_parameters())
    (!split || is_conditioning_map(p.key()) ? parameters : backbone).push_back(p.value());
  std::vector<torch::optim::OptimizerParamGroup> groups{torch::optim::OptimizerParamGroup(parameters)};
  if (split && spec.backbone_learning_rate_scale > 0) {
    groups.emplace_back(backbone);
    parameters.insert(parameters.end(), backbone.begin(), backbone.end());
  }
  if (spec.backbone_learning_rate_scale == 0)
    for (auto& p : backbone) p.requires_grad_(false);
  torch::optim::AdamW optimiser(groups, torch::optim::AdamWOptions(spec.learning_rate)
                                            .betas({0.9, 0.95})
                                            .weight_decay(spec.weight_decay));
  if (resuming && !previous.optimiser.empty()) {
    torch::serialize::InputArchive archive;
    archive.load_from(previous.optimiser.data(), previous.optimiser.size());
    optimiser.load(archive);
  }

  // Loss weights [V, P]: latitude (cell area) x variable x level.
  const auto lat_w = latitude_weights(*data.grid());
  const auto var_w = variable_weights(spec);
  auto weights = at::empty({std::int64_t(var_w.size()), std::int64_t(lat_w.size())}, at::kFloat);
  for (std::size_t v = 0; v < var_w.size(); ++v)
    for (std::size_t p = 0; p < lat_w.size(); ++p)
      weights[std::int64_t(v)][std::int64_t(p)] = float(var_w[v] * lat_w[p]);
  weights = weights.to(device);

  const int local_batch = spec.batch_size / ranks;
  auto batch_for = [&](int step) {
    const int rollout = rollout_at(spec.rollout, step);
    std::vector<TimePoint> times;
    std::vector<std::uint64_t> seeds;
    for (int j = rank * local_batch; j < (rank + 1) * local_batch; ++j)
    {
      const std::size_t global = std::size_t(step) * std::size_t(spec.batch_size) + std::size_t(j);
      times.push_back(train_times[sample_at(spec.seed, global, train_times.size())]);
      seeds.push_back(sample_noise_seed(spec.seed, global, false));
    }
    return load_batch(data, times, spec.step, rollout, seeds);
  };
  auto validate = [&]() {
    at::NoGradGuard no_grad;
    model->eval();
    const int n = std::min<int>(spec.validation_samples, int(validation_times.size()));
    double sum = 0;
    for (int i = rank; i < n; i += ranks) {
      const auto t = validation_times[std::size_t(i) * validation_times.size() / std::size_t(n)];
      sum += rollout_loss(*model, load_batch(data, {t}, spec.step, 1, {sample_noise_seed(spec.seed, std::size_t(i), true)}),
                          1, weights, spec.members_per_sample)
                 .item<double>();
    }
    model->train();
    return allreduce_sum(comm, sum) / n;
  };
  auto save = [&](int step) {
    on_rank0(comm, "cannot write " + spec.output, [&] {
      auto meta = forecaster_metadata(*model);
      meta.update(run_meta);
      meta["code_version"] = GALE_CODE_VERSION;
      meta["seed"] = spec.seed;
      meta["training"] = {{"step", step}, {"losses", losses}, {"validation_losses", validation_losses},
                          {"ranks", ranks}, {"train_samples", train_times.size()}};
      model->to_device(at::kCPU);
      CheckpointFile file{meta, serialise_archive(*model), serialise_archive(optimiser)};
      model->to_device(device);
      std::filesystem::create_directories(std::filesystem::absolute(spec.output).parent_path());
      write_checkpoint_file(spec.output, file);
      if (std::find(averaged.begin(), averaged.end(), step) == averaged.end()) return;
      file.optimiser.clear();
      std::filesystem::create_directories(snapshot_dir);
      write_checkpoint_file(weight_snapshot_path(spec, step), file);
    });
  };

  if (rank == 0)
    log_info(fmt::format("train: {} trained parameters, {} training / {} validation samples, {} ranks x batch {}, steps {}..{}",
                 [&] {
                   std::int64_t n = 0;
                   for (const auto& p : parameters) n += p.numel();
                   return n;
                 }(),
                 train_times.size(), validation_times.size(), ranks, local_batch, start_step, spec.steps));
  ProgressBar progress("train", spec.steps, rank == 0);
  TrainingResult result;
  const auto started = std::chrono::steady_clock::now();
  std::future<Batch> next;
  if (start_step < spec.steps) next = std::async(std::launch::async, batch_for, start_step);
  for (int step = start_step; step < spec.steps; ++step) {
    Batch batch = next.get();  // prefetched while the previous step computed
    if (step + 1 < spec.steps) next = std::async(std::launch::async, batch_for, step + 1);
    const double lr = learning_rate_at(spec, step);
    auto& param_groups = optimiser.param_groups();
    for (std::size_t g = 0; g < param_groups.size(); ++g)  // group 1, when there, is the backbone
      static_cast<torch::optim::AdamWOptions&>(param_groups[g].options())
          .lr(g == 0 ? lr : lr * spec.backbone_learning_rate_scale);
    optimiser.zero_grad();
    // Each rank's loss is its share of the global batch mean, so the summed gradient is
    // the gradient of the global mean whatever the rank count.
    const auto loss = rollout_loss(*model, batch, rollout_at(spec.rollout, step), weights, spec.members_per_sample,
                                   spec.crps_alpha) *
                      (double(local_batch) / spec.batch_size);
    loss.backward();
    allreduce_gradients(comm, parameters);
    torch::nn::utils::clip_grad_norm_(parameters, spec.clip_norm);
    optimiser.step();
    const double global_loss = allreduce_sum(comm, loss.item<double>());
    if (!std::isfinite(global_loss))
      throw DataError(fmt::format("train: the loss is {} at step {} (learning rate {:.2e}); lower "
                                  "train.optimiser.learning_rate or check the data",
                                  global_loss, step, lr));
    losses.push_back(global_loss);
    ++result.steps_run;
    const int done = step + 1;
    if (done % spec.validate_every == 0 || done == spec.steps) {
      validation_losses.push_back(validate());
      if (rank == 0) log_info(fmt::format("train: step {} validation loss {:.5f}", done, validation_losses.back()));
    }
    if (done % spec.checkpoint_every == 0 || done == spec.steps) save(done);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double rate = result.steps_run / elapsed;
    progress.update(done, fmt::format("loss {:.4f} lr {:.2e} {:.1f} samples/s", global_loss, lr, rate * spec.batch_size));
  }
  // The last step is saved: the output becomes the average and the snapshots have served
  // (also when an earlier run stopped between the two).
  if (!averaged.empty() && !averaging_done) {
    std::vector<std::string> snapshots;
    for (const int s : averaged) snapshots.push_back(weight_snapshot_path(spec, s));
    on_rank0(comm, "cannot write " + spec.output, [&] {
      write_checkpoint_file(spec.output, average_checkpoints(snapshots));
      std::filesystem::remove_all(snapshot_dir);
    });
    if (rank == 0)
      log_info(fmt::format("train: {} holds the mean of the weights at {} checkpoints, steps {}..{}", spec.output,
                           averaged.size(), averaged.front(), averaged.back()));
  }
  result.losses = losses;
  result.validation_losses = validation_losses;
  return result;
}

std::string SkillTable::text(Duration step) const {
  std::string out = fmt::format("{:>8} {:>8} {:>12} {:>12} {:>12} {:>10}\n", "lead", "variable", "model",
                                "persistence", "climatology", "vs persist");
  for (std::size_t l = 0; l < lead_steps.size(); ++l)
    for (std::size_t v = 0; v < variables.size(); ++v)
      out += fmt::format("{:>7}h {:>8} {:>12.4g} {:>12.4g} {:>12.4g} {:>9.1f}%\n",
                         lead_steps[l] * step.count() / 3600, variables[v], model[l][v], persistence[l][v],
                         climatology[l][v], 100 * (1 - model[l][v] / persistence[l][v]));
  return out + fmt::format("({} cases; latitude-weighted RMSE; 'vs persist' is the RMSE reduction)\n", cases);
}

SkillTable evaluate_skill(ForecasterImpl& model, const DatasetIndex& data, const std::vector<TimePoint>& starts,
                          const std::vector<int>& lead_steps, const std::vector<TimePoint>& climatology_times) {
  if (model.spec().kind() != "gnn")
    throw ConfigError("evaluate: the skill table is for deterministic models; this checkpoint is a " +
                      model.spec().kind() + " model (verify its ensembles with `gale forecast` and `gale verify`)");
  const auto V = data.variables().size(), P = data.grid()->size();
  const auto w = latitude_weights(*data.grid());
  std::vector<double> climate(V * P, 0.0);
  for (const auto t : climatology_times) {
    const auto x = data.load(t);
    for (std::size_t i = 0; i < V * P; ++i) climate[i] += x[i] / double(climatology_times.size());
  }
  SkillTable table;
  for (const auto& v : data.variables()) table.variables.push_back(v.key());
  table.lead_steps = lead_steps;
  const auto zero = std::vector<std::vector<double>>(lead_steps.size(), std::vector<double>(V, 0.0));
  table.model = table.persistence = table.climatology = zero;
  const int max_lead = *std::max_element(lead_steps.begin(), lead_steps.end());
  const auto step = model.spec().step;
  at::NoGradGuard no_grad;
  model.eval();
  for (const auto t0 : starts) {
    const auto start = data.load(t0);
    auto tensor = [&](const std::vector<float>& x) {
      return at::tensor(x, at::kFloat).reshape({1, std::int64_t(V), std::int64_t(P)}).to(model.device());
    };
    auto previous = tensor(data.load(t0 - step)), current = tensor(start);
    for (int k = 1; k <= max_lead; ++k) {
      auto next = model.forward(previous, current, {t0 + std::int64_t(k - 1) * step});
      previous = current;
      current = next;
      const auto l = std::find(lead_steps.begin(), lead_steps.end(), k);
      if (l == lead_steps.end()) continue;
      const auto li = std::size_t(l - lead_steps.begin());
      const auto truth = data.load(t0 + std::int64_t(k) * step);
      const auto forecast = current.to(at::kCPU).contiguous();
      const float* f = forecast.data_ptr<float>();
      for (std::size_t v = 0; v < V; ++v)
        for (std::size_t p = 0; p < P; ++p) {
          const std::size_t i = v * P + p;
          const double wp = w[p] / double(P);
          table.model[li][v] += wp * std::pow(f[i] - truth[i], 2);
          table.persistence[li][v] += wp * std::pow(start[i] - truth[i], 2);
          table.climatology[li][v] += wp * std::pow(climate[i] - truth[i], 2);
        }
    }
  }
  table.cases = int(starts.size());
  for (auto* m : {&table.model, &table.persistence, &table.climatology})
    for (auto& row : *m)
      for (auto& x : row) x = std::sqrt(x / double(starts.size()));
  return table;
}

}  // namespace gale
