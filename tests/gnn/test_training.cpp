// Training on a tiny nature run: a few hundred steps beat persistence on held-out cases,
// checkpoints round-trip and refuse tampering or a mismatched config, and a resumed run
// continues bit for bit. The GNN Stepper gives the forecaster's numbers and names NaN inputs.
#include <ATen/ATen.h>
#include <mpi.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "gnn/gnn_stepper.hpp"
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
// One trained model shared by the tests below (300 steps).
const std::string& trained_checkpoint() {
  static const std::string file = gale::test::train_tiny_model("trained.gale", 300).file;
  return file;
}
}  // namespace

TEST_CASE("a few hundred training steps beat persistence on held-out cases") {
  const auto spec = parse_training_config(tiny_training_config(trained_checkpoint(), 300));
  auto model = load_forecaster(trained_checkpoint());
  const DatasetIndex data(training_files(spec), spec.variables);
  const auto starts = sample_times(data, spec.test, spec.step, 4);
  REQUIRE(starts.size() >= 10);
  std::vector<TimePoint> climate;
  for (const auto t : data.times())
    if (spec.train.contains(t)) climate.push_back(t);
  const auto skill = evaluate_skill(*model, data, starts, {1, 4}, climate);
  INFO(skill.text(spec.step));
  for (std::size_t v = 0; v < skill.variables.size(); ++v) {
    INFO(skill.variables[v]);
    // 6 h: at least 30% lower RMSE than persistence on cases the model never saw.
    CHECK(skill.model[0][v] < 0.7 * skill.persistence[0][v]);
    CHECK(skill.model[1][v] < skill.persistence[1][v]);  // still better at 24 h
  }
}

TEST_CASE("checkpoints round-trip, and refuse tampering and a different config") {
  const auto file = read_checkpoint_file(trained_checkpoint());
  CHECK(file.metadata.at("variables").size() == 4);
  CHECK(file.metadata.at("training").at("step") == 300);
  CHECK(file.metadata.contains("data_fingerprint"));
  CHECK(file.metadata.at("seed") == 5);
  CHECK(!file.optimiser.empty());
  CHECK(checkpoint_digest(trained_checkpoint()).size() == 64);

  // Same numbers after a save/load cycle.
  auto a = load_forecaster(trained_checkpoint());
  const auto copy = gnn_test_path("copy.gale");
  write_checkpoint_file(copy, file);
  auto b = load_forecaster(copy);
  const auto x = at::randn({1, 4, 512}) * 5 + at::tensor({5e4f, 0.f, 0.f, 250.f}).reshape({1, 4, 1});
  const TimePoint t = parse_iso8601("2001-02-05T00");
  at::NoGradGuard no_grad;
  CHECK(at::equal(a->forward(x, x, {t}), b->forward(x, x, {t})));

  // One flipped byte in the weights: refused with the file named.
  std::string bytes;
  {
    std::ifstream in(copy, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x10;
  std::ofstream(copy, std::ios::binary | std::ios::trunc) << bytes;
  try {
    load_forecaster(copy);
    FAIL("a tampered checkpoint loaded");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Catch::Contains(copy) && Catch::Contains("digest mismatch"));
  }
  // Truncated.
  std::filesystem::resize_file(copy, 40);
  CHECK_THROWS_AS(load_forecaster(copy), InputError);

  // Resuming with another network is refused naming the key.
  ensure_mpi();
  const auto other = gnn_test_path("other.gale");
  std::filesystem::copy_file(trained_checkpoint(), other, std::filesystem::copy_options::overwrite_existing);
  auto spec = parse_training_config(tiny_training_config(other, 310));
  spec.run_config["network"]["latent"] = "48";
  try {
    train_forecaster(MPI_COMM_WORLD, spec, true);
    FAIL("a mismatched checkpoint was resumed");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("/config") && Catch::Contains(other));
  }
}

TEST_CASE("a resumed training run is bit-for-bit the uninterrupted one") {
  ensure_mpi();
  const auto whole = gnn_test_path("whole.gale"), split = gnn_test_path("split.gale");
  const std::string rollout = "  rollout: [{from_step: 0, steps: 1}, {from_step: 4, steps: 2}]\n";
  const auto a = train_forecaster(MPI_COMM_WORLD, parse_training_config(tiny_training_config(whole, 8, rollout)), false);
  train_forecaster(MPI_COMM_WORLD, parse_training_config(tiny_training_config(split, 3, rollout)), false);
  const auto b = train_forecaster(MPI_COMM_WORLD, parse_training_config(tiny_training_config(split, 8, rollout)), true);
  CHECK(b.steps_run == 5);
  CHECK(a.losses == b.losses);
  CHECK(read_checkpoint_file(whole).weights == read_checkpoint_file(split).weights);
}

