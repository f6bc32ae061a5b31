#pragma once
// `gale train`: the GNN forecaster trained on a dataset index of reanalysis (or nature-run)
// files. Area-, variable- and level-weighted MSE of the normalised one-step difference,
// AdamW with warm-up and cosine decay, gradient clipping, autoregressive fine-tuning with a
// rollout length that grows on a schedule, data parallel over MPI ranks (gradients summed
// with MPI_Allreduce), batches streamed with a prefetch thread, checkpoints that resume bit
// for bit.
//
// `train.model: fgn` trains the one-pass generator instead (FGN / AIFS-ENS): the same
// network conditioned on a noise vector of `train.noise_dim` through conditional LayerNorm,
// `train.members_per_sample` (>= 2) members per training example, each with its own noise
// per rollout step, and the area-, variable- and level-weighted fair CRPS over the members
// (gnn/crps_loss.hpp) on the normalised residuals in place of the MSE. Everything else
// (rollout, AdamW, schedule, MPI, checkpoints, --resume, init_from) is shared; init_from
// may name a deterministic gnn checkpoint of the same network (the conditioning maps then
// start at identity).
//
// `train.average_weights_from: STEP` (any model) makes the output the mean of the weights
// saved at the checkpoints from STEP on (stochastic weight averaging); an averaged output
// is final: --resume does not extend it.
//
// `train.model: diffusion` trains the GenCast-style diffusion forecaster
// (gnn/diffusion_forecaster.hpp): the network is the denoiser, conditioned on the noise
// level, and the loss is the EDM loss of one step (per sample a sigma from the EDM
// log-normal and sphere noise with the cell areas, seeded from the run seed and the global
// sample index; area-, variable- and level-weighted). `train.rollout` lengths > 1 are
// refused. Keys under `train.diffusion` (all optional): noise_embedding (16), sigma_data
// (1), p_mean (-1.2), p_std (1.2), and the sampler defaults stored in the checkpoint,
// sampler: {kind (dpmpp_2s | heun | euler), steps (20), sigma_min (0.03), sigma_max (80),
// rho (7), s_churn (0), s_tmin (0), s_tmax (unbounded), s_noise (1)}; the defaults are the
// deterministic probability-flow ODE, churn and noise inflation are opt-in. init_from may
// name a deterministic gnn checkpoint of the same network (see train_forecaster).
//
// `train.network.processor: transformer` (any model) swaps the GNN processor for GenCast's
// mesh transformer (gnn/mesh_transformer.hpp), with `attention_hops` (2) and `heads` (4,
// dividing latent); the keys are refused for the default `processor: gnn`. init_from must
// have the same processor.
#include <mpi.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "gnn/forecaster.hpp"
#include "ingest/dataset_index.hpp"

namespace gale {

struct Period {
  TimePoint start{}, end{};  // [start, end)
  bool contains(TimePoint t) const { return t >= start && t < end; }
};

struct TrainingSpec {
  std::vector<std::string> files;  // paths or glob patterns (expanded by training_files)
  std::vector<Variable> variables;
  Duration step = std::chrono::hours(6);
  Period train, validation, test;
  GraphNetworkSpec network;     // network.conditioning = noise_dim for model fgn
  int members_per_sample = 1;   // fgn: members per training example (>= 2)
  std::optional<DiffusionSpec> diffusion;  // set for model diffusion (network.conditioning = its embedding)
  std::map<std::string, double> variable_weights;  // key -> weight (default 1)
  std::vector<std::string> conserve_global_mean;   // ForecasterSpec::conserve_global_mean
  // fgn: the training loss's share of the fair CRPS, the rest the plain ensemble CRPS
  // (gnn/crps_loss.hpp); validation always reports the fair CRPS.
  double crps_alpha = 1.0;
  double learning_rate = 1e-3, min_learning_rate = 1e-5, weight_decay = 0.1, clip_norm = 1.0;
  // fgn: the learning rate of everything but the noise-conditioning maps, as a fraction of
  // learning_rate (0 freezes the backbone: the deterministic model's mean is kept while the
  // maps learn the spread).
  double backbone_learning_rate_scale = 1.0;
  int warmup_steps = 100;
  int steps = 1000;
  int batch_size = 4;  // global, over all ranks
  std::vector<std::pair<int, int>> rollout{{0, 1}};  // (from optimiser step, rollout length)
  int validation_samples = 16;
  int validate_every = 250;
  int checkpoint_every = 250;
  // Weight averaging (gnn/checkpoint_average.hpp): > 0, the output at the end holds the mean
  // of the weights at every checkpoint step >= this one and at the last step. The snapshots
  // wait in OUTPUT.snapshots/ (so --resume keeps them) and are removed once averaged.
  int average_weights_from = 0;
  std::uint64_t seed = 1;
  int threads = 0;  // torch intra-op threads (0: GALE_THREADS or all cores)
  std::string device = "cpu";
  // Fine-tuning: a checkpoint whose weights and normalisation start this run (its network,
  // variables, step and grid must be this run's); the optimiser and schedule start afresh.
  std::string init_from;
  std::string output;         // the checkpoint file (latest state; resumed from)
  nlohmann::json run_config;  // the resolved `train:` config (provenance, resume check)
};

// Parses the `train:` section; every key validated. Paths resolved against the config.
TrainingSpec parse_training_config(const Config& config);

struct TrainingResult {
  std::vector<double> losses;             // training loss per optimiser step (global batch)
  std::vector<double> validation_losses;  // at each validation
  int steps_run = 0;                      // optimiser steps this call ran (resume skips the rest)
};

// The data files: the patterns expanded, sorted. InputError when one matches nothing.
std::vector<std::string> training_files(const TrainingSpec& spec);

// Collective over `comm`; rank 0 writes the checkpoint. With `resume`, continues from the
// checkpoint at spec.output when it exists (refused if its config differs).
TrainingResult train_forecaster(MPI_Comm comm, const TrainingSpec& spec, bool resume);

// The steps whose weights train.average_weights_from averages (empty when it is off), and
// where their snapshots wait until the average is taken (OUTPUT.snapshots/step-NNNNNN.gale).
std::vector<int> averaged_steps(const TrainingSpec& spec);
std::filesystem::path weight_snapshot_dir(const TrainingSpec& spec);
std::string weight_snapshot_path(const TrainingSpec& spec, int step);

// Rollout length in force at an optimiser step.
int rollout_at(const std::vector<std::pair<int, int>>& schedule, int step);
// Warm-up then cosine decay.
double learning_rate_at(const TrainingSpec& spec, int step);

// Latitude-weighted RMSE per variable and lead of the model, persistence and climatology
// (the per-point mean of the training period) over forecasts started at `starts`.
// Deterministic models only (ConfigError for an fgn generator or a diffusion model).
struct SkillTable {
  std::vector<std::string> variables;
  std::vector<int> lead_steps;
  std::vector<std::vector<double>> model, persistence, climatology;  // [lead][variable]
  int cases = 0;
  std::string text(Duration step) const;
};
SkillTable evaluate_skill(ForecasterImpl& model, const DatasetIndex& data, const std::vector<TimePoint>& starts,
                          const std::vector<int>& lead_steps, const std::vector<TimePoint>& climatology_times);

// Sample times usable for a rollout of `rollout` steps: t - step, t, ..., t + rollout*step
// all in the data and in the period.
std::vector<TimePoint> sample_times(const DatasetIndex& data, const Period& period, Duration step, int rollout);

}  // namespace gale
