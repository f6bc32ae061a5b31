// Energy formulas against hand-computed values (shared/CONVENTIONS.md, "Energy products").
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/errors.hpp"
#include "products/energy.hpp"

using namespace gale;
using Catch::Matchers::Contains;

namespace {
constexpr double kTol = 1e-12;
TimePoint at(int day, int hour) {  // 2019-03-<day> <hour>:00 UTC
  return TimePoint(std::chrono::seconds(1551398400LL + (day - 1) * 86400LL + hour * 3600LL));
}
}  // namespace

TEST_CASE("parametric power curve: zero below cut-in, cubic to rated, one to cut-out") {
  PowerCurve c{"test", 3, 12, 25, {}};
  REQUIRE_NOTHROW(c.validate());
  CHECK(c.capacity_factor(0) == 0);
  CHECK(c.capacity_factor(2.999) == 0);
  CHECK(c.capacity_factor(3) == 0);  // (27 - 27) / (1728 - 27)
  CHECK(std::abs(c.capacity_factor(7.5) - (421.875 - 27) / (1728.0 - 27)) < kTol);
  CHECK(std::abs(c.capacity_factor(10) - (1000.0 - 27) / 1701.0) < kTol);
  CHECK(c.capacity_factor(12) == 1);
  CHECK(c.capacity_factor(24.99) == 1);
  CHECK(c.capacity_factor(25) == 0);  // at cut-out the turbine is stopped
  CHECK(c.capacity_factor(40) == 0);
  CHECK(std::isnan(c.capacity_factor(NAN)));
}

TEST_CASE("tabulated power curve interpolates linearly between its points") {
  PowerCurve c{"table", 3, 12, 25, {{3, 0}, {5, 0.1}, {10, 0.8}, {12, 1.0}}};
  REQUIRE_NOTHROW(c.validate());
  CHECK(c.capacity_factor(2) == 0);
  CHECK(std::abs(c.capacity_factor(4) - 0.05) < kTol);
  CHECK(std::abs(c.capacity_factor(5) - 0.1) < kTol);
  CHECK(std::abs(c.capacity_factor(7.5) - 0.45) < kTol);
  CHECK(std::abs(c.capacity_factor(11) - 0.9) < kTol);
  CHECK(c.capacity_factor(20) == 1);  // last value held to cut-out
  CHECK(c.capacity_factor(25) == 0);

  const float speeds[] = {4, 7.5f, 30, NAN};
  const auto cf = wind_capacity_factor(c, speeds, 4);
  CHECK(cf[0] == Approx(0.05).epsilon(1e-6));
  CHECK(cf[1] == Approx(0.45).epsilon(1e-6));
  CHECK(cf[2] == 0);
  CHECK(std::isnan(cf[3]));
}

TEST_CASE("power curve validation names the curve and the field") {
  CHECK_THROWS_WITH((PowerCurve{"bad", 12, 12, 25, {}}.validate("turbine")),
                    Contains("turbine 'bad'") && Contains("cut_in 12 m/s must be below rated 12 m/s"));
  CHECK_THROWS_AS((PowerCurve{"bad", 3, 26, 25, {}}.validate()), ConfigError);
  CHECK_THROWS_WITH((PowerCurve{"bad", 3, 12, 25, {{3, 0}, {3, 0.5}}}.validate()),
                    Contains("table point 2") && Contains("not above"));
  CHECK_THROWS_WITH((PowerCurve{"bad", 3, 12, 25, {{3, 0}, {5, 1.5}}}.validate()), Contains("outside 0..1"));
}

