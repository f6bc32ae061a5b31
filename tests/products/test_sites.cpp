// Site time series: the sites CSV, interpolation weights, the CF timeSeries NetCDF file
// (checked with ncdump and xarray), the percentile CSV, and degree days at UK sites from
// ERA5 hourly 2 m temperature.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../data.hpp"
#include "../netcdf_checks.hpp"
#include "../numpy_percentile.hpp"
#include "../run_command.hpp"
#include "core/errors.hpp"
#include "grids/gaussian.hpp"
#include "ingest/grib_reader.hpp"
#include "products/energy.hpp"
#include "products/sites.hpp"

using namespace gale;
using namespace gale::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

std::vector<double> range(double first, double last, double step) {
  std::vector<double> v;
  const int n = int(std::lround((last - first) / step)) + 1;
  for (int i = 0; i < n; ++i) v.push_back(first + i * step);
  return v;
}

// Longitude continuous across 0 E (UK and Channel sites).
double signed_lon(double lon) { return lon > 180 ? lon - 360 : lon; }
double linear_field(double lat, double lon) { return 250 + 2 * lat + 3 * signed_lon(lon); }

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> f(1);
  for (char c : line) {
    if (c == ',') f.emplace_back();
    else f.back() += c;
  }
  return f;
}

}  // namespace

// --- sites CSV ---------------------------------------------------------------------------

TEST_CASE("sites CSV: columns by header name, capacity optional") {
  const auto dir = gale::test::scratch_dir("test-sites-csv");
  const auto path = write(dir / "sites.csv",
                          "# wind farms\n"
                          "lon, Name ,country,lat,capacity\n"
                          "-0.5,London,UK,51.5,\n"
                          "\n"
                          "356.8,\"Whitelee, Glasgow\",UK,55.68,539\n"
                          "-179.5,Dateline,Fiji,-17,2.5\r\n");
  const auto sites = read_sites_csv(path);
  REQUIRE(sites.size() == 3);
  CHECK(sites[0].name == "London");
  CHECK(sites[0].lat == 51.5);
  CHECK(sites[0].lon == -0.5);
  CHECK(sites[0].capacity == 1);
  CHECK(sites[1].name == "Whitelee, Glasgow");
  CHECK(sites[1].lon == 356.8);
  CHECK(sites[1].capacity == 539);
  CHECK(sites[2].capacity == 2.5);
  // Without a capacity column at all.
  const auto bare = read_sites_csv(write(dir / "bare.csv", "name,lat,lon\nA,1,2\n"));
  CHECK(bare[0].capacity == 1);
  fs::remove_all(dir);
}

TEST_CASE("sites CSV errors name the file, the line and the field") {
  const auto dir = gale::test::scratch_dir("test-sites-csv-errors");
  const auto bad = [&](const std::string& name, const std::string& text) {
    return write(dir / name, text);
  };
  const std::string header = "name,lat,lon,capacity\n";
  const auto p1 = bad("number.csv", header + "A,50,0,1\nB,5x,0,1\n");
  CHECK_THROWS_WITH(read_sites_csv(p1), Contains(p1 + ":3:") && Contains("'lat'") && Contains("'5x'"));
  CHECK_THROWS_AS(read_sites_csv(p1), InputError);
  const auto p2 = bad("range.csv", header + "A,91,0,1\n");
  CHECK_THROWS_WITH(read_sites_csv(p2), Contains(p2 + ":2:") && Contains("'lat': 91 is outside -90..90"));
  const auto p3 = bad("lon.csv", header + "A,50,-181,1\n");
  CHECK_THROWS_WITH(read_sites_csv(p3), Contains(p3 + ":2:") && Contains("'lon'"));
  const auto p4 = bad("dup.csv", header + "A,50,0,1\nB,51,0,1\nA,52,0,1\n");
  CHECK_THROWS_WITH(read_sites_csv(p4), Contains(p4 + ":4:") && Contains("duplicate site name 'A' (first on line 2)"));
  const auto p5 = bad("fields.csv", header + "A,50,0\n");
  CHECK_THROWS_WITH(read_sites_csv(p5), Contains(p5 + ":2:") && Contains("3 fields where the header has 4"));
  const auto p6 = bad("capacity.csv", header + "A,50,0,-3\n");
  CHECK_THROWS_WITH(read_sites_csv(p6), Contains(p6 + ":2:") && Contains("'capacity': -3 is negative"));
  const auto p7 = bad("header.csv", "name,latitude,lon\nA,50,0\n");
  CHECK_THROWS_WITH(read_sites_csv(p7), Contains(p7 + ":1:") && Contains("no 'lat' column"));
  const auto p8 = bad("nan.csv", header + "A,nan,0,1\n");
  CHECK_THROWS_WITH(read_sites_csv(p8), Contains(p8 + ":2:") && Contains("not a finite number"));
  const auto p9 = bad("empty.csv", header);
  CHECK_THROWS_WITH(read_sites_csv(p9), Contains(p9) && Contains("no sites"));
  const auto missing = (dir / "absent.csv").string();
  CHECK_THROWS_WITH(read_sites_csv(missing), Contains(missing) && Contains("cannot open"));
  CHECK_THROWS_AS(read_sites_csv(missing), InputError);
  fs::remove_all(dir);
}

