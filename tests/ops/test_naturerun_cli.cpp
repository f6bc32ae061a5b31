#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "../run_command.hpp"
#include "../scratch_dir.hpp"
#include "core/errors.hpp"
#include "ingest/selection.hpp"

TEST_CASE("gale naturerun writes ERA5-like NetCDF and a GRIB2 ensemble that ingest reads back") {
  namespace fs = std::filesystem;
  const auto dir = gale::test::scratch_dir("naturerun");
  const auto cfg = (dir / "nr.yaml").string();
  std::ofstream(cfg) << "naturerun:\n  model: {truncation: 21, dt_minutes: 30, seed: 7}\n"
                        "  start: 2001-02-27T00\n  spinup_days: 5\n  length_days: 3\n  file_span: month\n"
                        "  ensemble: {members: 3, perturbation_rms: 1.0e-6}\n";
  std::string out;
  REQUIRE(gale::test::run_gale("naturerun -q -c " + cfg + " -o " + (dir / "out").string(), out) == 0);
  // 2001-02-27 .. 2001-03-01 18 UTC: two monthly files.
  CHECK(fs::exists(dir / "out" / "naturerun-2001-02.nc"));
  CHECK(fs::exists(dir / "out" / "naturerun-2001-03.nc"));
  CHECK(fs::exists(dir / "out" / "naturerun-2001-02.nc.sha256"));

  // Real ingest path: the files select, orient and pass the physical range checks.
  std::vector<std::unique_ptr<gale::Reader>> readers;
  readers.push_back(gale::open_reader((dir / "out" / "naturerun-2001-02.nc").string()));
  readers.push_back(gale::open_reader((dir / "out" / "naturerun-2001-03.nc").string()));
  gale::Request request;
  for (const char* k : {"z500", "u500", "v500", "t500", "ws500"}) request.variables.push_back(gale::parse_variable_key(k));
  gale::Selection selection(std::move(readers), request);
  REQUIRE(selection.report().ok());
  const auto state = selection.load();
  CHECK(state.times() == 12);
  CHECK(state.grid()->kind() == gale::GridKind::regular_gaussian);
  CHECK(state.points() == 64 * 32);
  for (float v : state.data()) REQUIRE(std::isfinite(v));

  // The ensemble: 3 members x 2 input times, member 0 unperturbed, others slightly different.
  std::vector<std::unique_ptr<gale::Reader>> grib;
  grib.push_back(gale::open_reader((dir / "out" / "initial-ensemble-2001-02-27T00.grib2").string()));
  gale::Selection ens(std::move(grib), request);
  REQUIRE(ens.report().ok());
  const auto e = ens.load();
  CHECK(e.members() == 3);
  CHECK(e.times() == 2);
  double diff = 0;
  for (std::size_t p = 0; p < e.points(); ++p) diff = std::max(diff, double(std::abs(e.field(1, 1, 0)[p] - e.field(0, 1, 0)[p])));
  CHECK(diff > 0);
  // 1e-6 s-1 of vorticity (a tenth of typical values) 6 h on: tens of metres of height,
  // like the spread of an ensemble of data assimilations at 500 hPa.
  CHECK(diff > 10);
  CHECK(diff < 2000);

  // Same config and seed: byte-identical files (reproducible nature run).
  std::string out2;
  REQUIRE(gale::test::run_gale("naturerun -q -c " + cfg + " -o " + (dir / "again").string(), out2) == 0);
  std::ifstream a(dir / "out" / "naturerun-2001-02.nc.sha256"), b(dir / "again" / "naturerun-2001-02.nc.sha256");
  std::string ha, hb;
  a >> ha;
  b >> hb;
  CHECK(ha == hb);
  fs::remove_all(dir);
}

TEST_CASE("gale naturerun rejects bad configs before running") {
  const auto dir = gale::test::scratch_dir("naturerun-bad");
  const auto cfg = (dir / "nr.yaml").string(), output = (dir / "out").string();
  std::ofstream(cfg) << "naturerun:\n  model: {truncation: 21, forcing_n_max: 40}\n";
  std::string out;
  CHECK(gale::test::run_gale("naturerun -c " + cfg + " -o " + output, out) == 2);
  CHECK_THAT(out, Catch::Contains("naturerun.model.forcing_n_max: must not exceed the truncation T21"));
  out.clear();
  std::ofstream(cfg) << "naturerun:\n  output_hours: 5.1\n";
  CHECK(gale::test::run_gale("naturerun -c " + cfg + " -o " + output, out) == 2);
  CHECK_THAT(out, Catch::Contains("whole number of model steps"));
}
