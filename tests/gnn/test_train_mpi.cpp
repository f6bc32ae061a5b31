// Data-parallel training under real MPI ranks: `mpirun -np 2 gale train` follows the loss
// curve of one rank with the same global batch (each rank computes half of it), within
// rounding; `gale train` refuses a batch the ranks cannot share; and a checkpoint that rank 0
// cannot write ends every rank with its message (no rank left waiting in an all-reduce).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "gnn/checkpoint_file.hpp"
#include "tests/gnn/gnn_fixtures.hpp"

using namespace gale;
using gale::test::gnn_test_dir;
using gale::test::run_command;

namespace {
std::vector<double> losses(const std::string& file) {
  return read_checkpoint_file(file).metadata.at("training").at("losses").get<std::vector<double>>();
}
}  // namespace

TEST_CASE("two ranks train to the loss curve of one rank with the same global batch") {
  const auto dir = gnn_test_dir();
  for (const char* name : {"one", "two"}) {
    const auto out = (dir / (std::string(name) + ".gale")).string();
    std::ofstream(dir / (std::string(name) + ".yaml")) << gale::test::tiny_training_yaml(out, 12);
  }
  const auto one = run_command(gale::test::gale_on_ranks(1) + " train -q -c " + (dir / "one.yaml").string());
  REQUIRE(one.code == 0);
  const auto two = run_command(gale::test::gale_on_ranks(2) + " train -q -c " + (dir / "two.yaml").string());
  INFO(two.out);
  REQUIRE(two.code == 0);
  const auto a = losses((dir / "one.gale").string()), b = losses((dir / "two.gale").string());
  REQUIRE(a.size() == 12);
  REQUIRE(b.size() == 12);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(b[i] == Approx(a[i]).epsilon(1e-4));
  CHECK(a.back() < a.front());

  // A global batch of 4 cannot be shared by 3 ranks: a clear configuration error.
  const auto three = run_command(gale::test::gale_on_ranks(3) + " train -q -c " + (dir / "one.yaml").string());
  CHECK(three.code == 2);
  CHECK_THAT(three.out, Catch::Contains("batch_size 4 is not divisible by the 3 MPI ranks"));
}

TEST_CASE("a checkpoint rank 0 cannot write stops both ranks with one clear message") {
  const auto dir = gnn_test_dir() / "unwritable";
  std::filesystem::create_directories(dir / "is-a-directory.gale");
  std::ofstream(dir / "blocker") << "a file where the output's directory should be\n";
  // The output is a directory: the first checkpoint write fails on rank 0 (before, rank 1
  // then waited in the next all-reduce for ever). Its parent is a file: rank 0 cannot even
  // clear the weight snapshots before training.
  const auto directory = (dir / "is-a-directory.gale").string(), under_file = (dir / "blocker" / "out.gale").string();
  const std::vector<std::pair<std::string, std::string>> cases{
      {directory, directory + ": output path is a directory"},
      {under_file, "cannot write the weight snapshots in " + under_file + ".snapshots: filesystem error"}};
  for (const auto& [out, message] : cases) {
    auto yaml = gale::test::tiny_training_yaml(out, 4, "  average_weights_from: 2\n");
    yaml.replace(yaml.find("checkpoint_every: 1000"), std::string("checkpoint_every: 1000").size(), "checkpoint_every: 2");
    std::ofstream(dir / "run.yaml") << yaml;
    // `timeout` turns a hang into a failure (exit 124) instead of a stuck suite.
    const auto r = run_command("timeout 120 " + gale::test::gale_on_ranks(2) + " train -q -c " + (dir / "run.yaml").string());
    INFO(r.out);
    CHECK(r.code == 3);
    CHECK_THAT(r.out, Catch::StartsWith("gale train: " + message));
    CHECK(!std::filesystem::exists(out + ".snapshots"));
  }
}
