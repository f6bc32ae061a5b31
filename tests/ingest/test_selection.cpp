#include <catch2/catch.hpp>

#include <cmath>

#include "../data.hpp"
#include "../scratch_dir.hpp"
#include "core/errors.hpp"
#include "export/netcdf_writer.hpp"
#include "ingest/selection.hpp"

#include <filesystem>

using namespace gale;
using namespace gale::test;

namespace {
std::vector<std::unique_ptr<Reader>> open(std::initializer_list<std::string> files) {
  std::vector<std::unique_ptr<Reader>> readers;
  for (const auto& f : files) readers.push_back(open_reader(data_file(f)));
  return readers;
}
Request request(std::initializer_list<const char*> keys) {
  Request r;
  for (const auto* k : keys) r.variables.push_back(parse_variable_key(k));
  return r;
}
}  // namespace

TEST_CASE("selection builds a [member, time, variable, point] State from real GRIB") {
  GALE_REQUIRE_DATA();
  Selection sel(open({"era5-levels-members.grib"}), request({"t850", "z500"}));
  CHECK(sel.report().ok());
  CHECK(sel.report().selected == 80);
  CHECK(sel.report().extra == 80);  // z850 and t500 were not asked for
  const State s = sel.load();
  CHECK(s.members() == 10);
  CHECK(s.times() == 4);
  CHECK(s.variables()[0].key() == "t850");
  CHECK(s.points() == 120 * 61);
  CHECK(iso8601(s.reference_time()) == "2017-01-01T00:00:00Z");
  // Golden value (grib_get_data): z500, member 0, 2017-01-01 00 UTC, 90N 0E is point 0.
  CHECK(s.data()(0, 0, 1, 0) == Approx(51169.703125).epsilon(1e-7));
  // t850 member 9 at 2017-01-02 12 UTC, 45N 9E: row (90-45)/3 = 15, column 3.
  CHECK(s.data()(9, 3, 0, 15 * 120 + 3) == Approx(273.53501892).epsilon(1e-7));
  for (float v : s.data()) REQUIRE_FALSE(std::isnan(v));
}

TEST_CASE("times and members narrow the selection; gaps are reported field by field") {
  GALE_REQUIRE_DATA();
  Request r = request({"z500"});
  r.members = {0, 3};
  r.times = {parse_iso8601("2017-01-01T12"), parse_iso8601("2017-01-01T18")};
  Selection sel(open({"era5-levels-members.grib"}), r);
  CHECK_FALSE(sel.report().ok());
  CHECK(sel.report().missing == std::vector<std::string>{"z500 2017-01-01T18:00:00Z member 0",
                                                         "z500 2017-01-01T18:00:00Z member 3"});
  REQUIRE_THROWS_AS(sel.load(), DataError);
  REQUIRE_THROWS_WITH(sel.load(), Catch::Contains("2 missing") &&
                                      Catch::Contains("missing: z500 2017-01-01T18:00:00Z member 3"));
}

TEST_CASE("the same file twice is reported as duplicated fields") {
  GALE_REQUIRE_DATA();
  Selection sel(open({"ll_sn_scanning_mode.grib", "ll_sn_scanning_mode.grib"}), request({"skt"}));
  REQUIRE(sel.report().duplicated.size() == 1);
  CHECK_THAT(sel.report().duplicated[0], Catch::Contains("field 1, ") && Catch::Contains("skt"));
}

TEST_CASE("fields on different grids are not mixed") {
  GALE_REQUIRE_DATA();
  Selection sel(open({"era5-levels-members.grib", "pl_regular_ll.grib"}), request({"t850"}));
  CHECK_FALSE(sel.report().off_grid.empty());
  REQUIRE_THROWS_WITH(sel.load(), Catch::Contains("other grid"));
}

TEST_CASE("physical range checks reject wrong units") {
  // Temperatures written in degrees Celsius but labelled K: every field is out of range.
  const auto grid = Grid::regular(GridKind::regular_ll, {10, 0}, {0, 10});
  const auto t0 = parse_iso8601("2020-01-01");
  State celsius(1, {t0}, {parse_variable_key("t850")}, grid, t0);
  celsius.data().fill(12.5f);
  const auto path = (gale::test::scratch_root() / "celsius.nc").string();
  write_state_netcdf(celsius, path);
  std::vector<std::unique_ptr<Reader>> readers;
  readers.push_back(open_reader(path));
  Selection sel(std::move(readers), request({"t850"}));
  REQUIRE(sel.report().ok());
  REQUIRE_THROWS_AS(sel.load(), DataError);
  REQUIRE_THROWS_WITH(sel.load(), Catch::Contains("outside the physical range 150..350") &&
                                      Catch::Contains("wrong units"));
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".sha256");
}

TEST_CASE("real fields pass the range checks") {
  GALE_REQUIRE_DATA();
  Selection ok(open({"era5-levels-members.grib"}), request({"z850"}));
  REQUIRE_NOTHROW(ok.load());
  Selection nc(open({"eraint_uvz.nc"}), request({"z200", "u850"}));
  const State s = nc.load();
  CHECK(s.times() == 2);
}
