// Disaster products: the Extreme Forecast Index against closed forms and brute-force
// quadrature, the model climate against brute-force sorting and through its NetCDF file
// (xarray, ncdump), vortex tracking of synthetic moving lows, strike probability by hand.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>

#include <unistd.h>

#include "../data.hpp"
#include "../run_command.hpp"
#include "../scratch_dir.hpp"
#include "core/errors.hpp"
#include "core/lexicon.hpp"
#include "core/state.hpp"
#include "ingest/selection.hpp"
#include "products/hazards.hpp"
#include "products/model_climate.hpp"
#include "products/vortex_tracker.hpp"

using namespace gale;
namespace fs = std::filesystem;

namespace {

std::vector<double> percent_knots() {
  std::vector<double> p(101);
  for (std::size_t k = 0; k < p.size(); ++k) p[k] = double(k);
  return p;
}

std::vector<double> probabilities(const std::vector<double>& percentiles) {
  std::vector<double> p;
  for (double q : percentiles) p.push_back(q / 100);
  return p;
}

// The EFI integral by brute force: midpoint rule in theta with p = (1 - cos theta) / 2, which
// turns dp / sqrt(p(1-p)) into d theta and leaves a bounded integrand. F_f is counted directly.
double efi_quadrature(const std::vector<double>& prob, const std::vector<double>& q, std::vector<double> x,
                      std::size_t steps) {
  std::sort(x.begin(), x.end());
  double sum = 0;
  const double h = std::numbers::pi / double(steps);
  for (std::size_t s = 0; s < steps; ++s) {
    const double theta = (double(s) + 0.5) * h;
    const double p = (1 - std::cos(theta)) / 2;
    double qc;
    if (p <= prob.front()) {
      qc = q.front();
    } else if (p >= prob.back()) {
      qc = q.back();
    } else {
      const auto k = std::size_t(std::upper_bound(prob.begin(), prob.end(), p) - prob.begin()) - 1;
      qc = q[k] + (p - prob[k]) / (prob[k + 1] - prob[k]) * (q[k + 1] - q[k]);
    }
    const double f = double(std::lower_bound(x.begin(), x.end(), qc) - x.begin()) / double(x.size());
    sum += (p - f) * h;
  }
  return 2 / std::numbers::pi * sum;
}

std::shared_ptr<const Grid> regular_grid(double lat_north, double lat_south, double lon_west, double lon_east,
                                         double step) {
  std::vector<double> lats, lons;
  for (double la = lat_north; la >= lat_south - 1e-9; la -= step) lats.push_back(la);
  for (double lo = lon_west; lo <= lon_east + 1e-9; lo += step) lons.push_back(lo);
  return Grid::regular(GridKind::regular_ll, lats, lons);
}

std::vector<TimePoint> six_hourly(std::size_t n, TimePoint start = parse_iso8601("2024-09-01T00")) {
  std::vector<TimePoint> t;
  for (std::size_t i = 0; i < n; ++i) t.push_back(start + std::chrono::hours(6 * i));
  return t;
}

// numpy.percentile(x, q) (linear) of the finite values, by sorting.
double numpy_percentile(std::vector<double> x, double q) {
  x.erase(std::remove_if(x.begin(), x.end(), [](double v) { return !std::isfinite(v); }), x.end());
  std::sort(x.begin(), x.end());
  const double rank = q / 100 * double(x.size() - 1);
  const auto lo = std::size_t(rank);
  const auto hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (rank - double(lo)) * (x[hi] - x[lo]);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

}  // namespace

// ---- Extreme Forecast Index ------------------------------------------------------------

TEST_CASE("EFI is +1 above the climate maximum, -1 below the minimum") {
  const auto prob = probabilities(percent_knots());
  std::vector<double> q(prob.size());
  for (std::size_t k = 0; k < q.size(); ++k) q[k] = 270 + 0.3 * double(k);  // 270 .. 300 K
  const std::vector<double> above{300.5, 301, 310, 305}, below{269.9, 260, 250};
  CHECK(extreme_forecast_index(prob, q.data(), above.data(), above.size()) == Approx(1).margin(1e-12));
  CHECK(extreme_forecast_index(prob, q.data(), below.data(), below.size()) == Approx(-1).margin(1e-12));
  // Half the members far above, half far below: the two halves cancel.
  const std::vector<double> split{200, 400};
  CHECK(extreme_forecast_index(prob, q.data(), split.data(), split.size()) == Approx(0).margin(1e-12));
  const std::vector<double> with_nan{280, NAN};
  CHECK(std::isnan(extreme_forecast_index(prob, q.data(), with_nan.data(), with_nan.size())));
}

TEST_CASE("EFI of an ensemble distributed like the climate is near 0") {
  const auto prob = probabilities(percent_knots());
  const std::vector<double> q = prob;  // U(0, 1) quantiles
  std::vector<double> members(1000);
  for (std::size_t i = 0; i < members.size(); ++i) members[i] = (double(i) + 0.5) / double(members.size());
  CHECK(std::abs(extreme_forecast_index(prob, q.data(), members.data(), members.size())) < 0.02);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (auto& m : members) m = u(rng);
  CHECK(std::abs(extreme_forecast_index(prob, q.data(), members.data(), members.size())) < 0.02);
}

TEST_CASE("the piecewise-exact EFI equals brute-force quadrature") {
  std::mt19937 rng(42);
  std::normal_distribution<double> normal(0, 1);
  for (int trial = 0; trial < 3; ++trial) {
    // A skewed climate with a flat stretch (like dry days in precipitation), on uneven knots.
    const std::vector<double> pct{0, 1, 2, 5, 10, 25, 50, 75, 90, 95, 98, 99, 100};
    const auto prob = probabilities(pct);
    std::vector<double> q;
    for (double p : prob) q.push_back(p < 0.25 ? 0.0 : std::pow(p - 0.25, 1.5) * 10);
    std::vector<double> members(51);
    for (auto& m : members) m = std::max(0.0, 2.0 + 1.5 * trial + 2 * normal(rng));
    const double exact = extreme_forecast_index(prob, q.data(), members.data(), members.size());
    const double brute = efi_quadrature(prob, q, members, 20'000'000);
    INFO("trial " << trial << ": exact " << exact << ", quadrature " << brute);
    CHECK(std::abs(exact - brute) < 1e-6);
    CHECK(exact > -1);
    CHECK(exact < 1);
  }
}

TEST_CASE("EFI over a field from a State and a model climate") {
  const auto grid = regular_grid(10, 0, 0, 10, 5);  // 3 x 3
  const auto var = parse_variable_key("2t");
  // Climate: 200 samples uniform on 270..290 K at every point.
  std::vector<State> inputs;
  State clim(1, six_hourly(200), {var}, grid, parse_iso8601("2024-09-01"));
  for (std::size_t t = 0; t < 200; ++t)
    std::fill_n(clim.field(0, t, 0), grid->size(), float(270 + 20 * (double(t) + 0.5) / 200));
  inputs.push_back(clim);
  const auto climate = build_model_climate(inputs, {"2t"}, percent_knots());

  State forecast(4, six_hourly(1), {var}, grid, parse_iso8601("2024-09-01"));
  for (std::size_t m = 0; m < 4; ++m) {
    float* f = forecast.field(m, 0, 0);
    for (std::size_t p = 0; p < grid->size(); ++p) f[p] = p == 0 ? 300.0f : p == 1 ? 260.0f : 280.0f;
  }
  const auto efi = extreme_forecast_index(forecast, 0, "2t", climate);
  REQUIRE(efi.size() == grid->size());
  CHECK(efi[0] == Approx(1).margin(1e-6));
  CHECK(efi[1] == Approx(-1).margin(1e-6));
  CHECK(std::abs(efi[4]) < 0.05);  // every member at the climate median

  // A forecast on another grid, or a variable the climate lacks: DataError naming both.
  State other(4, six_hourly(1), {var}, regular_grid(10, 0, 0, 10, 2.5), parse_iso8601("2024-09-01"));
  CHECK_THROWS_AS(extreme_forecast_index(other, 0, "2t", climate), DataError);
  State msl(4, six_hourly(1), {parse_variable_key("msl")}, grid, parse_iso8601("2024-09-01"));
  CHECK_THROWS_WITH(extreme_forecast_index(msl, 0, "msl", climate), Catch::Contains("'msl'"));
}

// ---- Model climate ---------------------------------------------------------------------

TEST_CASE("model climate quantiles equal brute-force sorting and round-trip through NetCDF exactly") {
  const auto grid = regular_grid(20, 0, 350, 359, 1.0);  // crosses nothing, 21 x 10
  const std::vector<Variable> vars{parse_variable_key("2t"), parse_variable_key("z500")};
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0, 1);
  std::vector<State> inputs;
  for (std::size_t i = 0; i < 3; ++i) {
    State s(2 + i, six_hourly(3, parse_iso8601("2024-01-01") + std::chrono::hours(24 * 7 * i)), vars, grid,
            parse_iso8601("2024-01-01") + std::chrono::hours(24 * 7 * i));
    for (auto& v : s.data()) v = normal(rng);
    for (std::size_t m = 0; m < s.members(); ++m)
      for (std::size_t t = 0; t < s.times(); ++t) {
        for (std::size_t p = 0; p < grid->size(); ++p) {
          s.field(m, t, 0)[p] = 280 + 5 * s.field(m, t, 0)[p];
          s.field(m, t, 1)[p] = 55000 + 800 * s.field(m, t, 1)[p];
        }
      }
    s.field(0, 0, 0)[5] = NAN;  // a missing sample is skipped, not propagated
    inputs.push_back(std::move(s));
  }
  const std::vector<double> pct{0, 1, 10, 25, 50, 75, 90, 99, 100};
  const auto climate = build_model_climate(inputs, {"2t", "z500"}, pct, {"a.grib", "b.grib", "c.grib"});
  CHECK(climate.sample_count == (2 + 3 + 4) * 3);
  CHECK(climate.sources == std::vector<std::string>{"a.grib", "b.grib", "c.grib"});

