// The built-in default end to end, shrunk for CI: configs/default.yaml with a 4-day nature
// run generated on the fly, 4 members x 8 steps of the committed GNN on 2 MPI ranks. The
// products exist, open in ncdump / cdo / xarray, carry provenance, and the verification
// summary scores the ensemble against the nature run.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "core/hash.hpp"
#include "tests/run_command.hpp"
#include "tests/scratch_dir.hpp"

namespace fs = std::filesystem;
using gale::test::run_command;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  return std::regex_replace(text, std::regex(from), to);
}

}  // namespace

TEST_CASE("the default forecast config runs end to end on 2 ranks with products, provenance and scores") {
  const fs::path source = GALE_SOURCE_DIR;
  const auto dir = gale::test::scratch_dir("default");
  // A short nature run (60 days of spin-up, then 4 days) instead of the year the default uses.
  std::ofstream(dir / "naturerun.yaml") << "naturerun:\n  model: {truncation: 42, dt_minutes: 15, seed: 20240601}\n"
                                           "  start: 2000-01-01T00\n  spinup_days: 60\n  length_days: 4\n"
                                           "  output_hours: 6\n  file_span: month\n";
  auto config = read_text(source / "configs" / "default.yaml");
  config = replace_all(config, "\\.\\./naturerun/naturerun-2000-12\\.nc", (dir / "nr" / "naturerun-2000-01.nc").string());
  config = replace_all(config, "config: naturerun-t42\\.yaml, output: \\.\\./naturerun",
                       "config: " + (dir / "naturerun.yaml").string() + ", output: " + (dir / "nr").string());
  config = replace_all(config, "time: 2000-12-01T06", "time: 2000-01-02T06");
  config = replace_all(config, "members: 10", "members: 4");
  config = replace_all(config, "steps: 20", "steps: 8");
  config = replace_all(config, "leads: \\[24, 72, 120\\]", "leads: [24, 48]");
  config = replace_all(config, "\\.\\./models/", (source / "models").string() + "/");
  config = replace_all(config, "sites-europe\\.csv", (source / "configs" / "sites-europe.csv").string());
  config = replace_all(config, "\\.\\./runs/default", (dir / "run").string());
  std::ofstream(dir / "default.yaml") << config;

  // GALE_RUN_SUMMARY: where gale schedule asks a run to say what it completed.
  const auto r = run_command("GALE_RUN_SUMMARY=" + (dir / "summary.json").string() + " " + std::string(GALE_MPIEXEC) +
                             " --allow-run-as-root --oversubscribe -np 2 " + GALE_BINARY +
                             " forecast --config " + (dir / "default.yaml").string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("products: " + (dir / "run" / "products" / "manifest.json").string()));
  CHECK_THAT(r.out, Catch::Contains("verification (ensemble vs truth)") && Catch::Contains("z500"));

  CHECK_THAT(read_text(dir / "summary.json"), Catch::Contains("\"members\":4") &&
                                                 Catch::Contains("\"steps_completed\":32"));
  // Provenance: the config as run and the hashes of the inputs and of the checkpoint.
  const auto run = dir / "run";
  CHECK(fs::exists(run / "config.yaml"));
  CHECK_THAT(read_text(run / "forecast.log"), Catch::Contains("forecast: 8/8 leads") && Catch::Contains("products:"));
  const auto provenance = read_text(run / "provenance.json");
  CHECK_THAT(provenance, Catch::Contains(gale::sha256_file((source / "models" / "gnn-default.gale").string())));
  CHECK_THAT(provenance, Catch::Contains(gale::sha256_file((dir / "nr" / "naturerun-2000-01.nc").string())));
  CHECK_THAT(provenance, Catch::Contains("\"seed\": 1"));

  // Products: every NetCDF opens cleanly and carries the provenance attributes.
  int netcdf = 0;
  for (const auto& entry : fs::recursive_directory_iterator(run / "products")) {
    if (entry.path().extension() != ".nc") continue;
    ++netcdf;
    const auto file = entry.path().string();
    INFO(file);
    const auto header = run_command("ncdump -h " + file);
    CHECK(header.code == 0);
    if (entry.path().parent_path().filename() == "netcdf") {
      CHECK_THAT(header.out, Catch::Contains("gale_seed = \"1\"") && Catch::Contains("gale_model = \"gnn\"") &&
                                 Catch::Contains("gale_input_1 = \"gnn-default.gale sha256:"));
    }
    const auto sinfo = run_command("cdo -s sinfo " + file);
    CHECK(sinfo.code == 0);
    CHECK_THAT(sinfo.out, !Catch::Contains("Warning"));
    const auto py = run_command("/usr/bin/python3 -W error -c \"import xarray; xarray.open_dataset('" + file + "').load()\"");
    INFO(py.out);
    CHECK(py.code == 0);
  }
  CHECK(netcdf == 6);  // z500 u500 v500 t500 ws500 + sites
  CHECK(fs::exists(run / "products" / "grib2" / "ws500.grib2"));
  CHECK(fs::exists(run / "products" / "maps" / "ws500_probability_gt_20_048h.png"));
  CHECK(fs::exists(run / "products" / "sites" / "plume_London_z500.png"));
  // Leads 6..48 h: eight of them in every product.
  const auto periods = run_command("/usr/bin/python3 -c \"import xarray; ds = xarray.open_dataset('" +
                                   (run / "products" / "netcdf" / "z500.nc").string() +
                                   "'); print(list(ds.forecast_period.values.astype('timedelta64[h]').astype(int)))\"");
  CHECK_THAT(periods.out, Catch::Contains("[6, 12, 18, 24, 30, 36, 42, 48]"));
  // Verification: scores per lead for the verified variables.
  const auto scores = read_text(run / "verification" / "scores.csv");
  CHECK_THAT(scores, Catch::Contains("z500") && Catch::Contains("crps") && Catch::Contains("spread"));
  fs::remove_all(dir);
}
