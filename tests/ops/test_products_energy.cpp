// `gale products` energy section end to end: members written as NetCDF, the gale binary run
// on a YAML config, and the energy products checked against independent computations:
// degree days from the real ERA5 hourly 2 m temperature, hub-height wind, turbine and solar
// capacity factors from synthetic members with known values, regional CSV rows by hand,
// every NetCDF read cleanly by ncdump, cdo and xarray, and a missing input a clear error.
#include <catch2/catch.hpp>
#include <netcdf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "core/grid.hpp"
#include "core/state.hpp"
#include "export/cf_axes.hpp"
#include "export/netcdf_writer.hpp"
#include "ingest/selection.hpp"
#include "tests/data.hpp"
#include "tests/netcdf_checks.hpp"
#include "tests/numpy_percentile.hpp"
#include "tests/run_command.hpp"

namespace fs = std::filesystem;
using namespace gale::test;

namespace {

// The CSV as rows of cells (header included).
std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
  std::ifstream f(path);
  REQUIRE(f);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

// Every energy NetCDF must open cleanly in ncdump, cdo and xarray (warnings are errors).
void check_readers(const fs::path& dir) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".nc") continue;
    ++count;
    const auto file = entry.path().string();
    INFO(file);
    CHECK(fs::exists(file + ".sha256"));
    CHECK_THAT(check_opens_cleanly(file), Catch::Contains(":Conventions = \"CF-1.10\""));
  }
  CHECK(count > 0);
}

std::string run_products(const fs::path& config) {
  std::string log;
  const int code = gale::test::run_gale("products -q --config " + config.string(), log);
  INFO(log);
  REQUIRE(code == 0);
  return log;
}

}  // namespace

