// Weight averaging (gnn/checkpoint_average.hpp, train.average_weights_from and
// `gale average-checkpoints`): the trainer's averaged output is the element-wise mean of the
// weights at its checkpoints, which an uninterrupted run reproduces step by step; the CLI
// writes the same weights; checkpoints of another model, a single checkpoint, a resumed
// average and a corrupt input are refused with a message naming the file.
#include <ATen/ATen.h>
#include <mpi.h>

#include <filesystem>
#include <fstream>

#include "core/errors.hpp"
#include "gnn/checkpoint_average.hpp"
#include "gnn/model_io.hpp"
#include "gnn/trainer.hpp"
#include "tests/gnn/gnn_fixtures.hpp"

// After LibTorch's headers: c10 defines its own CHECK, which Catch must override.
#include <catch2/catch.hpp>

using namespace gale;
using gale::test::ensure_mpi;
using gale::test::gnn_test_path;
using gale::test::tiny_training_config;

namespace {

// The tiny config warms up over 20 steps, so a run's learning rate at a step does not
// depend on its length: a 4-step run resumed to 6 passes through the 6-step run's weights.
// Checkpoints every 2 steps; `average` averages from step 3 on (steps 4 and 6).
TrainingSpec spec_for(const std::string& output, int steps, bool average) {
  auto config = tiny_training_config(output, steps);
  config.set("train.checkpoint_every=2");
  if (average) config.set("train.average_weights_from=3");
  return parse_training_config(config);
}
TrainingResult train(const std::string& output, int steps, bool average, bool resume = false) {
  ensure_mpi();
  return train_forecaster(MPI_COMM_WORLD, spec_for(output, steps, average), resume);
}

}  // namespace

TEST_CASE("the averaged output is the mean of the weights at the checkpoints it names") {
  const auto r4 = gnn_test_path("avg-ref-4.gale"), r6 = gnn_test_path("avg-ref-6.gale");
  const auto reference = gnn_test_path("avg-ref.gale"), averaged = gnn_test_path("avg.gale");
  train(reference, 4, false);
  std::filesystem::copy_file(reference, r4);
  train(reference, 6, false, true);
  std::filesystem::copy_file(reference, r6);

  CHECK(averaged_steps(spec_for(averaged, 6, true)) == std::vector<int>{4, 6});
  CHECK(averaged_steps(spec_for(averaged, 6, false)).empty());
  train(averaged, 6, true);

  const auto file = read_checkpoint_file(averaged);
  const auto& sources = file.metadata.at("averaged_from");
  REQUIRE(sources.size() == 2);
  CHECK(sources[0].at("step") == 4);
  CHECK(sources[1].at("step") == 6);
  CHECK(file.metadata.at("training").at("step") == 6);
  // The key leaves the optimiser's path alone, so it is not part of the run's config.
  CHECK(file.metadata.at("config") == read_checkpoint_file(r6).metadata.at("config"));
  CHECK(file.optimiser.empty());
  CHECK(!std::filesystem::exists(averaged + ".snapshots"));  // removed once averaged

  // Element-wise, against the uninterrupted run's weights at steps 4 and 6 (float32 mean:
  // within one rounding of the double-precision mean).
  auto a = load_forecaster(r4), b = load_forecaster(r6), m = load_forecaster(averaged);
  const auto pa = a->named_parameters(), pb = b->named_parameters(), pm = m->named_parameters();
  double largest_step = 0;
  for (const auto& p : pm) {
    const auto expected = (pa[p.key()].to(at::kDouble) + pb[p.key()].to(at::kDouble)) / 2;
    const auto error = (p.value().to(at::kDouble) - expected).abs() - 1e-7 * expected.abs();
    INFO(p.key());
    CHECK(error.max().item<double>() <= 1e-12);
    largest_step = std::max(largest_step, (pa[p.key()] - pb[p.key()]).abs().max().item<double>());
  }
  CHECK(largest_step > 1e-4);  // the two snapshots differ: the average is not trivially one of them

  // The same weights from the library call and from the CLI.
  CHECK(average_checkpoints({r4, r6}).weights == file.weights);
  const auto cli = gnn_test_path("avg-cli.gale");
  std::string out;
  REQUIRE(gale::test::run_gale("average-checkpoints -o " + cli + " " + r4 + " " + r6, out) == 0);
  CHECK(read_checkpoint_file(cli).weights == file.weights);
  CHECK(out.find(cli) != std::string::npos);

  // An average is the end of a run: extending it with --resume is refused.
  try {
    train(averaged, 8, true, true);
    FAIL("an averaged output was resumed");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("holds averaged weights") != std::string::npos);
  }

  // A run stopped between its last checkpoint and the average: --resume takes the average.
  const auto stopped = gnn_test_path("avg-stopped.gale");
  train(stopped, 6, false);
  std::filesystem::create_directories(stopped + ".snapshots");
  std::filesystem::copy_file(r4, stopped + ".snapshots/step-000004.gale");
  std::filesystem::copy_file(r6, stopped + ".snapshots/step-000006.gale");
  CHECK(train(stopped, 6, true, true).steps_run == 0);
  CHECK(read_checkpoint_file(stopped).weights == file.weights);
  CHECK(!std::filesystem::exists(stopped + ".snapshots"));

  // Averaging switched on when resuming lacks the earlier snapshots: refused before
  // training on, naming the missing one; the output keeps its weights.
  const auto late = gnn_test_path("avg-late.gale");
  train(late, 4, false);
  try {
    train(late, 6, true, true);
    FAIL("resumed without the step-4 snapshot");
  } catch (const DataError& e) {
    CHECK(std::string(e.what()).find("step-000004") != std::string::npos);
  }
  CHECK(read_checkpoint_file(late).weights == read_checkpoint_file(r4).weights);
}

TEST_CASE("averaging refuses another model, one checkpoint, a corrupt file and a setting with one snapshot") {
  const auto small = gnn_test_path("avg-small.gale"), wide = gnn_test_path("avg-wide.gale");
  train(small, 1, false);
  ensure_mpi();
  auto config = tiny_training_config(wide, 1);
  config.set("train.network.latent=48");
  train_forecaster(MPI_COMM_WORLD, parse_training_config(config), false);
  try {
    average_checkpoints({small, wide});
    FAIL("checkpoints of different networks were averaged");
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    CHECK(message.find(wide) != std::string::npos);
    CHECK(message.find("/network/latent") != std::string::npos);
  }
  CHECK_THROWS_AS(average_checkpoints({small}), ConfigError);

  // A corrupt input: non-zero exit, the file named, no output written.
  const auto corrupt = gnn_test_path("avg-corrupt.gale"), out_file = gnn_test_path("avg-never.gale");
  std::filesystem::copy_file(small, corrupt);
  {
    std::fstream f(corrupt, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x7f');
  }
  std::string out;
  CHECK(gale::test::run_gale("average-checkpoints -o " + out_file + " " + small + " " + corrupt, out) != 0);
  CHECK(out.find(corrupt) != std::string::npos);
  CHECK(!std::filesystem::exists(out_file));

  // No checkpoint between average_weights_from and the last step: refused before training.
  CHECK_THROWS_AS(parse_training_config(tiny_training_config(small, 6, "  average_weights_from: 3\n")), ConfigError);
  CHECK_THROWS_AS(parse_training_config(tiny_training_config(small, 6, "  average_weights_from: 7\n")), ConfigError);
}
