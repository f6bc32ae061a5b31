// Data-parallel training under real MPI ranks: `mpirun -np 2 gale train` follows the loss
// curve of one rank with the same global batch (each rank computes half of it), within
// rounding; and `gale train` refuses a batch the ranks cannot share.
#include <catch2/catch.hpp>

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