  for (std::size_t v = 0; v < 2; ++v)
    for (std::size_t p : {std::size_t(0), std::size_t(5), grid->size() - 1}) {
      std::vector<double> x;
      for (const auto& s : inputs)
        for (std::size_t m = 0; m < s.members(); ++m)
          for (std::size_t t = 0; t < s.times(); ++t) x.push_back(s.field(m, t, v)[p]);
      const float* q = climate.quantiles(vars[v].key());
      for (std::size_t k = 0; k < pct.size(); ++k) {
        const double expected = numpy_percentile(x, pct[k]);
        INFO(vars[v].key() << " point " << p << " p" << pct[k]);
        CHECK(std::abs(q[k * grid->size() + p] - expected) <= 1e-6 * std::abs(expected));
      }
    }

  const auto dir = gale::test::scratch_dir("hazards-climate");
  const std::string path = (dir / "climate.nc").string();
  write_model_climate(climate, path, {"2024-09-01T00:00:00Z gale climate (test)"});
  CHECK(fs::exists(path + ".sha256"));
  const auto back = read_model_climate(path);
  CHECK(back.path == path);
  CHECK(back.percentiles == climate.percentiles);
  CHECK(back.grid->same_as(*climate.grid));
  CHECK(back.sample_count == climate.sample_count);
  CHECK(back.sources == climate.sources);
  CHECK(back.first_valid_time == climate.first_valid_time);
  CHECK(back.last_valid_time == climate.last_valid_time);
  REQUIRE(back.variables.size() == 2);
  for (std::size_t v = 0; v < 2; ++v) {
    CHECK(back.variables[v].key() == climate.variables[v].key());
    CHECK(back.variables[v].units == climate.variables[v].units);
    CHECK(same_bits(back.values[v], climate.values[v]));
  }