TEST_CASE("gale products energy: degree days from ERA5 hourly 2 m temperature equal a direct computation") {
  GALE_REQUIRE_DATA();
  const auto dir = gale::test::scratch_dir("energy-dd");
  // ERA5 2t, the first 4 days and 6 hours (the fifth day is incomplete and must be left out).
  std::vector<std::unique_ptr<gale::Reader>> readers;
  readers.push_back(gale::open_reader(gale::test::data_file("era5-2mt-2019-03-uk.grib")));
  gale::Request request;
  request.variables = {gale::parse_variable_key("2t")};
  gale::Selection selection(std::move(readers), request);
  REQUIRE(selection.report().ok());
  const auto era5 = selection.load();
  const std::size_t times = 4 * 24 + 6, members = 3;
  REQUIRE(era5.times() >= times);
  const std::vector<gale::TimePoint> valid(era5.valid_times().begin(), era5.valid_times().begin() + times);
  REQUIRE(gale::iso8601(valid.front()).rfind("2019-03-01T00", 0) == 0);
  // The whole file, 10 W .. 2 E: Gale's grid holds it as 0..2 then 350..359.75 E, the
  // members file as -10..2 E, read back onto the same grid.
  const auto grid = era5.grid();
  const std::size_t points = grid->size();
  REQUIRE(grid->longitudes().size() == 49);
  // ERA5 values: t2m[t][point].
  std::vector<float> t2m(times * points);
  for (std::size_t t = 0; t < times; ++t)
    std::copy_n(era5.field(0, t, 0), points, t2m.begin() + std::ptrdiff_t(t * points));
  // Member k = ERA5 + k K.
  gale::State state(members, valid, era5.variables(), grid, valid.front());
  for (std::size_t m = 0; m < members; ++m)
    for (std::size_t t = 0; t < times; ++t)
      for (std::size_t p = 0; p < points; ++p) state.field(m, t, 0)[p] = t2m[t * points + p] + float(m);
  gale::write_state_netcdf(state, (dir / "members.nc").string());

  const auto config = dir / "products.yaml";
  std::ofstream(config) << "products:\n"
                           "  members: {sources: [{path: members.nc}], variables: [2t]}\n"
                           "  output: out\n"
                           "  percentiles: [10, 50, 90]\n"
                           "  netcdf: {enabled: false}\n"
                           "  energy:\n"
                           "    degree_days:\n"
                           "      temperature: 2t\n"
                           "      base_celsius: 18\n"
                           "      thresholds: [5, 10]\n"
                           "      regions: [{name: south, lat: [50, 53], lon: [-3, -0.5]}]\n";
  run_products(config);
  const auto energy = dir / "out" / "energy";
  const auto hdd_file = (energy / "heating_degree_days.nc").string();
  const auto cdd_file = (energy / "cooling_degree_days.nc").string();
  REQUIRE(fs::exists(hdd_file));
  REQUIRE(fs::exists(cdd_file));
  CHECK(fs::exists(energy / "regions_heating_degree_days.csv.sha256"));
  // The manifest lists the energy products.
  std::ifstream manifest(dir / "out" / "manifest.json");
  const std::string manifest_text((std::istreambuf_iterator<char>(manifest)), {});
  CHECK_THAT(manifest_text, Catch::Contains("energy/heating_degree_days.nc") &&
                                Catch::Contains("energy/regions_cooling_degree_days.csv"));

  // Products write the longitude axis -10..2 E (from monotonic_longitude_start): back to
  // the grid's column order (0..2, 350..359.75) to compare with the ERA5 fields.
  const std::size_t first = gale::monotonic_longitude_start(*grid), nlon = grid->longitudes().size();
  REQUIRE(first > 0);
  auto grid_order = [&](std::vector<float> file) {
    std::vector<float> out(file.size());
    for (std::size_t row = 0; row < file.size() / nlon; ++row)
      for (std::size_t j = 0; j < nlon; ++j) out[row * nlon + (first + j) % nlon] = file[row * nlon + j];
    return out;
  };
  const auto hdd = grid_order(read_floats(hdd_file, "heating_degree_days"));  // [day][member][point]
  const auto cdd = grid_order(read_floats(cdd_file, "cooling_degree_days"));
  const auto mean = grid_order(read_floats(hdd_file, "heating_degree_days_mean"));
  const auto pct = grid_order(read_floats(hdd_file, "heating_degree_days_percentile"));  // [day][3][point]
  const auto prob = grid_order(read_floats(hdd_file, "probability_of_heating_degree_days_above_threshold"));  // [day][2][point]
  // Daily values carry their day as time bounds and "time: sum".
  const auto header = run_command("ncdump -h " + hdd_file).out;
  CHECK_THAT(header, Catch::Contains("time:bounds = \"time_bnds\"") &&
                         Catch::Contains("heating_degree_days_mean:cell_methods = \"time: sum realization: mean\""));
  const std::size_t days = 4;
  REQUIRE(hdd.size() == days * members * points);
  double max_diff = 0, max_stat = 0;
  std::vector<double> expected(days * members * points);
  for (std::size_t d = 0; d < days; ++d)
    for (std::size_t p = 0; p < points; ++p) {
      double tmax = -1e9, tmin = 1e9;
      for (std::size_t h = 0; h < 24; ++h) {
        const double v = t2m[(d * 24 + h) * points + p];
        tmax = std::max(tmax, v), tmin = std::min(tmin, v);
      }
      std::vector<double> ms;
      for (std::size_t m = 0; m < members; ++m) {
        const double tmean = (tmax + m + tmin + m) / 2;
        const double h = std::max(0.0, 291.15 - tmean), c = std::max(0.0, tmean - 291.15);
        const std::size_t i = (d * members + m) * points + p;
        expected[i] = h;
        max_diff = std::max({max_diff, std::abs(hdd[i] - h), std::abs(cdd[i] - c)});
        ms.push_back(hdd[i]);
      }
      const double mu = (ms[0] + ms[1] + ms[2]) / 3;
      max_stat = std::max(max_stat, std::abs(mean[d * points + p] - mu));
      for (std::size_t q = 0; q < 3; ++q)
        max_stat = std::max(max_stat, std::abs(pct[(d * 3 + q) * points + p] - numpy_percentile(ms, std::vector{10., 50., 90.}[q])));
      for (std::size_t k = 0; k < 2; ++k) {
        const double thr = k == 0 ? 5 : 10;
        const double frac = double(std::count_if(ms.begin(), ms.end(), [&](double x) { return x > thr; })) / 3;
        max_stat = std::max(max_stat, std::abs(prob[(d * 2 + k) * points + p] - frac));
      }
    }
  CHECK(max_diff <= 1e-4);
  CHECK(max_stat <= 1e-4);

  // Valid times: 00 UTC of each complete day; the partial fifth day left out.
  const auto py = run_command(
      "/usr/bin/python3 -W error -c \"import xarray as xr; ds = xr.open_dataset('" + hdd_file +
      "'); print([str(t)[:13] for t in ds['time'].values]); "
      "print(ds['heating_degree_days'].attrs['units'], ds['heating_degree_days'].dims)\"");
  INFO(py.out);
  CHECK(py.code == 0);
  CHECK_THAT(py.out, Catch::Contains("['2019-03-01T00', '2019-03-02T00', '2019-03-03T00', '2019-03-04T00']"));
  CHECK_THAT(py.out, Catch::Contains("K day ('time', 'realization', 'latitude', 'longitude')"));

  // The region row for day 2: mean over the box per member, then statistics over members.
  const auto& lat = grid->lat();
  const auto& lon = grid->lon();
  const std::size_t d = 1;
  std::vector<double> regional(members, 0.0);
  std::size_t inside = 0;
  for (std::size_t p = 0; p < points; ++p) {
    const double lo = lon[p] >= 180 ? lon[p] - 360 : lon[p];
    if (lat[p] < 50 || lat[p] > 53 || lo < -3 || lo > -0.5) continue;
    ++inside;
    for (std::size_t m = 0; m < members; ++m) regional[m] += expected[(d * members + m) * points + p];
  }
  REQUIRE(inside > 0);
  for (auto& r : regional) r /= double(inside);
  const auto rows = read_csv(energy / "regions_heating_degree_days.csv");
  REQUIRE(rows.size() == 1 + days);
  CHECK(rows[0] == std::vector<std::string>{"region", "valid_time", "lead_hours", "mean", "p10", "p50", "p90",
                                            "prob_above_5", "prob_above_10"});
  const auto& row = rows[1 + d];
  REQUIRE(row.size() == 9);
  CHECK(row[0] == "south");
  CHECK(row[1].rfind("2019-03-02T00:00:00", 0) == 0);
  CHECK(row[2] == "24");
  CHECK(std::stod(row[3]) == Approx((regional[0] + regional[1] + regional[2]) / 3).margin(1e-4));
  CHECK(std::stod(row[4]) == Approx(numpy_percentile(regional, 10)).margin(1e-4));
  CHECK(std::stod(row[5]) == Approx(numpy_percentile(regional, 50)).margin(1e-4));
  CHECK(std::stod(row[6]) == Approx(numpy_percentile(regional, 90)).margin(1e-4));
  const auto above = [&](double t) { return double(std::count_if(regional.begin(), regional.end(), [&](double x) { return x > t; })) / 3; };
  CHECK(std::stod(row[7]) == Approx(above(5)).margin(1e-6));
  CHECK(std::stod(row[8]) == Approx(above(10)).margin(1e-6));

  check_readers(energy);
}

