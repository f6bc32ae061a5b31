#include <catch2/catch.hpp>

#include "core/errors.hpp"
#include "core/lexicon.hpp"

using namespace gale;

TEST_CASE("ERA5 names resolve from GRIB paramId, shortName and NetCDF names") {
  const auto& lex = Lexicon::instance();
  for (const char* name : {"z", "t", "u", "v", "q", "r", "w", "2t", "10u", "10v", "100u", "100v",
                           "msl", "sp", "tp", "ssrd", "tcc", "lsm", "orography"})
    CHECK(lex.find(name) != nullptr);
  CHECK(lex.from_grib(129, "z", "isobaricInhPa")->name == "z");
  CHECK(lex.from_grib(156, "gh", "isobaricInhPa")->name == "z");
  CHECK(lex.from_grib(129, "z", "surface")->name == "orography");
  CHECK(lex.from_grib(167, "2t", "surface")->name == "2t");
  CHECK(lex.from_grib(228246, "100u", "heightAboveGround")->name == "100u");
  CHECK(lex.from_grib(999999, "nonsense", "surface") == nullptr);
  CHECK(lex.from_netcdf("t2m", "air_temperature")->name == "2t");
  CHECK(lex.from_netcdf("geopotential", "")->name == "z");
  CHECK(lex.from_netcdf("unknown_name", "geopotential")->name == "z");
  // air_temperature alone is ambiguous (t or 2t): not guessed.
  CHECK(lex.from_netcdf("unknown_name", "air_temperature") == nullptr);
}

TEST_CASE("unit conversions into canonical units") {
  const auto& lex = Lexicon::instance();
  auto convert = [&](const char* name, const char* units, double v) {
    const auto c = lex.conversion(lex.at(name), units, "test");
    return v * c.scale + c.offset;
  };
  CHECK(convert("z", "m**2 s**-2", 5e4) == 5e4);
  CHECK(convert("z", "gpm", 5500) == Approx(5500 * 9.80665).epsilon(1e-12));
  CHECK(convert("t", "degC", -10) == Approx(263.15).epsilon(1e-12));
  CHECK(convert("msl", "hPa", 1013.25) == Approx(101325).epsilon(1e-12));
  CHECK(convert("tp", "mm", 12) == Approx(0.012).epsilon(1e-12));
  CHECK(convert("tcc", "%", 50) == Approx(0.5).epsilon(1e-12));
  CHECK(convert("lsm", "(0 - 1)", 1) == 1);
  CHECK(convert("orography", "m**2 s**-2", 9806.65) == Approx(1000).epsilon(1e-12));
  REQUIRE_THROWS_WITH(lex.conversion(lex.at("t"), "furlongs", "file.nc: t"),
                      Catch::Contains("file.nc: t") && Catch::Contains("furlongs") &&
                          Catch::Contains("'K'"));
  REQUIRE_THROWS_AS(lex.conversion(lex.at("t"), "furlongs", "x"), DataError);
}

TEST_CASE("physical ranges are level specific for geopotential") {
  const auto& lex = Lexicon::instance();
  const auto z500 = lex.valid_range({"z", LevelKind::isobaric, 500, "m2 s-2"});
  CHECK(z500.first == 4.5e4);
  CHECK(z500.second == 6.2e4);
  CHECK(lex.valid_range({"t", LevelKind::isobaric, 850, "K"}) == std::make_pair(150.0, 350.0));
  CHECK(lex.valid_range({"msl", LevelKind::surface, 0, "Pa"}) == std::make_pair(8.5e4, 1.1e5));
}

TEST_CASE("variable keys parse and print") {
  const auto z = parse_variable_key("z500");
  CHECK(z.name == "z");
  CHECK(z.level_kind == LevelKind::isobaric);
  CHECK(z.level == 500);
  CHECK(z.key() == "z500");
  CHECK(parse_variable_key("100u").name == "100u");
  CHECK(parse_variable_key("100u").level_kind == LevelKind::surface);
  CHECK(parse_variable_key("2t").key() == "2t");
  CHECK(parse_variable_key("t_ml137").level == 137);
  REQUIRE_THROWS_WITH(parse_variable_key("z"), Catch::Contains("needs a level"));
  REQUIRE_THROWS_WITH(parse_variable_key("zz500"), Catch::Contains("unknown variable"));
}
