// `gale climate` and the `hazards:` section of `gale products`: the EFI of the ERA5 EDA
// sample against its own model climate equals the library's to 1e-6 and opens cleanly in
// ncdump, cdo and xarray; a climate on another grid fails with one clear message and
// leaves no EFI file; synthetic moving lows are tracked into tracks.csv and give the
// strike probabilities counted by hand.
#include <catch2/catch.hpp>
#include <netcdf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "core/state.hpp"
#include "core/variable.hpp"
#include "export/netcdf_writer.hpp"
#include "ingest/field.hpp"
#include "ingest/selection.hpp"
#include "products/hazards.hpp"
#include "products/model_climate.hpp"
#include "tests/data.hpp"
#include "tests/netcdf_checks.hpp"
#include "tests/run_command.hpp"

namespace fs = std::filesystem;
using namespace gale;
using namespace gale::test;

namespace {

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
}

std::string read_text(const fs::path& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Runs gale with `args`; returns the exit code, the output in `log`.
int gale_cli(const std::string& args, std::string& log) {
  log.clear();
  return gale::test::run_gale(args, log);
}

std::string climate_config(const std::string& source, const std::string& variables, const std::string& output) {
  return "climate:\n  sources: [{path: " + source + "}]\n  variables: [" + variables + "]\n  output: " + output + "\n";
}

std::string products_config(const std::string& source, const std::string& variables, const std::string& hazards) {
  return "products:\n  members:\n    sources: [{path: " + source + "}]\n    variables: [" + variables +
         "]\n  output: out\n  netcdf: {enabled: false}\n  hazards:\n" + hazards;
}

std::vector<double> read_doubles(const std::string& path, const std::string& name) {
  const auto f = read_floats(path, name);
  return {f.begin(), f.end()};
}

State load(const std::string& path, const std::vector<std::string>& keys) {
  std::vector<std::unique_ptr<Reader>> readers;
  readers.push_back(open_reader(path));
  Request request;
  for (const auto& k : keys) request.variables.push_back(parse_variable_key(k));
  return Selection(std::move(readers), request).load();
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out(1);
  for (char c : line)
    if (c == sep)
      out.emplace_back();
    else
      out.back().push_back(c);
  return out;
}

}  // namespace

TEST_CASE("gale climate and the EFI of gale products equal the library's and open cleanly") {
  GALE_REQUIRE_DATA();
  const auto dir = gale::test::scratch_dir("climate-products-efi");
  const auto members = gale::test::data_file("era5-levels-members.grib");
  write_file(dir / "climate.yaml", climate_config(members, "z500, t850", "clim/era5.nc"));
  std::string log;
  REQUIRE(gale_cli("climate -q --config " + (dir / "climate.yaml").string(), log) == 0);
  const auto clim = (dir / "clim" / "era5.nc").string();
  CHECK_THAT(log, Catch::Contains(clim));
  REQUIRE(fs::exists(clim));
  REQUIRE(fs::exists(clim + ".sha256"));
  const auto climate_sha = split(read_text(clim + ".sha256"), ' ').front();
  REQUIRE(climate_sha.size() == 64);

  write_file(dir / "products.yaml",
             products_config(members, "z500, t850", "    efi: {climate: clim/era5.nc, variables: [t850, z500], maps: true}\n"));
  const int code = gale_cli("products -q --config " + (dir / "products.yaml").string(), log);
  INFO(log);
  REQUIRE(code == 0);
  const auto hazards = dir / "out" / "hazards";

  const State era5 = load(members, {"z500", "t850"});
  const auto climate = read_model_climate(clim);
  CHECK(climate.percentiles.size() == 101);
  CHECK(climate.sample_count == 40);
  const std::size_t n = era5.points();
  for (const std::string key : {"t850", "z500"}) {
    INFO(key);
    const auto file = (hazards / ("efi_" + key + ".nc")).string();
    REQUIRE(fs::exists(file));
    CHECK(fs::exists(file + ".sha256"));
    CHECK_THAT(log, Catch::Contains(file));
    for (const int lead : {0, 12, 24, 36}) {
      const auto png = hazards / ("efi_" + key + "_" + std::to_string(lead) + "h.png");
      CHECK(fs::exists(png));
      CHECK(fs::exists(png.string() + ".sha256"));
    }
    const auto efi = read_floats(file, "efi_" + key);
    REQUIRE(efi.size() == 4 * n);
    std::size_t finite = 0;
    for (const float e : efi)
      if (std::isfinite(e)) {
        ++finite;
        CHECK((e >= -1 && e <= 1));
      }
    CHECK(finite == efi.size());
    for (std::size_t t = 0; t < 4; ++t) {
      const auto expected = extreme_forecast_index(era5, t, key, climate);
      for (std::size_t p = 0; p < n; p += 97) {
        INFO("time " << t << " point " << p);
        CHECK(std::abs(double(efi[t * n + p]) - double(expected[p])) <= 1e-6);
      }
    }
    const auto header = run_command("ncdump -h " + file);
    REQUIRE(header.code == 0);
    CHECK_THAT(header.out, Catch::Contains("float efi_" + key + "(time, latitude, longitude)"));
    CHECK_THAT(header.out, Catch::Contains(":long_name = \"Extreme Forecast Index of "));
    CHECK_THAT(header.out, Catch::Contains("efi_" + key + ":units = \"1\""));
    CHECK_THAT(header.out, Catch::Contains("efi_" + key + ":valid_min = -1.f"));
    CHECK_THAT(header.out, Catch::Contains("efi_" + key + ":valid_max = 1.f"));
    CHECK_THAT(header.out, Catch::Contains("era5.nc (sha256:" + climate_sha));
    CHECK_THAT(header.out, Catch::Contains(":Conventions = \"CF-1.10\""));
    check_cdo_reads(file);
  }
  // The analyses are their own climate's samples: some points must be unusual, none beyond 1.
  check_xarray((hazards / "efi_t850.nc").string(),
               "e = ds['efi_t850']; assert e.dims == ('time', 'latitude', 'longitude'), e.dims; "
               "assert float(e.min()) >= -1 and float(e.max()) <= 1; assert float(abs(e).max()) > 0.5; "
               "assert float(ds['pressure_level']) == 850; "
               "assert list(ds['forecast_period'].values.astype('timedelta64[h]').astype(int)) == [0, 12, 24, 36]");
  CHECK_THAT(read_text(dir / "out" / "manifest.json"), Catch::Contains("hazards/efi_t850.nc"));

  SECTION("a climate lacking the variable fails naming the file and the variable") {
    write_file(dir / "z.yaml", climate_config(members, "z500", "z-only.nc"));
    REQUIRE(gale_cli("climate -q --config " + (dir / "z.yaml").string(), log) == 0);
    write_file(dir / "lacking.yaml",
               products_config(members, "z500, t850", "    efi: {climate: z-only.nc, variables: [t850]}\n"));
    fs::remove_all(dir / "out");
    const int rc = gale_cli("products -q --config " + (dir / "lacking.yaml").string(), log);
    INFO(log);
    CHECK(rc != 0);
    CHECK_THAT(log, Catch::Contains("z-only.nc") && Catch::Contains("t850"));
    CHECK_FALSE(fs::exists(dir / "out" / "hazards" / "efi_t850.nc"));
  }
  fs::remove_all(dir);
}