namespace {

// Synthetic members on a 3 x 4 grid: 3 members, 3 times 6 h apart, with 10 m and 100 m
// winds of known speeds, 2 m temperature and running ssrd accumulations.
struct Synthetic {
  gale::State state;
  std::vector<double> s10, s100;  // [member][time][point]
  std::vector<double> t2m, irradiance;
};

Synthetic synthetic_members() {
  const auto grid = gale::Grid::regular(gale::GridKind::regular_ll, {52, 51, 50}, {0, 1, 2, 3});
  const auto t0 = gale::parse_iso8601("2021-06-21T00:00:00");
  const std::vector<gale::TimePoint> valid{t0, t0 + std::chrono::hours(6), t0 + std::chrono::hours(12)};
  std::vector<gale::Variable> variables;
  for (const char* k : {"10u", "10v", "100u", "100v", "2t", "ssrd"}) variables.push_back(gale::parse_variable_key(k));
  Synthetic s{gale::State(3, valid, variables, grid, t0), {}, {}, {}, {}};
  const std::size_t points = 12;
  for (std::size_t m = 0; m < 3; ++m) {
    std::vector<double> accumulated(points, 0.0);
    for (std::size_t t = 0; t < 3; ++t)
      for (std::size_t p = 0; p < points; ++p) {
        const double s100 = 1.5 + 2.1 * double(p) + 1.3 * double(m) + 0.7 * double(t);  // 1.5 .. 29
        const double s10 = s100 * (0.55 + 0.1 * double(p % 4));
        const double t2 = 280 + double(p) + 2 * double(m) + double(t);
        const double g = t == 0 ? 0 : 100 + 50 * double(p) + 30 * double(m) + 100 * double(t);  // W m-2
        accumulated[p] += g * 6 * 3600;
        s.state.field(m, t, 0)[p] = float(0.6 * s10);
        s.state.field(m, t, 1)[p] = float(-0.8 * s10);
        s.state.field(m, t, 2)[p] = float(-0.6 * s100);
        s.state.field(m, t, 3)[p] = float(0.8 * s100);
        s.state.field(m, t, 4)[p] = float(t2);
        s.state.field(m, t, 5)[p] = float(accumulated[p]);
      }
  }
  // Speeds and inputs as stored (float32).
  for (std::size_t m = 0; m < 3; ++m)
    for (std::size_t t = 0; t < 3; ++t)
      for (std::size_t p = 0; p < points; ++p) {
        s.s10.push_back(std::hypot(double(s.state.field(m, t, 0)[p]), double(s.state.field(m, t, 1)[p])));
        s.s100.push_back(std::hypot(double(s.state.field(m, t, 2)[p]), double(s.state.field(m, t, 3)[p])));
        s.t2m.push_back(s.state.field(m, t, 4)[p]);
        const double previous = t == 0 ? 0.0 : double(s.state.field(m, t - 1, 5)[p]);
        s.irradiance.push_back((double(s.state.field(m, t, 5)[p]) - previous) / (6 * 3600.0));
      }
  return s;
}

}  // namespace