// --- interpolation -------------------------------------------------------------------------

namespace {
// sum_k w_k f(point_k) in double: exact for a field linear in (lat, lon) when the weights
// are bilinear weights of the right corners.
double apply_exact(const Grid& g, const SiteWeights& w) {
  double v = 0, total = 0;
  for (std::size_t k = 0; k < w.index.size(); ++k) {
    v += w.weight[k] * linear_field(g.lat()[w.index[k]], g.lon()[w.index[k]]);
    total += w.weight[k];
  }
  CHECK(std::abs(total - 1) < 1e-12);
  return v;
}

std::vector<Site> channel_sites() {
  return {{"on a point", 51.5, -0.25, 1}, {"west of 0", 51.37, -0.1, 1}, {"east of 0", 51.37, 0.1, 1},
          {"as 359.9", 52.11, 359.9, 1},  {"Cornwall", 50.13, -5.51, 1}, {"north-east corner", 58, 2, 1}};
}
}  // namespace

TEST_CASE("bilinear weights are exact for a linear field on a regional grid crossing 0 E") {
  // The ERA5 UK grid: 58N..50N, 10W..2E at 0.25 deg, stored 0..2, 350..359.75 E.
  const auto g = Grid::regular(GridKind::regular_ll, range(58, 50, -0.25), [] {
    auto l = range(0, 2, 0.25);
    for (double x : range(350, 359.75, 0.25)) l.push_back(x);
    return l;
  }());
  REQUIRE(!g->global_in_longitude());
  const auto sites = channel_sites();
  const auto w = site_weights(*g, sites);
  std::vector<float> field(g->size());
  for (std::size_t p = 0; p < g->size(); ++p) field[p] = float(linear_field(g->lat()[p], g->lon()[p]));
  const auto at_sites = interpolate_to_sites(w, field.data());
  for (std::size_t s = 0; s < sites.size(); ++s) {
    INFO(sites[s].name);
    CHECK(w[s].bilinear);
    CHECK(std::abs(apply_exact(*g, w[s]) - linear_field(sites[s].lat, sites[s].lon)) < 1e-9);
    CHECK(at_sites[s] == Approx(linear_field(sites[s].lat, sites[s].lon)).epsilon(1e-6));
  }
  CHECK(w[0].index.size() == 1);  // on a grid point: one point, weight 1 (no NaN leaks in)
  // West of 0 and east of 0 use the columns either side of the 359.75 / 0 seam.
  for (std::size_t k = 0; k < w[1].index.size(); ++k) {
    const double lon = g->lon()[w[1].index[k]];
    CHECK((lon == 359.75 || lon == 0));
  }
  CHECK_THROWS_WITH(site_weights(*g, {{"Paris", 48.85, 2.35, 1}}), Contains("site 'Paris'") && Contains("outside"));
  CHECK_THROWS_AS(site_weights(*g, {{"Oslo", 59.9, 10.7, 1}}), DataError);
}