TEST_CASE("IEC class presets") {
  const auto one = iec_power_curve("iec-I"), two = iec_power_curve("II"), three = iec_power_curve("Iec-iii");
  CHECK((one.cut_in == 3.5 && one.rated == 13 && one.cut_out == 25));
  CHECK((two.cut_in == 3 && two.rated == 12 && two.cut_out == 25));
  CHECK((three.cut_in == 3 && three.rated == 10.5 && three.cut_out == 22));
  for (const auto& name : iec_power_curve_names()) CHECK_NOTHROW(iec_power_curve(name).validate());
  // Class III reaches rated earliest: at 10.5 m/s it is at 1, class I still climbing.
  CHECK(three.capacity_factor(10.5) == 1);
  CHECK(std::abs(one.capacity_factor(10.5) - (10.5 * 10.5 * 10.5 - 42.875) / (2197 - 42.875)) < kTol);
  CHECK_THROWS_WITH(iec_power_curve("IV"), Contains("unknown power curve 'IV'") && Contains("iec-III"));
}

TEST_CASE("power law and log law") {
  CHECK(std::abs(power_law_wind(5, 10, 100) - 5 * std::pow(10.0, 1.0 / 7)) < kTol);
  CHECK(std::abs(power_law_wind(8, 100, 150, 0.2) - 8 * std::pow(1.5, 0.2)) < kTol);
  CHECK(std::abs(log_law_wind(5, 10, 100, 0.03) - 5 * std::log(100 / 0.03) / std::log(10 / 0.03)) < kTol);
  CHECK(std::abs(log_law_wind(5, 10, 10, 0.1) - 5) < kTol);
  CHECK(std::abs(shear_exponent(5, 10, 5 * std::pow(10.0, 0.25), 100) - 0.25) < kTol);
}

TEST_CASE("hub-height wind from 10 m and 100 m levels") {
  const float u10[] = {5, 6, 0.5f, NAN};
  const float u100[] = {7, 5, 3, 7};
  const std::vector<WindLevel> levels{{10, u10}, {100, u100}};

  // A hub at a level takes that level unchanged, whatever the method.
  for (auto method : {HubHeightMethod::power_law, HubHeightMethod::log_law, HubHeightMethod::fitted_power_law}) {
    HubHeightOptions o;
    o.method = method;
    const auto w = hub_height_wind(levels, 3, 100, o);
    CHECK(w[0] == 7);
    CHECK(w[1] == 5);
  }

  SECTION("fitted: alpha through the two levels, clamped, fixed where calm") {
    const auto w = hub_height_wind(levels, 4, 150);
    const double alpha = std::log(7.0 / 5.0) / std::log(10.0);
    CHECK(w[0] == Approx(7 * std::pow(1.5, alpha)).epsilon(1e-6));
    CHECK(w[1] == Approx(5.0).epsilon(1e-6));  // negative shear clamped to alpha_min = 0
    CHECK(w[2] == Approx(3 * std::pow(1.5, 1.0 / 7)).epsilon(1e-6));  // 0.5 m/s at 10 m: fixed alpha
    CHECK(std::isnan(w[3]));
  }
  SECTION("power law from the nearest level (100 m for a 60 m hub: ln distance)") {
    HubHeightOptions o;
    o.method = HubHeightMethod::power_law;
    const auto w = hub_height_wind(levels, 3, 60, o);
    CHECK(w[0] == Approx(7 * std::pow(0.6, 1.0 / 7)).epsilon(1e-6));
  }
  SECTION("log law from one level") {
    HubHeightOptions o;
    o.method = HubHeightMethod::log_law;
    o.roughness = 0.1;
    const auto w = hub_height_wind({{10, u10}}, 1, 80, o);
    CHECK(w[0] == Approx(5 * std::log(800.0) / std::log(100.0)).epsilon(1e-6));
  }
  SECTION("errors") {
    CHECK_THROWS_AS(hub_height_wind({}, 1, 80), ConfigError);
    CHECK_THROWS_WITH(hub_height_wind({{10, u10}, {10, u100}}, 1, 80), Contains("10 m given twice"));
    CHECK_THROWS_WITH(hub_height_wind(levels, 1, -5), Contains("hub height"));
    HubHeightOptions o;
    o.method = HubHeightMethod::log_law;
    o.roughness = 90;
    CHECK_THROWS_WITH(hub_height_wind(levels, 1, 80, o), Contains("roughness length 90 m"));
  }
}