TEST_CASE("gale products energy: hub-height wind, wind and solar capacity factors equal hand computations") {
  const auto dir = gale::test::scratch_dir("energy-wind");
  const auto syn = synthetic_members();
  gale::write_state_netcdf(syn.state, (dir / "members.nc").string());
  const auto config = dir / "products.yaml";
  std::ofstream(config) << "products:\n"
                           "  members: {sources: [{path: members.nc}], variables: [10u, 10v, 100u, 100v, 2t, ssrd]}\n"
                           "  output: out\n"
                           "  netcdf: {enabled: false}\n"
                           "  energy:\n"
                           "    wind:\n"
                           "      levels: [{height: 10, u: 10u, v: 10v}, {height: 100, u: 100u, v: 100v}]\n"
                           "      hub_height: 120\n"
                           "      profile: fitted_power_law\n"
                           "      alpha: 0.143\n"
                           "      turbine: {name: test, cut_in: 3, rated: 12, cut_out: 25}\n"
                           "      thresholds: [0.2, 0.5]\n"
                           "      regions: [{name: east, lat: [50.5, 52], lon: [0.5, 3]}]\n"
                           "    solar: {irradiance: ssrd, temperature: 2t, thresholds: [0.3]}\n";
  run_products(config);
  const auto energy = dir / "out" / "energy";
  const std::size_t points = 12, members = 3, times = 3;

  // Hand computation: alpha fitted through 10 m and 100 m (clamped to [0, 0.6]; 0.143 when
  // either speed is below 1 m/s), the hub wind from the 100 m level, the cubic power curve.
  auto hub_of = [&](std::size_t i) {
    double alpha = 0.143;
    if (syn.s10[i] >= 1.0 && syn.s100[i] >= 1.0) alpha = std::clamp(std::log(syn.s100[i] / syn.s10[i]) / std::log(10.0), 0.0, 0.6);
    return syn.s100[i] * std::pow(1.2, alpha);
  };
  auto cf_of = [](double u) {
    if (u < 3 || u >= 25) return 0.0;
    if (u >= 12) return 1.0;
    return (u * u * u - 27.0) / (1728.0 - 27.0);
  };
  const auto speed = read_floats((energy / "hub_height_wind_speed.nc").string(), "hub_height_wind_speed");
  const auto cf = read_floats((energy / "wind_capacity_factor.nc").string(), "wind_capacity_factor");
  const auto cf_mean = read_floats((energy / "wind_capacity_factor.nc").string(), "wind_capacity_factor_mean");
  REQUIRE(speed.size() == times * members * points);
  double speed_diff = 0, cf_diff = 0, mean_diff = 0;
  int rated = 0, stopped = 0, partial = 0;
  for (std::size_t t = 0; t < times; ++t)
    for (std::size_t p = 0; p < points; ++p) {
      double sum = 0;
      for (std::size_t m = 0; m < members; ++m) {
        const std::size_t i = (m * times + t) * points + p, o = (t * members + m) * points + p;
        const double hub = hub_of(i), c = cf_of(hub);
        speed_diff = std::max(speed_diff, std::abs(speed[o] - hub) / std::max(1.0, hub));
        cf_diff = std::max(cf_diff, std::abs(cf[o] - c));
        sum += c;
        rated += c == 1.0, stopped += (c == 0.0 && hub > 12), partial += (c > 0 && c < 1);
      }
      mean_diff = std::max(mean_diff, std::abs(cf_mean[t * points + p] - sum / 3));
    }
  CHECK(speed_diff <= 1e-5);
  CHECK(cf_diff <= 1e-5);
  CHECK(mean_diff <= 1e-5);
  CHECK(rated > 0);  // the data span every part of the curve
  CHECK(stopped > 0);
  CHECK(partial > 0);
  CHECK_THAT(run_command("ncdump -h " + (energy / "hub_height_wind_speed.nc").string()).out,
             Catch::Contains("hub_height_wind_speed:standard_name = \"wind_speed\"") &&
                 Catch::Contains("hub_height_wind_speed:units = \"m s-1\"") && Catch::Contains("120 m hub height"));
  CHECK_THAT(run_command("ncdump -h " + (energy / "wind_capacity_factor.nc").string()).out,
             Catch::Contains("wind_capacity_factor:units = \"1\"") &&
                 !Catch::Contains("wind_capacity_factor:standard_name") &&
                 Catch::Contains("probability_of_wind_capacity_factor_above_threshold(time, threshold, latitude, longitude)"));

  // SupplyRegion row at lead 6 h: per member, the mean over the 6 points at 51..52 N, 1..3 E.
  const auto rows = read_csv(energy / "regions_wind_capacity_factor.csv");
  REQUIRE(rows.size() == 1 + times);
  CHECK(rows[0] == std::vector<std::string>{"region", "valid_time", "lead_hours", "mean", "p10", "p50", "p90",
                                            "prob_above_0.2", "prob_above_0.5"});
  std::vector<double> regional(members, 0.0);
  const std::size_t t = 1;
  for (std::size_t m = 0; m < members; ++m) {
    for (const std::size_t p : {1, 2, 3, 5, 6, 7}) regional[m] += cf_of(hub_of((m * times + t) * points + p));
    regional[m] /= 6;
  }
  const auto& row = rows[2];
  REQUIRE(row.size() == 9);
  CHECK(row[0] == "east");
  CHECK(row[1].rfind("2021-06-21T06:00:00", 0) == 0);
  CHECK(row[2] == "6");
  CHECK(std::stod(row[3]) == Approx((regional[0] + regional[1] + regional[2]) / 3).margin(1e-5));
  CHECK(std::stod(row[4]) == Approx(numpy_percentile(regional, 10)).margin(1e-5));
  CHECK(std::stod(row[5]) == Approx(numpy_percentile(regional, 50)).margin(1e-5));
  CHECK(std::stod(row[6]) == Approx(numpy_percentile(regional, 90)).margin(1e-5));
  CHECK(std::stod(row[7]) == Approx(std::count_if(regional.begin(), regional.end(), [](double x) { return x > 0.2; }) / 3.0));
  CHECK(std::stod(row[8]) == Approx(std::count_if(regional.begin(), regional.end(), [](double x) { return x > 0.5; }) / 3.0));

  // Solar: running accumulations since the reference time, so the leads after it (6 h, 12 h).
  const auto solar = read_floats((energy / "solar_capacity_factor.nc").string(), "solar_capacity_factor");
  REQUIRE(solar.size() == 2 * members * points);
  double solar_diff = 0;
  for (std::size_t k = 0; k < 2; ++k)
    for (std::size_t m = 0; m < members; ++m)
      for (std::size_t p = 0; p < points; ++p) {
        const std::size_t i = (m * times + k + 1) * points + p;
        const double expected = std::clamp(0.9 * (1 - 0.00042 * (syn.t2m[i] - 298.15)) * syn.irradiance[i] / 1000, 0.0, 1.0);
        solar_diff = std::max(solar_diff, std::abs(solar[(k * members + m) * points + p] - expected));
      }
  CHECK(solar_diff <= 1e-5);

  check_readers(energy);
}

