// GRIB2 writer: round trips through ingest's reader within packing tolerance, ensemble keys
// read with the ecCodes API, grib_ls, atomic output and errors that name the path.
#include <catch2/catch.hpp>
#include <eccodes.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "export/grib_writer.hpp"
#include "export_fixtures.hpp"

using namespace gale;
using namespace gale::test;

namespace {

// Simple packing with B bits: values R + X 2^E, X < 2^B, E the smallest exponent that
// fits the field's range, so the error is at most 2^E / 2 < range / (2^B - 1); plus the
// float32 rounding of the reference value R and of the decoded value (|x| 2^-23).
double packing_tolerance(const State& s, std::size_t m, std::size_t t, std::size_t v, int bits) {
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  const float* f = s.field(m, t, v);
  for (std::size_t p = 0; p < s.points(); ++p)
    if (!std::isnan(f[p])) lo = std::min(lo, double(f[p])), hi = std::max(hi, double(f[p]));
  return (hi - lo) / (std::ldexp(1.0, bits) - 1) + std::max(std::abs(lo), std::abs(hi)) * std::ldexp(1.0, -23);
}

struct Message {
  codes_handle* h;
  long get(const char* key) const {
    long v = -999;
    codes_get_long(h, key, &v);
    return v;
  }
  std::string str(const char* key) const {
    char buf[256] = {};
    std::size_t len = sizeof buf;
    codes_get_string(h, key, buf, &len);
    return buf;
  }
};

// Calls `check` for every message of a GRIB file; returns the message count.
template <typename Check>
std::size_t for_each_message(const std::string& path, Check check) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f);
  std::size_t count = 0;
  int err = 0;
  while (codes_handle* h = codes_handle_new_from_file(nullptr, f, PRODUCT_GRIB, &err)) {
    check(Message{h}, count++);
    codes_handle_delete(h);
  }
  std::fclose(f);
  return count;
}

int run(const std::string& command) { return std::system((command + " > /dev/null").c_str()); }

}  // namespace

