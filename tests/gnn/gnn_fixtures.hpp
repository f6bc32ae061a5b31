#pragma once
// A tiny nature run (T10: 32 x 16 Gaussian grid, 40 days 6-hourly) made once per test
// process through the CLI, a training config over it for a small network, a model trained
// on it, and a small 32 x 16 regular lat-lon grid for the network tests.
#include <mpi.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/grad_mode.h>

#include "core/config.hpp"
#include "core/grid.hpp"
#include "gnn/graph_network.hpp"
#include "gnn/model_io.hpp"
#include "gnn/trainer.hpp"
#include "grids/cells.hpp"
#include "tests/run_command.hpp"
#include "tests/scratch_dir.hpp"

namespace gale::test {

#ifdef GALE_MPIEXEC
// The gale binary under test on `ranks` MPI ranks.
inline std::string gale_on_ranks(int ranks) {
  return std::string(GALE_MPIEXEC) + " --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " " +
         GALE_BINARY;
}
#endif

// A 16 x 32 regular lat-lon grid (512 points, 11.25 degree spacing).
inline std::shared_ptr<const Grid> small_grid() {
  std::vector<double> lats, lons;
  for (int i = 0; i < 16; ++i) lats.push_back(84.375 - 11.25 * i);
  for (int j = 0; j < 32; ++j) lons.push_back(11.25 * j);
  return Grid::regular(GridKind::regular_ll, lats, lons);
}

// Gives a conditioned network the parameters of the plain one it extends (it has each of
// them under the same name, plus its conditioning maps) and returns how many of its
// parameter tensors are conditioning maps.
inline int copy_into_conditioned(GraphNetwork& plain, GraphNetwork& conditioned) {
  auto params = conditioned->named_parameters();
  int maps = 0;
  for (const auto& p : params)
    if (p.key().find(".condition.") != std::string::npos) ++maps;
  at::NoGradGuard no_grad;
  for (const auto& p : plain->named_parameters()) params[p.key()].copy_(p.value());
  return maps;
}

// Initialises MPI once for the process (finalised at exit) unless it already is.
inline void ensure_mpi() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    MPI_Init(nullptr, nullptr);
    std::atexit([] { MPI_Finalize(); });
  }
}

// The tiny nature run's directory, made once per process in its scratch root (so removed
// at exit; the MPI tests' ranks, children of this process, are done with it by then).
inline const std::filesystem::path& gnn_test_dir() {
  static const std::filesystem::path dir = [] {
    const auto d = scratch_dir("gnn");
    std::ofstream(d / "nr.yaml") << "naturerun:\n  model: {truncation: 10, dt_minutes: 30, seed: 11, jet_speed: 15, forcing_rms: 5.0e-11}\n"
                                    "  start: 2001-01-01T00\n  spinup_days: 20\n  length_days: 40\n"
                                    "  file_span: day\n";
    std::string out;
    if (run_gale("naturerun -q -c " + (d / "nr.yaml").string() + " -o " + (d / "nr").string(), out) != 0)
      throw std::runtime_error("nature run for the gnn tests failed: " + out);
    return d;
  }();
  return dir;
}

// A `train:` config over the tiny nature run (train Jan 1-30, validate Jan 30-Feb 4, test
// Feb 4-10); `extra` lines are appended inside `train:`.
inline std::string tiny_training_yaml(const std::string& output, int steps, const std::string& extra = "") {
  const auto dir = gnn_test_dir();
  return "train:\n"
         "  data:\n"
         "    files: " + (dir / "nr" / "naturerun-*.nc").string() + "\n"
         "    variables: [z500, u500, v500, t500]\n"
         "    train: {start: 2001-01-01T00, end: 2001-01-30T00}\n"
         "    validation: {start: 2001-01-30T00, end: 2001-02-04T00}\n"
         "    test: {start: 2001-02-04T00, end: 2001-02-10T00}\n"
         "  network: {mesh_level: 2, latent: 32, layers: 3}\n"
         "  optimiser: {learning_rate: 3.0e-3, warmup_steps: 20, weight_decay: 0.0}\n"
         "  steps: " + std::to_string(steps) + "\n"
         "  batch_size: 4\n"
         "  validation_samples: 8\n"
         "  validate_every: 100\n"
         "  checkpoint_every: 1000\n"
         "  seed: 5\n"
         "  threads: 1\n"
         "  output: " + output + "\n" + extra;
}

inline Config tiny_training_config(const std::string& output, int steps, const std::string& extra = "") {
  return Config::from_string(tiny_training_yaml(output, steps, extra), "tiny-train.yaml");
}

// A file `name` in the directory of the tiny nature run.
inline std::string gnn_test_path(const std::string& name) { return (gnn_test_dir() / name).string(); }

// A model trained on the tiny nature run for `steps` steps into the file `name` (see
// tiny_training_config for `extra`), and the result of its training.
struct TrainedModel {
  std::string file;
  TrainingResult result;
};
inline TrainedModel train_tiny_model(const std::string& name, int steps, const std::string& extra = "") {
  ensure_mpi();
  const auto out = gnn_test_path(name);
  auto result = train_forecaster(MPI_COMM_WORLD, parse_training_config(tiny_training_config(out, steps, extra)), false);
  return TrainedModel{out, result};
}

// The mean of the first and of the last `n` of a run's training losses.
inline std::pair<double, double> first_and_last_mean(const std::vector<double>& losses, std::size_t n) {
  double first = 0, last = 0;
  for (std::size_t i = 0; i < n; ++i) first += losses[i] / double(n), last += losses[losses.size() - 1 - i] / double(n);
  return {first, last};
}

// What a held-out check of a tiny trained model (trained with `steps` and `extra`, see
// train_tiny_model) needs: its resolved config, the trained model, the same network at the
// trainer's initial weights, the nature run, the test period's start times and the latitude
// weights [1, points].
struct HeldOutCase {
  HeldOutCase(const TrainedModel& t, int steps, const std::string& extra)
      : spec(parse_training_config(tiny_training_config(t.file, steps, extra))),
        trained(load_forecaster(t.file)),
        initial((at::manual_seed(spec.seed), Forecaster(trained->spec(), trained->grid(), trained->stats()))),
        data(training_files(spec), spec.variables),
        starts(sample_times(data, spec.test, spec.step, 1)) {
    const auto lat = latitude_weights(*data.grid());
    weights = at::tensor(std::vector<float>(lat.begin(), lat.end())).reshape({1, -1});
  }
  TrainingSpec spec;
  Forecaster trained, initial;
  DatasetIndex data;
  std::vector<TimePoint> starts;
  at::Tensor weights;
};

}  // namespace gale::test