TEST_CASE("gale products energy: an input not loaded is one clear config error naming the key") {
  const auto dir = gale::test::scratch_dir("energy-missing");
  auto syn = synthetic_members();
  gale::write_state_netcdf(syn.state, (dir / "members.nc").string());
  const auto config = dir / "products.yaml";
  std::ofstream(config) << "products:\n"
                           "  members: {sources: [{path: members.nc}], variables: [10u, 10v]}\n"
                           "  output: out\n"
                           "  energy:\n"
                           "    wind:\n"
                           "      levels: [{height: 10, u: 10u, v: 10v}, {height: 100, u: 100u, v: 100v}]\n";
  std::string log;
  const int code = gale::test::run_gale("products -q --config " + config.string(), log);
  INFO(log);
  CHECK(code != 0);
  CHECK_THAT(log, Catch::Contains("products.energy.wind.levels[1].u: 100u is not loaded: add it to "
                                  "products.members.variables"));
  CHECK(std::count(log.begin(), log.end(), '\n') == 1);
  CHECK(!fs::exists(dir / "out" / "energy"));

  // An unknown key is named too.
  std::ofstream(config) << "products:\n"
                           "  members: {sources: [{path: members.nc}], variables: [10u, 10v]}\n"
                           "  output: out\n"
                           "  energy:\n"
                           "    wind: {levels: [{height: 10, u: 10u, v: 10v}], hub_heigth: 80}\n";
  log.clear();
  CHECK(gale::test::run_gale("products -q --config " + config.string(), log) != 0);
  CHECK_THAT(log, Catch::Contains("products.energy.wind") && Catch::Contains("hub_heigth"));

  // Degree days need a complete UTC day: 00, 06 and 12 UTC are not one.
  std::ofstream(config) << "products:\n"
                           "  members: {sources: [{path: members.nc}], variables: [2t]}\n"
                           "  output: out\n"
                           "  energy: {degree_days: {temperature: 2t}}\n";
  log.clear();
  CHECK(gale::test::run_gale("products -q --config " + config.string(), log) != 0);
  CHECK_THAT(log, Catch::Contains("products.energy.degree_days: no complete UTC day in 2t"));
  CHECK(!fs::exists(dir / "out" / "energy" / "heating_degree_days.nc"));
}