TEST_CASE("the GNN stepper forecasts like the forecaster and names a NaN input") {
  auto model = load_forecaster(trained_checkpoint());
  GnnStepper stepper(model, trained_checkpoint());
  REQUIRE(stepper.variables().size() == 5);  // z, u, v, t and the diagnosed wind speed
  CHECK(stepper.variables().back().key() == "ws500");
  CHECK(stepper.input_times() == 2);
  const auto spec = parse_training_config(tiny_training_config(trained_checkpoint(), 300));
  const DatasetIndex data(training_files(spec), spec.variables);
  const TimePoint t = parse_iso8601("2001-02-05T00");
  const auto six = std::chrono::hours(6);
  State inputs(1, {t - six, t}, stepper.variables(), data.grid(), t);
  for (std::size_t k = 0; k < 2; ++k) {
    const auto values = data.load(inputs.valid_times()[k]);
    for (std::size_t v = 0; v < 4; ++v) std::copy_n(values.data() + v * 512, 512, inputs.field(0, k, v));
    for (std::size_t p = 0; p < 512; ++p)
      inputs.field(0, k, 4)[p] = std::hypot(inputs.field(0, k, 1)[p], inputs.field(0, k, 2)[p]);
  }
  const State out = stepper.step(inputs, {});
  CHECK((out.valid_times() == std::vector<TimePoint>{t + six}));
  at::NoGradGuard no_grad;
  const auto expected = model->forward(at::tensor(data.load(t - six)).reshape({1, 4, 512}),
                                       at::tensor(data.load(t)).reshape({1, 4, 512}), {t});
  for (std::size_t v = 0; v < 4; ++v)
    for (std::size_t p = 0; p < 512; p += 37) CHECK(out.field(0, 0, v)[p] == expected[0][std::int64_t(v)][std::int64_t(p)].item<float>());
  CHECK(out.field(0, 0, 4)[10] == Approx(std::hypot(out.field(0, 0, 1)[10], out.field(0, 0, 2)[10])));

  inputs.field(0, 1, 3)[100] = std::nanf("");
  try {
    stepper.step(inputs, {});
    FAIL("a NaN input was accepted");
  } catch (const DataError& e) {
    CHECK_THAT(e.what(), Catch::Contains("t500") && Catch::Contains("2001-02-05T00") && Catch::Contains("not finite"));
  }
}

// The default model is made in two stages: configs/train-gnn.yaml (models/gnn-pretrained.gale),
// then configs/finetune-gnn.yaml (models/gnn-default.gale, starting from the first).
static void check_committed(const std::string& name, const std::string& config) {
  const std::string file = std::string(GALE_SOURCE_DIR) + "/models/" + name;
  INFO(file);
  const auto checkpoint = read_checkpoint_file(file);  // digest checked here
  std::ifstream sum(file + ".sha256");
  std::string digest;
  REQUIRE(sum >> digest);
  CHECK(digest == sha256_file(file));
  const auto& meta = checkpoint.metadata;
  CHECK(meta.at("variables") == nlohmann::json({"z500", "u500", "v500", "t500"}));
  CHECK(meta.at("grid").at("kind") == "regular_gg");
  CHECK(meta.at("grid").at("latitudes").size() == 64);
  CHECK(meta.at("time_step_hours") == 6.0);
  const auto spec = parse_training_config(Config::from_file(std::string(GALE_SOURCE_DIR) + "/configs/" + config));
  // The starting point is identified by its SHA-256 (checked below), not by the path it had
  // when the run started: committed checkpoints are renamed when a later stage takes over
  // the `-default` name.
  auto stored = meta.at("config"), expected = spec.run_config;
  stored.erase("init_from");
  expected.erase("init_from");
  // Nor by how the data's path was spelled (a run may start from a copy of its config with
  // absolute paths): the data fingerprint identifies the data, so the file names are compared.
  for (auto* config : {&stored, &expected}) {
    auto& files = (*config)["data"]["files"];
    if (files.is_string()) files = nlohmann::json::array({files});
    for (auto& f : files) f = std::filesystem::path(f.get<std::string>()).filename().string();
  }
  CHECK(stored == expected);
  CHECK(meta.at("training").at("step") == spec.steps);
  // Averaged weights name the checkpoints the config's average_weights_from averages.
  std::vector<int> averaged;
  for (const auto& source : meta.value("averaged_from", nlohmann::json::array())) averaged.push_back(source.at("step"));
  CHECK(averaged == averaged_steps(spec));
  auto model = load_forecaster(checkpoint, file);
  CHECK(model->spec().network.latent == spec.network.latent);
  if (!spec.init_from.empty())
    CHECK(meta.at("init_from").at("sha256") == sha256_file(spec.init_from));
}

TEST_CASE("the committed checkpoints verify and describe their training configs") {
  check_committed("gnn-pretrained.gale", "train-gnn.yaml");
  check_committed("gnn-default.gale", "finetune-gnn.yaml");
  // The generative models (issue 6), each started from a committed checkpoint.
  check_committed("fgn-stage1.gale", "train-fgn.yaml");
  check_committed("fgn-stage2.gale", "finetune-fgn.yaml");
  check_committed("fgn-stage3.gale", "finetune-fgn-48h.yaml");
  check_committed("fgn-stage4.gale", "finetune-fgn-afcrps.yaml");
  check_committed("fgn-stage5.gale", "finetune-fgn-afcrps-48h.yaml");
  check_committed("fgn-stage6.gale", "finetune-fgn-afcrps-72h.yaml");
  check_committed("fgn-default.gale", "finetune-fgn-afcrps-72h-averaged.yaml");
  check_committed("diffusion-stage1.gale", "train-diffusion.yaml");
  check_committed("diffusion-default.gale", "finetune-diffusion.yaml");
}