TEST_CASE("gale products: a model climate on another grid fails with one clear message and no EFI file") {
  GALE_REQUIRE_DATA();
  const auto dir = gale::test::scratch_dir("climate-products-grid");
  write_file(dir / "climate.yaml", climate_config(gale::test::data_file("pl_regular_ll.grib"), "t850", "coarse.nc"));
  std::string log;
  {
    const int rc = gale_cli("climate -q --config " + (dir / "climate.yaml").string(), log);
    INFO(log);
    REQUIRE(rc == 0);
  }
  const auto coarse = read_model_climate((dir / "coarse.nc").string());
  const auto members = gale::test::data_file("era5-levels-members.grib");
  const State era5 = load(members, {"t850"});
  REQUIRE_FALSE(coarse.grid->same_as(*era5.grid()));
  write_file(dir / "products.yaml", products_config(members, "t850", "    efi: {climate: coarse.nc, maps: true}\n"));
  const int rc = gale_cli("products -q --config " + (dir / "products.yaml").string(), log);
  INFO(log);
  CHECK(rc == 4);  // a DataError
  CHECK_THAT(log, Catch::StartsWith("gale products: products.hazards.efi: variable t850: "));
  CHECK_THAT(log, Catch::Contains((dir / "coarse.nc").string()));
  CHECK_THAT(log, Catch::Contains(coarse.grid->describe()));
  CHECK_THAT(log, Catch::Contains(era5.grid()->describe()));
  CHECK(std::count(log.begin(), log.end(), '\n') == 1);  // one message, no trace
  const auto hazards = dir / "out" / "hazards";
  if (fs::exists(hazards))
    for (const auto& e : fs::directory_iterator(hazards)) FAIL("left behind: " << e.path());
  fs::remove_all(dir);
}

namespace {

struct Low {
  double lat0, lon0, dlon, dlat;  // start, and degrees per 6 h
};
double true_lat(const Low& l, std::size_t t) { return l.lat0 + l.dlat * double(t); }
double true_lon(const Low& l, std::size_t t) { return l.lon0 + l.dlon * double(t); }

}  // namespace

