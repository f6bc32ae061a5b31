#include <catch2/catch.hpp>

#include "core/errors.hpp"
#include "core/time.hpp"

using namespace gale;

TEST_CASE("ISO 8601 round trip and accepted spellings") {
  const auto t = parse_iso8601("2017-01-02T12:00:00Z");
  CHECK(iso8601(t) == "2017-01-02T12:00:00Z");
  CHECK(parse_iso8601("2017-01-02 12") == t);
  CHECK(parse_iso8601("2017-01-02T12:00") == t);
  CHECK(parse_iso8601("2017-01-02") + std::chrono::hours(12) == t);
  CHECK(parse_iso8601("1900-01-01 00:00:00.0") == std::chrono::sys_days{std::chrono::year{1900} / 1 / 1});
}

TEST_CASE("bad dates are user errors naming the field") {
  REQUIRE_THROWS_WITH(parse_iso8601("2017-02-30", "times.start"), Catch::Contains("times.start") && Catch::Contains("not a valid date"));
  REQUIRE_THROWS_AS(parse_iso8601("yesterday"), UserError);
  REQUIRE_THROWS_WITH(parse_iso8601("2017-01-01T00:00:00Zjunk"), Catch::Contains("trailing"));
}

TEST_CASE("GRIB date and time integers") {
  CHECK(iso8601(from_yyyymmdd_hhmm(20190301, 1800)) == "2019-03-01T18:00:00Z");
  REQUIRE_THROWS_AS(from_yyyymmdd_hhmm(20191341, 0), UserError);
}