  SECTION("xarray opens it without warnings, ncdump shows the CF attributes") {
    const auto py = gale::test::run_command("/usr/bin/python3 -W error -c 'import xarray; ds = xarray.open_dataset(\"" +
                                            path + "\"); print(ds[\"t2m\"].dims, float(ds[\"z500\"].max()))'");
    INFO(py.out);
    CHECK(py.code == 0);
    CHECK(py.out.find("('percentile', 'latitude', 'longitude')") != std::string::npos);
    const auto dump = gale::test::run_command("ncdump -h " + path);
    INFO(dump.out);
    REQUIRE(dump.code == 0);
    for (const char* s : {":Conventions = \"CF-1.10\"", "percentile:units = \"%\"", "t2m:standard_name = \"air_temperature\"",
                          "z500:standard_name = \"geopotential\"", "latitude:units = \"degrees_north\"",
                          ":gale_sample_count = 27", ":gale_sources = \"a.grib\\n", ":history = \"2024-09-01T00:00:00Z gale climate"})
      CHECK(dump.out.find(s) != std::string::npos);
  }

  SECTION("errors name the file, the variable and both grids") {
    CHECK_THROWS_WITH(back.quantiles("msl"), Catch::Contains(path) && Catch::Contains("'msl'") &&
                                                 Catch::Contains("2t, z500"));
    const auto other = regular_grid(20, 0, 350, 359, 0.5);
    CHECK_THROWS_WITH(back.expect_grid(*other, "forecast f.grib"),
                      Catch::Contains("forecast f.grib") && Catch::Contains(other->describe()) &&
                          Catch::Contains(grid->describe()) && Catch::Contains(path));
    CHECK_THROWS_AS(back.expect_grid(*other, "forecast"), DataError);
    CHECK_THROWS_AS(read_model_climate((dir / "absent.nc").string()), InputError);
    std::vector<State> bad{inputs[0]};
    CHECK_THROWS_WITH(build_model_climate(bad, {"msl"}, pct, {"a.grib"}),
                      Catch::Contains("a.grib") && Catch::Contains("'msl'"));
    CHECK_THROWS_AS(build_model_climate(bad, {"2t"}, {50, 10}), ConfigError);
  }
  fs::remove_all(dir);
}