TEST_CASE("solar PV capacity factor (Bett and Thornton 2016)") {
  CHECK(std::abs(solar_capacity_factor(298.15, 1000) - 0.9) < kTol);
  CHECK(std::abs(solar_capacity_factor(308.15, 500) - 0.9 * (1 - 0.0042) * 0.5) < kTol);
  CHECK(std::abs(solar_capacity_factor(273.15, 800) - 0.9 * (1 + 0.00042 * 25) * 0.8) < kTol);
  CHECK(solar_capacity_factor(290, -3) == 0);
  CHECK(solar_capacity_factor(250, 1300) == 1);  // clipped
  CHECK(std::isnan(solar_capacity_factor(NAN, 500)));

  CHECK(std::abs(mean_irradiance(200.0 * 3600, 3600) - 200) < kTol);
  CHECK(mean_irradiance(-10, 3600) == 0);
  CHECK_THROWS_AS(mean_irradiance(1, 0), DataError);

  // Running accumulations from a 00 UTC start: 0 -> 6 h -> 12 h.
  const float a6[] = {float(100.0 * 21600)}, a12[] = {float(500.0 * 21600)};
  const auto g = irradiance_from_accumulations({a6, a12}, {at(1, 6), at(1, 12)}, 1, at(1, 0));
  CHECK(g[0][0] == Approx(100).epsilon(1e-6));
  CHECK(g[1][0] == Approx(400).epsilon(1e-6));
}

TEST_CASE("degree days of one day") {
  const auto dd = degree_days(288.15, 278.15);  // mean 10 C
  CHECK(std::abs(dd.hdd - 8) < kTol);
  CHECK(dd.cdd == 0);
  const auto hot = degree_days(303.15, 293.15, 291.15);  // mean 25 C
  CHECK(hot.hdd == 0);
  CHECK(std::abs(hot.cdd - 7) < kTol);
}

TEST_CASE("daily degree days from an hourly series, incomplete days flagged") {
  // Two points; 1 March complete (00..23), 2 March only 00..11 (incomplete).
  std::vector<std::vector<float>> values;
  std::vector<TimePoint> times;
  for (int h = 0; h < 36; ++h) {
    const int day = 1 + h / 24, hour = h % 24;
    times.push_back(at(day, hour));
    // Point 0: 0 C at midnight rising 1 K per hour to 23 C; point 1: constant 25 C.
    values.push_back({float(273.15 + hour), float(298.15)});
  }
  std::vector<const float*> fields;
  for (const auto& v : values) fields.push_back(v.data());
  const auto d = daily_degree_days(fields, times, 2);
  REQUIRE(d.days.size() == 2);
  CHECK(d.days[0] == at(1, 0));
  CHECK(d.complete == std::vector<bool>{true, false});
  CHECK(d.samples == std::vector<std::size_t>{24, 12});
  // Point 0: Tmean = (23 + 0) / 2 = 11.5 C -> HDD 6.5; point 1: 25 C -> CDD 7.
  CHECK(d.hdd[0][0] == Approx(6.5).margin(1e-5));
  CHECK(d.cdd[0][0] == 0);
  CHECK(d.hdd[0][1] == 0);
  CHECK(d.cdd[0][1] == Approx(7).margin(1e-5));
  CHECK(std::isnan(d.hdd[1][0]));
  CHECK(std::isnan(d.cdd[1][1]));

  SECTION("base temperature configurable") {
    DegreeDayOptions o;
    o.base_celsius = 15.5;
    const auto e = daily_degree_days(fields, times, 2, o);
    CHECK(e.hdd[0][0] == Approx(4.0).margin(1e-5));
    CHECK(e.cdd[0][1] == Approx(9.5).margin(1e-5));
  }
}