TEST_CASE("gale products: cyclone tracks and strike probability of synthetic moving lows") {
  const auto dir = gale::test::scratch_dir("climate-products-cyclones");
  std::vector<double> lats, lons;
  for (int la = 40; la >= 0; --la) lats.push_back(la);
  for (int lo = 110; lo <= 170; ++lo) lons.push_back(lo);
  const auto grid = Grid::regular(GridKind::regular_ll, lats, lons);
  // Two members east along ~15N, one north-north-east, one west-north-west.
  const std::vector<Low> lows{{15.2, 130.3, 2, 0}, {14.8, 129.7, 2, 0}, {15.0, 130.0, 1, 1.5}, {15.1, 130.1, -2, 0.5}};
  const auto reference = parse_iso8601("2024-09-01T00");
  std::vector<TimePoint> times;
  for (int t = 0; t < 5; ++t) times.push_back(reference + std::chrono::hours(6 * t));
  State state(lows.size(), times, {parse_variable_key("msl")}, grid, reference);
  for (std::size_t m = 0; m < lows.size(); ++m)
    for (std::size_t t = 0; t < times.size(); ++t) {
      float* f = state.field(m, t, 0);
      for (std::size_t p = 0; p < grid->size(); ++p) {
        const double d = great_circle_km(grid->lat()[p], grid->lon()[p], true_lat(lows[m], t), true_lon(lows[m], t));
        f[p] = float(101000 - 2500 * std::exp(-0.5 * (d / 300) * (d / 300)));
      }
    }
  write_state_netcdf(state, (dir / "msl.nc").string());
  write_file(dir / "products.yaml",
             products_config((dir / "msl.nc").string(), "msl",
                             "    cyclones: {field: msl, start: {lat: 15, lon: 130}, radius_km: 120, "
                             "max_displacement_km: 500, min_depth: 200, maps: true}\n"));
  std::string log;
  const int code = gale_cli("products -q --config " + (dir / "products.yaml").string(), log);
  INFO(log);
  REQUIRE(code == 0);
  const auto hazards = dir / "out" / "hazards";
  for (const auto* f : {"tracks.csv", "strike_probability.nc", "strike_probability.png"}) {
    INFO(f);
    CHECK(fs::exists(hazards / f));
    CHECK(fs::exists(hazards / (std::string(f) + ".sha256")));
  }

  // tracks.csv: 5 rows per member, within 0.5 degree of the true centres.
  std::istringstream csv(read_text(hazards / "tracks.csv"));
  std::string line;
  std::getline(csv, line);
  CHECK(line == "member,time,lead_hours,lat,lon,value,end_reason");
  std::vector<std::vector<std::vector<std::string>>> rows(lows.size());
  while (std::getline(csv, line)) {
    const auto cells = split(line, ',');
    REQUIRE(cells.size() == 7);
    const auto m = std::stoul(cells[0]);
    REQUIRE(m < lows.size());
    rows[m].push_back(cells);
  }
  for (std::size_t m = 0; m < lows.size(); ++m) {
    INFO("member " << m);
    REQUIRE(rows[m].size() == 5);
    for (std::size_t t = 0; t < 5; ++t) {
      const auto& r = rows[m][t];
      INFO("step " << t << ": " << r[3] << "N " << r[4] << "E");
      CHECK(r[1] == iso8601(times[t]));
      CHECK(std::stod(r[2]) == Approx(6.0 * double(t)));
      CHECK(std::abs(std::stod(r[3]) - true_lat(lows[m], t)) < 0.5);
      CHECK(std::abs(std::stod(r[4]) - true_lon(lows[m], t)) < 0.5);
      CHECK(std::stod(r[5]) == Approx(101000 - 2500).margin(100));
      CHECK(r[6] == (t == 4 ? "end of forecast" : ""));
    }
  }

  // Strike probability: distances to the true tracks (km) in the comments.
  const auto nc = (hazards / "strike_probability.nc").string();
  const std::string name = "probability_of_tropical_cyclone_strike";
  const auto header = run_command("ncdump -h " + nc);
  CHECK_THAT(header.out, Catch::Contains("float " + name + "(latitude, longitude)"));
  CHECK_THAT(header.out, Catch::Contains(name + ":radius_km = 120."));
  CHECK_THAT(header.out, Catch::Contains(name + ":units = \"1\""));
  check_cdo_reads(nc);
  const auto prob = read_floats(nc, name);
  const auto file_lats = read_doubles(nc, "latitude"), file_lons = read_doubles(nc, "longitude");
  REQUIRE(prob.size() == file_lats.size() * file_lons.size());
  auto at = [&](double lat, double lon) {
    const auto i = std::size_t(std::find(file_lats.begin(), file_lats.end(), lat) - file_lats.begin());
    const auto j = std::size_t(std::find(file_lons.begin(), file_lons.end(), lon) - file_lons.begin());
    REQUIRE(i < file_lats.size());
    REQUIRE(j < file_lons.size());
    return double(prob[i * file_lons.size() + j]);
  };
  CHECK(at(15, 130) == Approx(1.0));   // every start: 39, 22, 0, 13 km
  CHECK(at(15, 136) == Approx(0.5));   // the two eastward members: 22, 22 km (others > 500)
  CHECK(at(20, 133) == Approx(0.25));  // the northward member: 30 km (others > 500)
  CHECK(at(16, 125) == Approx(0.25));  // the westward member: 40 km (others > 500)
  CHECK(at(13, 130) == Approx(0.0));   // 200 km and more from every track
  CHECK(at(30, 150) == Approx(0.0));
  for (const float p : prob) CHECK((p >= 0 && p <= 1));
  check_xarray(nc, "assert float(ds['" + name + "'].max()) == 1");
  fs::remove_all(dir);
}
