#include <catch2/catch.hpp>

#include <cmath>

#include "core/errors.hpp"
#include "core/lexicon.hpp"
#include "core/state.hpp"

using namespace gale;

namespace {
std::shared_ptr<const Grid> small_grid() {
  return Grid::regular(GridKind::regular_ll, {60, 0, -60}, {0, 90, 180, 270});
}
State small_state() {
  const auto t0 = parse_iso8601("2020-01-01T00");
  return State(2, {t0, t0 + std::chrono::hours(6)},
               {parse_variable_key("z500"), parse_variable_key("2t")}, small_grid(), t0);
}
}  // namespace

TEST_CASE("State layout is [member, time, variable, point], missing is NaN") {
  State s = small_state();
  CHECK(s.members() == 2);
  CHECK(s.times() == 2);
  CHECK(s.variable_count() == 2);
  CHECK(s.points() == 12);
  CHECK(std::isnan(s.data()(1, 1, 1, 11)));
  CHECK(s.missing_mask()(0, 0, 0, 0));
  s.field(1, 0, 1)[3] = 280.0f;
  CHECK(s.data()(1, 0, 1, 3) == 280.0f);
  CHECK_FALSE(s.missing_mask()(1, 0, 1, 3));
  CHECK(s.index_of("2t") == 1);
  REQUIRE_THROWS_WITH(s.index_of("msl"), "variable 'msl' is not in the state (it holds: z500, 2t)");
  REQUIRE_NOTHROW(s.check());
}

TEST_CASE("State::check names the inconsistency") {
  const auto t0 = parse_iso8601("2020-01-01T00");
  auto z = parse_variable_key("z500");
  State dup(1, {t0}, {z, z}, small_grid(), t0);
  REQUIRE_THROWS_WITH(dup.check(), Catch::Contains("'z500' appears twice"));
  State backwards(1, {t0, t0 - std::chrono::hours(6)}, {z}, small_grid(), t0);
  REQUIRE_THROWS_WITH(backwards.check(), Catch::Contains("not ascending"));
  z.units = "gpm";
  State units(1, {t0}, {z}, small_grid(), t0);
  REQUIRE_THROWS_WITH(units.check(), Catch::Contains("units 'gpm'"));
}

TEST_CASE("State::expect is the handshake components use") {
  const State s = small_state();
  REQUIRE_NOTHROW(s.expect("stepper", {"z500", "2t"}, s.grid().get(), 2));
  REQUIRE_THROWS_WITH(s.expect("stepper", {"t850"}),
                      "stepper: needs variable 't850' but the state holds: z500, 2t");
  REQUIRE_THROWS_WITH(s.expect("stepper", {}, nullptr, 3),
                      "stepper: needs at least 3 time(s) but the state has 2");
  const auto other = Grid::regular(GridKind::regular_ll, {45, -45}, {0, 180});
  REQUIRE_THROWS_AS(s.expect("stepper", {}, other.get()), DataError);
}

TEST_CASE("Grid fingerprints identify equal grids") {
  const auto a = small_grid(), b = small_grid();
  CHECK(a->same_as(*b));
  CHECK(a->fingerprint().size() == 64);
  CHECK(a->global_in_longitude());
  const auto regional = Grid::regular(GridKind::regular_ll, {1, 0}, {0, 1, 359});
  CHECK_FALSE(regional->same_as(*a));
  CHECK_FALSE(regional->global_in_longitude());
  REQUIRE_THROWS_AS(Grid::regular(GridKind::regular_ll, {0, 1}, {0}), InternalError);
  const auto reduced = Grid::reduced_gaussian({45, -45}, {4, 8});
  CHECK(reduced->size() == 12);
  CHECK(reduced->lon()[4 + 1] == 45.0);
  CHECK(reduced->row_offsets() == std::vector<std::size_t>{0, 4, 12});
}