TEST_CASE("bilinear weights on global regular and Gaussian grids wrap at 360") {
  const auto ll = Grid::regular(GridKind::regular_ll, range(90, -90, -1.5), range(0, 358.5, 1.5));
  const auto gl = gaussian_latitudes(24);
  const auto gg = Grid::regular(GridKind::regular_gaussian, gl.latitudes_deg, range(0, 356.25, 3.75));
  const std::vector<Site> sites{{"seam", 10.3, 359.9, 1}, {"seam west", -33.3, -0.7, 1}, {"mid", 45.1, 7.3, 1}};
  for (const auto& g : {ll, gg}) {
    INFO(g->describe());
    const auto w = site_weights(*g, sites);
    for (std::size_t s = 0; s < sites.size(); ++s) {
      INFO(sites[s].name);
      CHECK(std::abs(apply_exact(*g, w[s]) - linear_field(sites[s].lat, sites[s].lon)) < 1e-9);
    }
  }
  // Beyond the outermost Gaussian row: the row is held (no extrapolation).
  const auto polar = site_weights(*gg, {{"pole", 89.9, 10, 1}});
  for (auto i : polar[0].index) CHECK(gg->lat()[i] == gl.latitudes_deg.front());
  // A latitude band global in longitude is still regional in latitude.
  const auto band = Grid::regular(GridKind::regular_ll, range(60, 30, -1.5), range(0, 358.5, 1.5));
  CHECK_THROWS_WITH(site_weights(*band, {{"Tromso", 69.6, 18.9, 1}}), Contains("site 'Tromso'") && Contains("outside"));
  CHECK_NOTHROW(site_weights(*band, {{"Oslo", 59.9, 10.7, 1}}));
}

TEST_CASE("meshes take the nearest node") {
  const auto g = Grid::points(GridKind::mesh, {0, 10, 50, -40}, {0, 100, 359, 200});
  const auto w = site_weights(*g, {{"a", 49, -2, 1}, {"b", -39, 199, 1}});
  CHECK(w[0].index == std::vector<std::size_t>{2});
  CHECK(w[1].index == std::vector<std::size_t>{3});
  CHECK(!w[0].bilinear);
}

// --- writers -----------------------------------------------------------------------------

namespace {
SiteSeries sample_series(std::size_t members) {
  SiteSeries s;
  s.sites = {{"London", 51.5, -0.12, 3}, {"Edinburgh", 55.95, -3.19, 1}, {"Belfast, NI", 54.6, -5.93, 2}};
  s.reference_time = parse_iso8601("2019-03-01T00:00:00Z");
  for (int h = 6; h <= 30; h += 6) s.valid_times.push_back(s.reference_time + std::chrono::hours(h));
  s.members = members;
  const std::size_t ns = s.sites.size(), nt = s.valid_times.size();
  SiteProduct t2m{"t2m", "air_temperature", "2 metre temperature", "K", {}};
  SiteProduct cf{"wind_cf", "", "wind capacity factor (iec-II)", "1", {}};
  for (std::size_t i = 0; i < ns; ++i)
    for (std::size_t m = 0; m < members; ++m)
      for (std::size_t t = 0; t < nt; ++t) {
        // Members in a scrambled order so that sorting matters.
        const double k = double((m * 7 + 3) % members);
        t2m.values.push_back(float(275 + double(i) + 0.37 * k + 0.1 * double(t)));
        cf.values.push_back(float(std::fmod(0.13 * k + 0.05 * double(t) + 0.2 * double(i), 1.0)));
      }
  s.products = {t2m, cf};
  return s;
}
}  // namespace

