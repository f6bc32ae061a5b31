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
};

Batch load_batch(const DatasetIndex& data, const std::vector<TimePoint>& times, Duration step, int rollout) {
  const auto V = std::int64_t(data.variables().size()), P = std::int64_t(data.grid()->size());
  Batch batch{times, at::empty({std::int64_t(times.size()), rollout + 2, V, P}, at::kFloat)};
  float* out = batch.states.data_ptr<float>();
  for (const auto t : times)
    for (int k = -1; k <= rollout; ++k) {
      const auto values = data.load(t + std::int64_t(k) * step);
      out = std::copy(values.begin(), values.end(), out);
    }
  return batch;
}

// Weighted mean squared error of a rollout, in units of each variable's one-step
// difference scale: mean over samples, rollout steps, variables and points.
at::Tensor rollout_loss(ForecasterImpl& model, const Batch& batch, int rollout, const at::Tensor& weights) {
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

TrainingSpec parse_training_config(const Config& config) {
  const auto root = config.root();
  root.allow_only({"train"});
  const auto node = root.at("train");
  node.allow_only({"data", "network", "loss", "optimiser", "steps", "batch_size", "rollout", "validation_samples",
                   "validate_every", "checkpoint_every", "seed", "threads", "device", "init_from", "output", "metrics"});
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
    n.allow_only({"mesh_level", "latent", "layers", "radius_factor"});
    spec.network.mesh_level = int(n.get_long("mesh_level", 3, 0, 6));
    spec.network.latent = int(n.get_long("latent", 64, 4, 1024));
    spec.network.layers = int(n.get_long("layers", 6, 1, 64));
    spec.network.radius_factor = n.get_double("radius_factor", 0.6, 0.1, 5);
  }
  if (node.has("loss")) {
    const auto l = node.at("loss");
    l.allow_only({"variable_weights"});
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
    o.allow_only({"learning_rate", "min_learning_rate", "warmup_steps", "weight_decay", "clip_norm"});
    spec.learning_rate = o.get_double("learning_rate", spec.learning_rate, 1e-8, 1);
    spec.min_learning_rate = o.get_double("min_learning_rate", spec.min_learning_rate, 0, spec.learning_rate);
    spec.warmup_steps = int(o.get_long("warmup_steps", spec.warmup_steps, 1, 1000000));
    spec.weight_decay = o.get_double("weight_decay", spec.weight_decay, 0, 10);
    spec.clip_norm = o.get_double("clip_norm", spec.clip_norm, 1e-6, 1e6);
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
  }
  spec.validation_samples = int(node.get_long("validation_samples", spec.validation_samples, 1, 100000));
  spec.validate_every = int(node.get_long("validate_every", spec.validate_every, 1, 100000000));
  spec.checkpoint_every = int(node.get_long("checkpoint_every", spec.checkpoint_every, 1, 100000000));
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
  spec.run_config.erase("output");
  spec.run_config.erase("metrics");  // where the metrics go (ops/run_metrics.hpp) does not change the model
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
    if (previous.metadata.contains("init_from")) run_meta["init_from"] = previous.metadata.at("init_from");
    losses = previous.metadata.at("training").at("losses").get<std::vector<double>>();
    validation_losses = previous.metadata.at("training").at("validation_losses").get<std::vector<double>>();
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
  Forecaster model(ForecasterSpec{spec.variables, spec.step, spec.network}, data.grid(), stats);
  if (resuming) load_weights(*model, previous.weights, spec.output);
  if (fine_tuning) {
    require_matching(initial.metadata, forecaster_metadata(*model),
                     {"/variables", "/time_step_hours", "/grid/fingerprint", "/network"}, spec.init_from,
                     "this training run");
    load_weights(*model, initial.weights, spec.init_from);
  }
  model->to_device(device);
  model->train();
  auto parameters = model->parameters();
  torch::optim::AdamW optimiser(parameters, torch::optim::AdamWOptions(spec.learning_rate)
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
    for (int j = rank * local_batch; j < (rank + 1) * local_batch; ++j)
      times.push_back(train_times[sample_at(spec.seed, std::size_t(step) * std::size_t(spec.batch_size) + std::size_t(j),
                                            train_times.size())]);
    return load_batch(data, times, spec.step, rollout);
  };
  auto validate = [&]() {
    at::NoGradGuard no_grad;
    model->eval();
    const int n = std::min<int>(spec.validation_samples, int(validation_times.size()));
    double sum = 0;
    for (int i = rank; i < n; i += ranks) {
      const auto t = validation_times[std::size_t(i) * validation_times.size() / std::size_t(n)];
      sum += rollout_loss(*model, load_batch(data, {t}, spec.step, 1), 1, weights).item<double>();
    }
    model->train();
    return allreduce_sum(comm, sum) / n;
  };
  auto save = [&](int step) {
    if (rank != 0) return;
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
  };

  if (rank == 0)
    log_info(fmt::format("train: {} parameters, {} training / {} validation samples, {} ranks x batch {}, steps {}..{}",
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
    for (auto& group : optimiser.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    optimiser.zero_grad();
    // Each rank's loss is its share of the global batch mean, so the summed gradient is
    // the gradient of the global mean whatever the rank count.
    const auto loss = rollout_loss(*model, batch, rollout_at(spec.rollout, step), weights) *
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