TEST_CASE("daily degree days from a 6-hourly series with a gap") {
  // 1 March 00/06/12/18 complete; 2 March misses 12 UTC; NaN at one point on 1 March.
  const std::vector<TimePoint> times{at(1, 0), at(1, 6), at(1, 12), at(1, 18), at(2, 0), at(2, 6), at(2, 18)};
  const std::vector<std::vector<float>> v{{280, 280}, {282, 282}, {290, NAN}, {286, 286},
                                          {280, 280}, {281, 281}, {283, 283}};
  std::vector<const float*> fields;
  for (const auto& x : v) fields.push_back(x.data());
  const auto d = daily_degree_days(fields, times, 2);
  REQUIRE(d.days.size() == 2);
  CHECK(d.complete == std::vector<bool>{true, false});
  CHECK(d.hdd[0][0] == Approx(291.15 - 285).margin(1e-5));
  CHECK(std::isnan(d.hdd[0][1]));
  CHECK(std::isnan(d.hdd[1][0]));

  const std::vector<TimePoint> odd{at(1, 0), at(1, 5)};  // 5 h does not divide a day
  CHECK_THROWS_WITH(daily_degree_days({fields[0], fields[1]}, odd, 2), Contains("does not divide a day"));
  const std::vector<TimePoint> backwards{at(1, 6), at(1, 0)};
  CHECK_THROWS_AS(daily_degree_days({fields[0], fields[1]}, backwards, 2), DataError);
}

TEST_CASE("capacity-weighted regional mean, box crossing 0 E") {
  // Points at 355, 359, 1, 5 E (and one at -1 E written as such), all at 52 N.
  const std::vector<double> lat{52, 52, 52, 52, 52, 60};
  const std::vector<double> lon{355, 359, 1, 5, -1, 0};
  const float cf[] = {0.9f, 0.2f, 0.4f, 0.7f, 0.5f, 0.1f};
  const float capacity[] = {10, 1, 3, 10, 2, 100};
  // West -2 (= 358) to east 3: 359, 1 and -1 E at 50..55 N.
  const SupplyRegion r{"channel", 50, 55, -2, 3};
  const auto m = regional_mean(lat, lon, cf, capacity, r);
  CHECK(m.points == 3);
  CHECK(m.capacity == 6);
  CHECK(std::abs(m.value - (1 * 0.2 + 3 * 0.4 + 2 * 0.5) / 6.0) < 1e-7);
  // The same box written 358..3 and uniform weights.
  const SupplyRegion same{"channel", 50, 55, 358, 3};
  const auto u = regional_mean(lat, lon, cf, nullptr, same);
  CHECK(u.points == 3);
  CHECK(std::abs(u.value - (0.2 + 0.4 + 0.5) / 3.0) < 1e-7);
  // A box across 180 and the whole circle.
  CHECK(SupplyRegion{"pacific", -10, 10, 170, -170}.contains(0, 185));
  CHECK(!SupplyRegion{"pacific", -10, 10, 170, -170}.contains(0, 160));
  CHECK(SupplyRegion{"all", -90, 90, -180, 180}.contains(0, 300));
  CHECK(!SupplyRegion{"west", 50, 55, 0, 3}.contains(52, 359));
  // Zero capacity does not count, even with a NaN value there.
  const float cf_nan[] = {NAN, 0.2f, 0.4f, 0.7f, 0.5f, 0.1f};
  const float cap0[] = {0, 1, 1, 0, 0, 0};
  CHECK(std::abs(regional_mean(lat, lon, cf_nan, cap0, SupplyRegion{"w", 50, 55, 350, 10}).value - 0.3) < 1e-7);
  CHECK_THROWS_WITH(regional_mean(lat, lon, cf, capacity, SupplyRegion{"empty", -10, 10, 0, 10}),
                    Contains("region 'empty'") && Contains("no installed capacity"));
  CHECK_THROWS_WITH(regional_mean(lat, lon, cf, capacity, SupplyRegion{"upside", 55, 50, 0, 10}),
                    Contains("region 'upside'") && Contains("lat_south 55"));
}