TEST_CASE("sites NetCDF: CF timeSeries read by ncdump and xarray without warnings") {
  const auto dir = gale::test::scratch_dir("test-sites-nc");
  const auto path = (dir / "sites.nc").string();
  const auto series = sample_series(11);
  SiteWriteOptions o;
  o.title = "Gale site forecast";
  o.history = {"2026-01-01T00:00:00Z test"};
  write_sites_netcdf(series, path, o);
  CHECK(fs::exists(path + ".sha256"));

  const auto header = run_command("ncdump -h " + path);
  REQUIRE(header.code == 0);
  const auto& out = header.out;
  CHECK_THAT(out, Contains(":featureType = \"timeSeries\""));
  CHECK_THAT(out, Contains(":Conventions = \"CF-1.10\""));
  CHECK_THAT(out, Contains("station:cf_role = \"timeseries_id\""));
  CHECK_THAT(out, Contains("float t2m(time, realization, station)"));
  CHECK_THAT(out, Contains("float t2m_percentile(time, percentile, station)"));
  CHECK_THAT(out, Contains("percentile:units = \"%\""));
  CHECK_THAT(out, Contains("t2m:coordinates = \"latitude longitude\""));
  // cdo reads it without warnings (time first, realization and percentile as Z axes).
  check_cdo_reads(path);

  const std::string script =
      "import numpy, xarray\n"
      "ds = xarray.open_dataset('" + path + "')\n"
      "for v in ['t2m', 't2m_percentile', 'wind_cf', 'wind_cf_percentile', 'station', 'latitude', 'longitude']:\n"
      "    assert v in ds.variables, v\n"
      "for c in ['time', 'realization', 'percentile', 'latitude']:\n"
      "    assert c in ds.t2m_percentile.coords or c in ds.t2m.coords, c\n"
      "assert 'forecast_period' in ds.variables and 'forecast_reference_time' in ds.variables\n"
      "assert ds.attrs['featureType'] == 'timeSeries'\n"
      "assert ds.station.attrs['cf_role'] == 'timeseries_id'\n"
      "assert ds.t2m.dims == ('time', 'realization', 'station'), ds.t2m.dims\n"
      "assert list(ds.percentile.values) == [10, 50, 90]\n"
      "assert str(ds.time.values[0])[:19] == '2019-03-01T06:00:00', ds.time.values[0]\n"
      "names = ds.station.attrs['site_names'].split('\\n')\n"
      "assert names == ['London', 'Edinburgh', 'Belfast, NI'], names\n"
      "p = numpy.percentile(ds.t2m.values, [10, 50, 90], axis=1).transpose(1, 0, 2)  # (time, q, station)\n"
      "assert numpy.allclose(p, ds.t2m_percentile.values, rtol=1e-6), abs(p - ds.t2m_percentile.values).max()\n"
      "print('ok')\n";
  const auto py = write(dir / "check.py", script);
  const auto python = run_command("/usr/bin/python3 -W error " + py);
  INFO(python.out);
  REQUIRE(python.code == 0);
  CHECK_THAT(python.out, Contains("ok"));

  SECTION("one member, members only") {
    write_sites_netcdf(sample_series(1), path, o);
    const auto one = run_command("ncdump -h " + path);
    REQUIRE(one.code == 0);
    CHECK_THAT(one.out, Contains("float t2m(time, station)"));
    CHECK_THAT(one.out, !Contains("percentile"));
    SiteWriteOptions none;
    none.write_members = false;
    CHECK_THROWS_AS(write_sites_netcdf(sample_series(1), path, none), ConfigError);
  }
  SECTION("bad sizes and bad paths") {
    auto broken = sample_series(3);
    broken.products[1].values.pop_back();
    CHECK_THROWS_WITH(write_sites_netcdf(broken, path), Contains("'wind_cf'") && Contains("expected 45"));
    CHECK_THROWS_AS(write_sites_netcdf(sample_series(3), (dir / "no/such/dir.nc").string()), InputError);
  }
  fs::remove_all(dir);
}

TEST_CASE("sites CSV percentiles equal numpy's linear percentiles") {
  const auto dir = gale::test::scratch_dir("test-sites-csvout");
  const auto path = (dir / "sites.csv").string();
  const auto series = sample_series(11);
  SiteWriteOptions o;
  o.percentiles = {5, 10, 33.3, 50, 90, 100};
  write_sites_csv(series, path, o);
  CHECK(fs::exists(path + ".sha256"));
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  CHECK(line == "site,variable,valid_time,lead_hours,p5,p10,p33.3,p50,p90,p100");
  const std::size_t nt = series.valid_times.size(), nm = series.members;
  std::size_t rows = 0;
  std::map<std::string, std::size_t> site_index{{"London", 0}, {"Edinburgh", 1}, {"\"Belfast, NI\"", 2}};
  while (std::getline(in, line)) {
    // A quoted name holds a comma: re-join it before splitting the numbers.
    auto f = split(line);
    if (f[0].front() == '"') f[0] += "," + f[1], f.erase(f.begin() + 1);
    REQUIRE(f.size() == 10);
    const auto s = site_index.at(f[0]);
    const auto& product = f[1] == "t2m" ? series.products[0] : series.products[1];
    const double lead = std::stod(f[3]);
    const auto t = std::size_t(lead / 6) - 1;
    CHECK(f[2] == iso8601(series.valid_times[t]));
    std::vector<double> members;
    for (std::size_t m = 0; m < nm; ++m) members.push_back(product.values[(s * nm + m) * nt + t]);
    for (std::size_t k = 0; k < o.percentiles.size(); ++k) {
      const double expected = numpy_percentile(members, o.percentiles[k]);
      INFO(line << " p" << o.percentiles[k]);
      CHECK(std::abs(std::stod(f[4 + k]) - expected) <= 1e-5 * std::max(1.0, std::abs(expected)));
    }
    ++rows;
  }
  CHECK(rows == 3 * 2 * nt);
  fs::remove_all(dir);
}

