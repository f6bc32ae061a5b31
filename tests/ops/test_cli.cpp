#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../data.hpp"
#include "../run_command.hpp"
#include "../scratch_dir.hpp"

namespace {
gale::test::CommandResult run_gale(const std::string& args) {
  return gale::test::run_command(std::string(GALE_BINARY) + " " + args);
}
std::string config(const std::string& name, const std::string& text) {
  const auto path = gale::test::scratch_root() / ("cli-" + name + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}
}  // namespace

TEST_CASE("gale inspect prints a table of a real file") {
  GALE_REQUIRE_DATA();
  const auto r = run_gale("inspect " + gale::test::data_file("era5-levels-members.grib"));
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("500,850 hPa") && Catch::Contains("regular_ll 120x61"));
  CHECK_THAT(r.out, Catch::Contains("2017-01-01T00:00:00Z..2017-01-02T12:00:00Z"));
}

TEST_CASE("gale inspect: unsupported grid exits non-zero with one clear line") {
  GALE_REQUIRE_DATA();
  const auto r = run_gale("inspect " + gale::test::data_file("healpix_H8.grib2"));
  CHECK(r.code == 3);
  CHECK_THAT(r.out, Catch::Contains("healpix_H8.grib2: message 1: unsupported grid"));
  CHECK_THAT(r.out, !Catch::Contains("ECCODES ERROR"));
}

TEST_CASE("gale ingest on a real ensemble with --set overrides") {
  GALE_REQUIRE_DATA();
  const auto cfg = config("ok", "ingest:\n  sources:\n    - {path: " +
                                    gale::test::data_file("era5-levels-members.grib") +
                                    "}\n  variables: [z500, t850]\n");
  const auto r = run_gale("ingest -c " + cfg + " --set ingest.members=[0,1]");
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("state: 2 member(s) x 4 time(s) x 2 variable(s)"));
}

TEST_CASE("config mistakes are caught before any work, naming the key") {
  GALE_REQUIRE_DATA();
  const auto src = gale::test::data_file("era5-levels-members.grib");
  auto r = run_gale("ingest -c " + config("typo", "ingest:\n  sources: [{path: " + src + "}]\n  variabels: [z500]\n"));
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("ingest.variabels: unknown key"));
  r = run_gale("ingest -c " + config("var", "ingest:\n  sources: [{path: " + src + "}]\n  variables: [z501x]\n"));
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("ingest.variables[0]"));
  r = run_gale("ingest -c " + config("missing", "ingest:\n  sources: [{path: /nope.grib}]\n  variables: [z500]\n"));
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("ingest.sources[0].path: file '/nope.grib' does not exist"));
  r = run_gale("ingest -c " + config("dup", "ingest:\n  sources: [{path: " + src + "}]\n  variables: [z500]\n") +
               " --set ingest.members=[0,0]");
  CHECK(r.code == 2);
  CHECK_THAT(r.out, Catch::Contains("ingest.members[1]: listed twice"));
  r = run_gale("ingest -c " + config("absent", "ingest:\n  sources: [{path: " + src + "}]\n  variables: [msl]\n"));
  CHECK(r.code == 4);
  CHECK_THAT(r.out, Catch::Contains("missing: msl 2017-01-01T00:00:00Z member 0"));
}

TEST_CASE("usage errors exit with 2") {
  CHECK(run_gale("").code == 2);
  CHECK(run_gale("bogus-command").code == 2);
  CHECK(run_gale("ingest").code == 2);
  CHECK(run_gale("--help").code == 0);
}