TEST_CASE("model climate files on reduced Gaussian grids and meshes round-trip") {
  const auto dir = gale::test::scratch_dir("hazards-unstructured");
  for (const auto& grid : {Grid::reduced_gaussian({45, 15, -15, -45}, {4, 8, 8, 4}),
                           Grid::points(GridKind::mesh, {10, 20, -30, 5}, {0, 90, 180, 270})}) {
    State s(3, six_hourly(5), {parse_variable_key("msl")}, grid, parse_iso8601("2024-01-01"));
    float x = 0;
    for (auto& v : s.data()) v = 100000 + 37 * std::fmod(x++ * 7.3f, 11.0f);
    const auto climate = build_model_climate({s}, {"msl"}, {5, 50, 95});
    const std::string path = (dir / (to_string(grid->kind()) + ".nc")).string();
    write_model_climate(climate, path);
    const auto back = read_model_climate(path);
    INFO(grid->describe());
    CHECK(back.grid->same_as(*grid));
    CHECK(same_bits(back.values[0], climate.values[0]));
    const auto dump = gale::test::run_command("ncdump -h " + path);
    CHECK(dump.out.find("msl:coordinates = \"latitude longitude\"") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("model climate of the real ERA5 ensemble sample") {
  GALE_REQUIRE_DATA();
  std::vector<std::unique_ptr<Reader>> readers;
  readers.push_back(open_reader(gale::test::data_file("era5-levels-members.grib")));
  Request request;
  request.variables = {parse_variable_key("z500"), parse_variable_key("t850")};
  std::vector<State> inputs;
  inputs.push_back(Selection(std::move(readers), request).load());
  const State& era5 = inputs.front();
  REQUIRE(era5.members() == 10);
  REQUIRE(era5.times() == 4);
  const auto climate = build_model_climate(inputs, {"z500", "t850"}, percent_knots(), {"era5-levels-members.grib"});
  CHECK(climate.sample_count == 40);
  const std::size_t n = era5.points();
  for (std::size_t v = 0; v < 2; ++v)
    for (std::size_t p : {std::size_t(0), n / 3, n / 2, n - 1}) {
      std::vector<double> x;
      for (std::size_t m = 0; m < 10; ++m)
        for (std::size_t t = 0; t < 4; ++t) x.push_back(era5.field(m, t, v)[p]);
      const float* q = climate.quantiles(request.variables[v].key());
      for (double pc : {0.0, 10.0, 37.0, 50.0, 90.0, 100.0}) {
        const double expected = numpy_percentile(x, pc);
        CHECK(std::abs(q[std::size_t(pc) * n + p] - expected) <= 1e-6 * std::abs(expected));
      }
    }
  const auto dir = gale::test::scratch_dir("hazards-era5");
  const std::string path = (dir / "era5-climate.nc").string();
  write_model_climate(climate, path);
  const auto back = read_model_climate(path);
  CHECK(back.grid->same_as(*era5.grid()));
  CHECK(same_bits(back.values[0], climate.values[0]));
  CHECK(same_bits(back.values[1], climate.values[1]));
  // The analyses against their own climate: some extremes, bounded.
  const auto efi = extreme_forecast_index(era5, 3, "t850", back);
  CHECK(std::all_of(efi.begin(), efi.end(), [](float e) { return e >= -1 && e <= 1; }));
  const auto py = gale::test::run_command("/usr/bin/python3 -W error -c 'import xarray; xarray.open_dataset(\"" + path +
                                          "\")'");
  INFO(py.out);
  CHECK(py.code == 0);
  fs::remove_all(dir);
}

// ---- Vortex tracking -------------------------------------------------------------------

namespace {

struct Low {
  double lat0, lon0, dlon, dlat;  // start, and degrees per 6 h
  std::size_t fills_at;           // first step at which the low has (almost) gone
};

double true_lat(const Low& l, std::size_t t) { return l.lat0 + l.dlat * double(t); }
double true_lon(const Low& l, std::size_t t) { return l.lon0 + l.dlon * double(t); }

// msl = 101000 Pa minus a Gaussian low of 2500 Pa (radius 300 km), 50 Pa once filled.
State moving_lows(const std::vector<Low>& lows, std::size_t steps, const std::shared_ptr<const Grid>& grid) {
  State s(lows.size(), six_hourly(steps), {parse_variable_key("msl")}, grid, parse_iso8601("2024-09-01"));
  for (std::size_t m = 0; m < lows.size(); ++m)
    for (std::size_t t = 0; t < steps; ++t) {
      const double depth = t < lows[m].fills_at ? 2500 : 50;
      float* f = s.field(m, t, 0);
      for (std::size_t p = 0; p < grid->size(); ++p) {
        const double d = great_circle_km(grid->lat()[p], grid->lon()[p], true_lat(lows[m], t), true_lon(lows[m], t));
        f[p] = float(101000 - depth * std::exp(-0.5 * (d / 300) * (d / 300)));
      }
    }
  return s;
}

}  // namespace

TEST_CASE("moving Gaussian lows are tracked to within 0.3 degrees until they fill") {
  const auto grid = regular_grid(50, -5, 100, 200, 1.0);
  // Members move 2, 3 and 4 degrees east per 6 h, drift north at different rates, and fill
  // at different steps (the third never does within the forecast).
  const std::vector<Low> lows{{15.3, 130.4, 3, 0.5, 7}, {14.6, 129.8, 2, 1.0, 5}, {15.0, 130.0, 4, 0.7, 99}};
  const std::size_t steps = 9;
  const State state = moving_lows(lows, steps, grid);
  TrackerOptions options;
  options.start = std::pair{15.0, 130.0};
  const auto tracks = track_vortices(state, options);
  REQUIRE(tracks.size() == 3);
  for (std::size_t m = 0; m < 3; ++m) {
    const auto& tr = tracks[m];
    INFO("member " << m << ": " << tr.end_reason);
    CHECK(tr.member == int(m));
    CHECK(tr.points.size() == std::min(lows[m].fills_at, steps));
    for (std::size_t t = 0; t < tr.points.size(); ++t) {
      INFO("step " << t << ": tracked " << tr.points[t].lat << "N " << tr.points[t].lon << "E, true "
                   << true_lat(lows[m], t) << "N " << true_lon(lows[m], t) << "E");
      CHECK(tr.points[t].time == state.valid_times()[t]);
      CHECK(std::abs(tr.points[t].lat - true_lat(lows[m], t)) < 0.3);
      CHECK(std::abs(tr.points[t].lon - true_lon(lows[m], t)) < 0.3);
      CHECK(tr.points[t].value == Approx(101000 - 2500).margin(100));
    }
    if (lows[m].fills_at < steps)
      CHECK_THAT(tr.end_reason, Catch::StartsWith("filled"));
    else
      CHECK(tr.end_reason == "end of forecast");
  }

  SECTION("detection in a box, and leaving the domain") {
    TrackerOptions box;
    box.box_lat_min = 10, box.box_lat_max = 30;
    // A fast low heading for the eastern edge (200E) of the domain.
    const State fast = moving_lows({{20.2, 185.3, 4, 0, 99}}, 6, grid);
    box.box_lon_min = 180, box.box_lon_max = 190;
    const auto t = track_vortices(fast, box);
    INFO(t[0].end_reason);
    CHECK(t[0].points.size() >= 2);
    CHECK(t[0].points.size() < 6);
    CHECK_THAT(t[0].end_reason, Catch::StartsWith("left the domain"));
    CHECK(std::abs(t[0].points[0].lon - 185.3) < 0.3);
  }

  SECTION("the vorticity criterion") {
    // Geostrophic-like winds around the first member's low: cyclonic (anticlockwise in the
    // north) solid-body rotation inside 300 km of the true centre.
    State winds(1, six_hourly(3), {parse_variable_key("msl"), parse_variable_key("u850"), parse_variable_key("v850")},
                grid, parse_iso8601("2024-09-01"));
    const State one = moving_lows({lows[0]}, 3, grid);
    for (std::size_t t = 0; t < 3; ++t) {
      std::copy_n(one.field(0, t, 0), grid->size(), winds.field(0, t, 0));
      for (std::size_t p = 0; p < grid->size(); ++p) {
        const double dy = (grid->lat()[p] - true_lat(lows[0], t)) * 111.2;  // km north
        const double dx = (grid->lon()[p] - true_lon(lows[0], t)) * 111.2 * std::cos(grid->lat()[p] * std::numbers::pi / 180);
        const double w = std::hypot(dx, dy) < 300 ? 1e-4 / 2 * 1000 : 0;  // zeta = 1e-4 s-1 inside
        winds.field(0, t, 1)[p] = float(-w * dy);
        winds.field(0, t, 2)[p] = float(w * dx);
      }
    }
    TrackerOptions vo = options;
    vo.vorticity_u = "u850", vo.vorticity_v = "v850";
    const auto ok = track_vortices(winds, vo);
    INFO(ok[0].end_reason);
    CHECK(ok[0].points.size() == 3);
    CHECK(ok[0].points[0].vorticity == Approx(1e-4).epsilon(0.2));
    vo.min_vorticity = 5e-4;
    const auto weak = track_vortices(winds, vo);
    CHECK(weak[0].points.empty());
    CHECK_THAT(weak[0].end_reason, Catch::Contains("vorticity"));
  }

  SECTION("missing field and unsupported grid") {
    TrackerOptions z = options;
    z.field = "z850";
    CHECK_THROWS_WITH(track_vortices(state, z), Catch::Contains("z850"));
    State mesh(1, six_hourly(1), {parse_variable_key("msl")}, Grid::points(GridKind::mesh, {0, 1, 2}, {0, 1, 2}),
               parse_iso8601("2024-09-01"));
    CHECK_THROWS_AS(track_vortices(mesh, options), UnsupportedError);
  }
}

TEST_CASE("relative vorticity of solid-body zonal flow is 2 U sin(lat) / a") {
  const auto grid = regular_grid(80, -80, 0, 359, 1.0);
  std::vector<float> u(grid->size()), v(grid->size(), 0.0f);
  for (std::size_t p = 0; p < grid->size(); ++p) u[p] = float(20 * std::cos(grid->lat()[p] * std::numbers::pi / 180));
  const auto zeta = relative_vorticity(*grid, u.data(), v.data());
  for (std::size_t p = 0; p < grid->size(); p += 997) {
    const double lat = grid->lat()[p];
    if (std::abs(lat) >= 80) continue;  // one-sided differences on the edge rows
    const double expected = 2 * 20 * std::sin(lat * std::numbers::pi / 180) / 6371008.8;
    INFO("lat " << lat);
    CHECK(zeta[p] == Approx(expected).epsilon(1e-3).margin(1e-11));  // O(dphi^2) differences
  }
}

// ---- Strike probability ----------------------------------------------------------------

TEST_CASE("strike probability is the fraction of members passing within the radius") {
  const auto t0 = parse_iso8601("2024-09-01");
  const auto t1 = t0 + std::chrono::hours(24);
  // Three members along 20N from 130E to 140E (one segment: its middle is far from both
  // ends), one along 30N, one member without a cyclone.
  auto along = [&](double lat) { return Track{0, {{t0, lat, 130, 0, NAN}, {t1, lat, 140, 0, NAN}}, ""}; };
  const std::vector<Track> tracks{along(20), along(20), along(20), along(30), Track{}};
  const auto grid = Grid::points(GridKind::mesh, {20, 21, 18.5, 30, 20, 20, 0, 20},
                                 {135, 135, 135, 135, 141, 142, 0, 139});
  const auto prob = strike_probability(tracks, *grid);
  REQUIRE(prob.size() == 8);
  CHECK(prob[0] == Approx(0.6));  // on the track: 3 of 5 members
  CHECK(prob[1] == Approx(0.6));  // 1 degree north of the arc's middle (~103 km), 530 km from its ends
  CHECK(prob[2] == Approx(0.0));  // 1.57 degrees south (~175 km)
  CHECK(prob[3] == Approx(0.2));
  CHECK(prob[4] == Approx(0.6));  // 1 degree of longitude past the end at 20N: ~104 km
  CHECK(prob[5] == Approx(0.0));  // ~209 km past the end
  CHECK(prob[6] == Approx(0.0));

  // Without the member lacking a cyclone: 3 of 4.
  const std::vector<Track> four(tracks.begin(), tracks.begin() + 4);
  CHECK(strike_probability(four, *grid)[0] == Approx(0.75));

  // A window ending half way: the segment is cut at 135E, so 139E is no longer reached.
  StrikeOptions half;
  half.end = t0 + std::chrono::hours(12);
  const auto cut = strike_probability(four, *grid, half);
  CHECK(cut[0] == Approx(0.75));
  CHECK(cut[7] == Approx(0.0));
  CHECK(strike_probability(four, *grid)[7] == Approx(0.75));
  // A wider radius reaches 18.5N (~175 km from the arc).
  StrikeOptions wide;
  wide.radius_km = 200;
  CHECK(strike_probability(four, *grid, wide)[2] == Approx(0.75));
}

TEST_CASE("great-circle distance to an arc") {
  CHECK(great_circle_km(0, 0, 0, 1) == Approx(111.195).epsilon(1e-4));
  // Beyond the ends the nearest point is an end.
  CHECK(distance_to_arc_km(0, 3, 0, 0, 0, 1) == Approx(great_circle_km(0, 3, 0, 1)));
  // Abeam of the middle of an equatorial arc: the latitude difference.
  CHECK(distance_to_arc_km(1, 0.5, 0, 0, 0, 1) == Approx(111.195).epsilon(1e-4));
  // Across the date line.
  CHECK(distance_to_arc_km(0, 0, 0, 359, 0, 1) == Approx(0).margin(1e-6));
}