// --- real data ---------------------------------------------------------------------------

TEST_CASE("ERA5 March 2019: daily degree days at UK sites") {
  GALE_REQUIRE_DATA();
  auto reader = make_grib_reader(gale::test::data_file("era5-2mt-2019-03-uk.grib"));
  const auto& headers = reader->headers();
  REQUIRE(headers.size() == 744);
  std::vector<std::size_t> all(headers.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<std::vector<float>> fields(headers.size());
  std::vector<TimePoint> times(headers.size());
  std::shared_ptr<const Grid> grid;
  reader->read(all, [&](const FieldHeader& h, const float* v) {
    fields[h.index].assign(v, v + h.grid->size());
    times[h.index] = h.valid_time;
    grid = h.grid;
  });
  REQUIRE(std::is_sorted(times.begin(), times.end()));

  // Two sites on grid points (London 51.5N 0.25W, Edinburgh 56N 3.25W), one between
  // points (Manchester 53.48N 2.24W).
  const std::vector<Site> sites{{"London", 51.5, -0.25, 1}, {"Edinburgh", 56.0, -3.25, 1}, {"Manchester", 53.48, -2.24, 1}};
  const auto w = site_weights(*grid, sites);
  std::vector<std::vector<float>> series(times.size());
  std::vector<const float*> at_sites;
  for (std::size_t k = 0; k < times.size(); ++k) {
    series[k] = interpolate_to_sites(w, fields[k].data());
    at_sites.push_back(series[k].data());
  }
  const auto dd = daily_degree_days(at_sites, times, sites.size());
  REQUIRE(dd.days.size() == 31);
  CHECK(std::all_of(dd.complete.begin(), dd.complete.end(), [](bool c) { return c; }));
  CHECK(dd.days.front() == parse_iso8601("2019-03-01"));

  // Independently: grid values looked up by coordinates, bilinear by hand, max/min per day.
  const auto index_of = [&](double lat, double lon) {
    const double l = lon < 0 ? lon + 360 : lon;
    for (std::size_t p = 0; p < grid->size(); ++p)
      if (std::abs(grid->lat()[p] - lat) < 1e-6 && std::abs(grid->lon()[p] - l) < 1e-6) return p;
    FAIL("no grid point " << lat << "," << lon);
    return std::size_t(0);
  };
  const auto value = [&](std::size_t k, std::size_t site) -> double {
    const auto& f = fields[k];
    if (site == 0) return f[index_of(51.5, -0.25)];
    if (site == 1) return f[index_of(56.0, -3.25)];
    // Manchester between 53.5/53.25 N and 2.25/2.0 W.
    const double wy = (53.5 - 53.48) / 0.25, wx = (-2.24 - -2.25) / 0.25;
    const double n = (1 - wx) * f[index_of(53.5, -2.25)] + wx * f[index_of(53.5, -2.0)];
    const double s = (1 - wx) * f[index_of(53.25, -2.25)] + wx * f[index_of(53.25, -2.0)];
    return (1 - wy) * n + wy * s;
  };
  double total_hdd_london = 0;
  for (std::size_t day = 0; day < 31; ++day)
    for (std::size_t site = 0; site < sites.size(); ++site) {
      double tmax = -1e9, tmin = 1e9;
      for (std::size_t h = 0; h < 24; ++h) {
        const double t = value(day * 24 + h, site);
        tmax = std::max(tmax, t), tmin = std::min(tmin, t);
      }
      const double mean = (tmax + tmin) / 2;
      INFO("day " << day + 1 << " " << sites[site].name);
      CHECK(dd.hdd[day][site] == Approx(std::max(0.0, 291.15 - mean)).margin(1e-3));
      CHECK(dd.cdd[day][site] == Approx(std::max(0.0, mean - 291.15)).margin(1e-3));
      if (site == 0) total_hdd_london += dd.hdd[day][site];
    }
  // March in London: every day needs heating (daily means 5..12 C), about 250 HDD.
  CHECK(total_hdd_london > 150);
  CHECK(total_hdd_london < 400);
}