TEST_CASE("GRIB2 round trip: ensemble on a regular lat-lon grid within 16-bit packing", "[export][grib]") {
  const auto dir = gale::test::scratch_dir("export-grib-ll");
  const auto path = (dir / "ens.grib2").string();
  const State s = make_state(latlon_grid());
  write_state_grib2(s, path, {});
  const State back = read_back(path, s);
  require_same(s, back, [&](std::size_t v, std::size_t m, std::size_t t) {
    return packing_tolerance(s, m, t, v, 16);
  });
  // The tolerance is tight: z500 spans ~7000 m2 s-2, so 16 bits resolve ~0.1 m2 s-2.
  CHECK(packing_tolerance(s, 0, 0, 0, 16) < 0.2);
  CHECK(files_in(dir).size() == 2);  // the product and its .sha256
  CHECK(slurp(path + ".sha256") == sha256_file(path) + "  ens.grib2\n");
  CHECK(run("grib_ls '" + path + "'") == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("GRIB2 round trip: regular Gaussian N16 keeps the grid fingerprint", "[export][grib]") {
  const auto dir = gale::test::scratch_dir("export-grib-gg");
  const auto path = (dir / "gg.grib2").string();
  const State s = make_state(gaussian_grid(16));
  GribWriteOptions options;
  options.bits_per_value = 24;
  write_state_grib2(s, path, options);
  for_each_message(path, [](const Message& m, std::size_t) {
    CHECK(m.str("gridType") == "regular_gg");
    CHECK(m.get("N") == 16);
    CHECK(m.get("Ni") == 64);
    CHECK(m.get("Nj") == 32);
    CHECK(m.get("bitsPerValue") == 24);
  });
  const State back = read_back(path, s);
  CHECK(back.grid()->kind() == GridKind::regular_gaussian);
  require_same(s, back, [&](std::size_t v, std::size_t m, std::size_t t) {
    return packing_tolerance(s, m, t, v, 24);
  });
  CHECK(run("grib_ls '" + path + "'") == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("GRIB2: ensemble, level, time and bitmap keys", "[export][grib]") {
  const auto dir = gale::test::scratch_dir("export-grib-keys");
  const auto path = (dir / "keys.grib2").string();
  const State s = make_state(latlon_grid(10));  // 3 members, 3 times, z500 t850 u500 2t
  write_state_grib2(s, path, {});
  std::map<std::string, std::size_t> per_param;
  const auto count = for_each_message(path, [&](const Message& m, std::size_t i) {
    // Messages in State order: member, time, variable.
    const long member = long(i / 12), time = long(i / 4 % 3), var = long(i % 4);
    INFO("message " << i + 1);
    CHECK(m.get("edition") == 2);
    CHECK(m.get("productDefinitionTemplateNumber") == 1);
    CHECK(m.get("perturbationNumber") == member);
    CHECK(m.get("number") == member);
    CHECK(m.get("numberOfForecastsInEnsemble") == 3);
    CHECK(m.get("typeOfEnsembleForecast") == (member == 0 ? 0 : 3));
    CHECK(m.str("typeOfProcessedData") == (member == 0 ? "cf" : "pf"));
    CHECK(m.get("dataDate") == 20240115);
    CHECK(m.get("dataTime") == 600);
    CHECK(m.get("step") == 6 * time);
    CHECK(m.str("stepUnits") == "h");
    CHECK(m.get("validityTime") == (6 + 6 * time) * 100);
    CHECK(m.str("gridType") == "regular_ll");
    CHECK(m.get("bitsPerValue") == 16);
    const long param[] = {129, 130, 131, 167};
    CHECK(m.get("paramId") == param[var]);
    if (var < 3) {
      CHECK(m.str("typeOfLevel") == "isobaricInhPa");
      CHECK(m.get("level") == (var == 1 ? 850 : 500));
    } else {
      CHECK(m.str("typeOfLevel") == "heightAboveGround");
      CHECK(m.get("level") == 2);
    }
    // NaN points: t850 of member 0 at the first time (5), 2t of member 1 at the last.
    const bool missing = (member == 0 && time == 0 && var == 1) || (member == 1 && time == 2 && var == 3);
    CHECK(m.get("bitmapPresent") == (missing ? 1 : 0));
    if (member == 0 && time == 0 && var == 1) CHECK(m.get("numberOfMissing") == 5);
    ++per_param[m.str("shortName")];
  });
  CHECK(count == 3 * 3 * 4);
  CHECK(per_param == std::map<std::string, std::size_t>{{"2t", 9}, {"t", 9}, {"u", 9}, {"z", 9}});
  std::filesystem::remove_all(dir);
}

TEST_CASE("GRIB2: deterministic output, forced ensembles and single-level parameters", "[export][grib]") {
  const auto dir = gale::test::scratch_dir("export-grib-det");
  const auto path = (dir / "det.grib2").string();
  const State s = make_state(latlon_grid(10), 1, {"2t", "10u", "100v", "msl", "orography", "tcc"}, 2);
  write_state_grib2(s, path, {});
  std::map<std::string, std::string> levels;
  for_each_message(path, [&](const Message& m, std::size_t) {
    CHECK(m.get("productDefinitionTemplateNumber") == 0);
    CHECK(m.str("typeOfProcessedData") == "fc");
    levels[m.str("shortName")] = m.str("typeOfLevel") + " " + std::to_string(m.get("level"));
    if (m.str("shortName") == "orog") CHECK(m.get("paramId") == 228002);
  });
  CHECK(levels == std::map<std::string, std::string>{{"2t", "heightAboveGround 2"},
                                                     {"10u", "heightAboveGround 10"},
                                                     {"100v", "heightAboveGround 100"},
                                                     {"msl", "meanSea 0"},
                                                     {"orog", "surface 0"},
                                                     {"tcc", "entireAtmosphere 0"}});
  const State back = read_back(path, s);
  require_same(s, back, [&](std::size_t v, std::size_t m, std::size_t t) {
    return packing_tolerance(s, m, t, v, 16);
  }, false);

  GribWriteOptions forced;
  forced.force_ensemble = true;
  write_state_grib2(s, path, forced);
  for_each_message(path, [&](const Message& m, std::size_t) {
    CHECK(m.get("productDefinitionTemplateNumber") == 1);
    CHECK(m.get("numberOfForecastsInEnsemble") == 1);
    CHECK(m.get("perturbationNumber") == 0);
  });
  CHECK(run("grib_ls '" + path + "'") == 0);

  GribWriteOptions off;
  off.ensemble = false;
  const State ens = make_state(latlon_grid(10), 2, {"2t"}, 1);
  REQUIRE_THROWS_AS(write_state_grib2(ens, path, off), ConfigError);
  REQUIRE_THROWS_WITH(write_state_grib2(ens, path, off), Catch::Contains("2 members") && Catch::Contains(path));
  std::filesystem::remove_all(dir);
}

TEST_CASE("GRIB2: errors name the path and leave no partial file", "[export][grib]") {
  const auto dir = gale::test::scratch_dir("export-grib-err");
  const State s = make_state(latlon_grid(10), 2, {"z500", "2t"}, 2);

  SECTION("a directory that does not exist") {
    const auto path = (dir / "no-such-dir" / "out.grib2").string();
    REQUIRE_THROWS_AS(write_state_grib2(s, path, {}), InputError);
    REQUIRE_THROWS_WITH(write_state_grib2(s, path, {}),
                        Catch::StartsWith(path) && Catch::Contains("no-such-dir does not exist"));
    CHECK_FALSE(std::filesystem::exists(dir / "no-such-dir"));
  }
  SECTION("reduced Gaussian grids and meshes are unsupported") {
    const auto path = (dir / "out.grib2").string();
    const State reduced = make_state(Grid::reduced_gaussian({45, -45}, {4, 8}), 1, {"2t"}, 1);
    REQUIRE_THROWS_AS(write_state_grib2(reduced, path, {}), UnsupportedError);
    REQUIRE_THROWS_WITH(write_state_grib2(reduced, path, {}),
                        Catch::StartsWith(path) && Catch::Contains("reduced_gg"));
    const State mesh = make_state(Grid::points(GridKind::mesh, {10, 20}, {30, 40}), 1, {"2t"}, 1);
    REQUIRE_THROWS_AS(write_state_grib2(mesh, path, {}), UnsupportedError);
    REQUIRE_THROWS_WITH(write_state_grib2(mesh, path, {}), Catch::Contains("mesh"));
    CHECK(files_in(dir).empty());
  }
  SECTION("accumulations and model levels are unsupported; the old product survives") {
    const auto path = (dir / "out.grib2").string();
    write_state_grib2(s, path, {});
    const auto first = sha256_file(path);
    const State tp = make_state(latlon_grid(10), 1, {"2t", "tp"}, 1);
    REQUIRE_THROWS_AS(write_state_grib2(tp, path, {}), UnsupportedError);
    REQUIRE_THROWS_WITH(write_state_grib2(tp, path, {}),
                        Catch::StartsWith(path) && Catch::Contains("'tp'") && Catch::Contains("8/11"));
    const State ml = make_state(latlon_grid(10), 1, {"t_ml137"}, 1);
    REQUIRE_THROWS_AS(write_state_grib2(ml, path, {}), UnsupportedError);
    CHECK(sha256_file(path) == first);
    CHECK(files_in(dir).size() == 2);
  }
  SECTION("invalid options") {
    const auto path = (dir / "out.grib2").string();
    GribWriteOptions bad;
    bad.bits_per_value = 0;
    REQUIRE_THROWS_AS(write_state_grib2(s, path, bad), ConfigError);
    REQUIRE_THROWS_WITH(write_state_grib2(s, path, bad), Catch::Contains("bits_per_value 0"));
    CHECK(files_in(dir).empty());
  }
  std::filesystem::remove_all(dir);
}
