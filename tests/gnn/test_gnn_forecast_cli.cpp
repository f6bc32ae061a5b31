// The learned model through the CLI: `gale train` makes a checkpoint, `gale evaluate` scores
// it, and `gale forecast` runs it as an ensemble on 1 and 2 MPI ranks with identical
// products; input on another grid than the checkpoint's is refused with a clear message.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/hash.hpp"
#include "ensemble/global_mean_fixer.hpp"
#include "grids/cells.hpp"
#include "tests/netcdf_checks.hpp"
#include "tests/gnn/gnn_fixtures.hpp"

using gale::test::gnn_test_dir;
using gale::test::run_command;

namespace {
void forecast_config(const std::filesystem::path& file, const std::string& input, const std::string& output,
                     const std::string& model_extra = "") {
  const auto dir = gnn_test_dir();
  std::ofstream(file) << "forecast:\n  input: {sources: [{path: " << input << "}], time: 2001-02-05T06}\n"
                      << "  model: {type: gnn, checkpoint: " << (dir / "cli.gale").string() << ", threads: 1"
                      << model_extra << "}\n"
                      << "  members: 3\n  steps: 4\n  seed: 2\n"
                      << "  perturbation: {type: gaussian, correlation_km: 1500, amplitude: {z500: 50, t500: 0.3}}\n"
                      << "  statistics: {percentiles: [10, 50, 90], thresholds: {ws500: [15]}}\n"
                      << "  output: " << output << "\n";
}
// Area-weighted global mean of a statistics file's variable (gale's own cell weights).
double global_mean(const std::filesystem::path& file, const std::string& name) {
  const auto lat = gale::test::read_floats(file.string(), "latitude");
  const auto lon = gale::test::read_floats(file.string(), "longitude");
  const auto grid = gale::Grid::regular(gale::GridKind::regular_gaussian, std::vector<double>(lat.begin(), lat.end()),
                                        std::vector<double>(lon.begin(), lon.end()));
  const auto values = gale::test::read_floats(file.string(), name);
  return gale::weighted_mean(values.data(), gale::latitude_weights(*grid));
}
}  // namespace

TEST_CASE("gale train, evaluate and forecast with the GNN model") {
  const auto dir = gnn_test_dir();
  std::ofstream(dir / "cli.yaml") << gale::test::tiny_training_yaml((dir / "cli.gale").string(), 40);
  std::string out;
  REQUIRE(gale::test::run_gale("train -q -c " + (dir / "cli.yaml").string(), out) == 0);
  REQUIRE(std::filesystem::exists(dir / "cli.gale"));
  CHECK(std::filesystem::exists(dir / "cli.gale.sha256"));

  const auto evaluation = run_command(std::string(GALE_BINARY) + " evaluate -q --cases 3 -c " + (dir / "cli.yaml").string());
  INFO(evaluation.out);
  REQUIRE(evaluation.code == 0);
  CHECK_THAT(evaluation.out, Catch::Contains("persistence") && Catch::Contains("120h") && Catch::Contains("z500"));

  const std::string input = (dir / "nr" / "naturerun-2001-02-05.nc").string();
  forecast_config(dir / "f1.yaml", input, (dir / "f1").string());
  forecast_config(dir / "f2.yaml", input, (dir / "f2").string());
  const auto one = run_command(gale::test::gale_on_ranks(1) + " forecast -q -c " + (dir / "f1.yaml").string());
  INFO(one.out);
  REQUIRE(one.code == 0);
  const auto two = run_command(gale::test::gale_on_ranks(2) + " forecast -q -c " + (dir / "f2.yaml").string());
  INFO(two.out);
  REQUIRE(two.code == 0);
  for (const char* lead : {"lead_001.nc", "lead_004.nc"}) {
    const auto a = dir / "f1" / "stats" / lead, b = dir / "f2" / "stats" / lead;
    REQUIRE(std::filesystem::exists(a));
    CHECK(gale::sha256_file(a.string()) == gale::sha256_file(b.string()));
  }

  // With the global-mean fixer the ensemble mean's global mean of z500 and t500 stays what
  // the (perturbed) initial members had: each member's is put back every step. Without it
  // the briefly trained model drifts. Float fields of 5e4: equal within 0.01 m2 s-2.
  forecast_config(dir / "f4.yaml", input, (dir / "f4").string(), ", conserve_global_mean: [z500, t500]");
  const auto fixed = run_command(gale::test::gale_on_ranks(2) + " forecast -q -c " + (dir / "f4.yaml").string());
  INFO(fixed.out);
  REQUIRE(fixed.code == 0);
  for (const char* var : {"z500_mean", "t500_mean"}) {
    INFO(var);
    const double start = global_mean(dir / "f4" / "stats" / "lead_001.nc", var);
    CHECK(global_mean(dir / "f4" / "stats" / "lead_004.nc", var) == Approx(start).margin(var[0] == 'z' ? 0.01 : 1e-4));
    const double free_drift = global_mean(dir / "f1" / "stats" / "lead_004.nc", var) -
                              global_mean(dir / "f1" / "stats" / "lead_001.nc", var);
    CHECK(std::abs(free_drift) > (var[0] == 'z' ? 0.5 : 0.005));
  }
  forecast_config(dir / "f5.yaml", input, (dir / "f5").string(), ", conserve_global_mean: [z500, q700]");
  const auto unknown = run_command(std::string(GALE_BINARY) + " forecast -q -c " + (dir / "f5.yaml").string());
  INFO(unknown.out);
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.out, Catch::Contains("forecast.model.conserve_global_mean") && Catch::Contains("'q700'"));

  // A T12 nature run is on another grid than the T10 model: refused, checkpoint named.
  std::ofstream(dir / "nr12.yaml") << "naturerun:\n  model: {truncation: 12, dt_minutes: 30, seed: 1}\n"
                                      "  start: 2001-02-05T00\n  spinup_days: 1\n  length_days: 1\n  file_span: run\n";
  REQUIRE(gale::test::run_gale("naturerun -q -c " + (dir / "nr12.yaml").string() + " -o " + (dir / "nr12").string(), out) == 0);
  forecast_config(dir / "f3.yaml", (dir / "nr12" / "naturerun-run.nc").string(), (dir / "f3").string());
  const auto wrong = run_command(std::string(GALE_BINARY) + " forecast -q -c " + (dir / "f3.yaml").string());
  INFO(wrong.out);
  CHECK(wrong.code == 4);
  CHECK_THAT(wrong.out, Catch::Contains("cli.gale") && Catch::Contains("grid"));
  CHECK(!std::filesystem::exists(dir / "f3" / "stats" / "lead_001.nc"));
}
