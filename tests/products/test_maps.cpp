#include <cairo.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <map>
#include <set>
#include <tuple>

#include "../data.hpp"
#include "core/errors.hpp"
#include "tests/png_checks.hpp"
#include "tests/scratch_dir.hpp"
#include "core/grid.hpp"
#include "ingest/grib_reader.hpp"
#include "products/maps.hpp"

using namespace gale;

namespace {
namespace fs = std::filesystem;

using gale::test::Png;

std::array<int, 3> to255(const std::array<double, 3>& c) {
  return {int(std::lround(c[0] * 255)), int(std::lround(c[1] * 255)), int(std::lround(c[2] * 255))};
}
int distance(const std::array<int, 3>& a, const std::array<int, 3>& b) {
  return std::max({std::abs(a[0] - b[0]), std::abs(a[1] - b[1]), std::abs(a[2] - b[2])});
}
// The coastline is near-black; no colour scale, background or graticule pixel is this dark.
bool coast_dark(const std::array<int, 3>& c) { return c[0] < 110 && c[1] < 110 && c[2] < 110; }

// The pixel containing (lat, lon).
std::array<int, 3> pixel_at(const Png& png, const MapLayout& L, double lat, double lon) {
  return png.rgb(int(std::floor(L.x(lon))), int(std::floor(L.y(lat))));
}

std::vector<double> range(double first, double last, double step) {
  std::vector<double> v;
  const int n = int(std::lround((last - first) / step)) + 1;
  for (int i = 0; i < n; ++i) v.push_back(first + i * step);
  return v;
}

std::shared_ptr<const Grid> one_degree() {
  return Grid::regular(GridKind::regular_ll, range(90, -90, -1), range(0, 359, 1));
}

std::vector<float> latitudes(const Grid& g) { return std::vector<float>(g.lat().begin(), g.lat().end()); }

bool no_temporaries(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return false;
  return true;
}
}  // namespace

TEST_CASE("colour scales and ranges") {
  const float v[] = {0.0f, 0.05f, 0.3f, NAN};
  MapStyle prob;
  prob.scale = ColourScale::probability;
  prob.min = -5;  // ignored: probability is always 0..1
  CHECK(map_range(prob, v, 4) == std::pair<double, double>{0.0, 1.0});
  CHECK(to255(map_colour(ColourScale::probability, 0, 1, 0.0)) == std::array<int, 3>{255, 255, 255});
  CHECK(to255(map_colour(ColourScale::probability, 0, 1, 0.09)) == std::array<int, 3>{255, 255, 255});
  // Discrete steps of 0.1: constant inside a bin, different across bins.
  CHECK(map_colour(ColourScale::probability, 0, 1, 0.31) == map_colour(ColourScale::probability, 0, 1, 0.39));
  CHECK(map_colour(ColourScale::probability, 0, 1, 0.39) != map_colour(ColourScale::probability, 0, 1, 0.41));
  CHECK(map_colour(ColourScale::probability, 0, 1, 1.0) == map_colour(ColourScale::probability, 0, 1, 0.95));
  std::set<std::array<int, 3>> bins;
  for (int k = 0; k < 10; ++k) bins.insert(to255(map_colour(ColourScale::probability, 0, 1, k / 10.0 + 0.05)));
  CHECK(bins.size() == 10);

  // Diverging: white-ish at 0, symmetric automatic range; spread starts at 0.
  const auto mid = to255(map_colour(ColourScale::diverging, -1, 1, 0));
  CHECK(std::min({mid[0], mid[1], mid[2]}) > 235);
  const auto neg = to255(map_colour(ColourScale::diverging, -1, 1, -0.8)), pos = to255(map_colour(ColourScale::diverging, -1, 1, 0.8));
  CHECK(neg[2] > neg[0] + 60);  // blue
  CHECK(pos[0] > pos[2] + 60);  // red
  std::vector<float> anomalies(1000);
  for (int i = 0; i < 1000; ++i) anomalies[std::size_t(i)] = float(-0.5 + 3.0 * i / 999);  // -0.5 .. 2.5
  MapStyle div;
  div.scale = ColourScale::diverging;
  const auto [dlo, dhi] = map_range(div, anomalies.data(), anomalies.size());
  CHECK(dlo == Approx(-dhi));
  CHECK(dhi == Approx(2.47).margin(0.02));  // robust: the 99th percentile, not the maximum
  MapStyle spread;
  spread.scale = ColourScale::spread;
  std::vector<float> sd(1000);
  for (int i = 0; i < 1000; ++i) sd[std::size_t(i)] = float(2 + 0.01 * i);
  CHECK(map_range(spread, sd.data(), sd.size()).first == 0);
  // Fixed range from the style; automatic ignores NaN.
  MapStyle seq;
  seq.min = 250, seq.max = 300;
  CHECK(map_range(seq, sd.data(), sd.size()) == std::pair<double, double>{250, 300});
  const float with_nan[] = {NAN, 1, 2, 3, NAN};
  const auto [lo, hi] = map_range(MapStyle{}, with_nan, 5);
  CHECK(lo == 1);
  CHECK(hi == 3);
  // Sequential colours change monotonically in brightness (viridis).
  CHECK(to255(map_colour(ColourScale::sequential, 0, 1, 0))[1] < to255(map_colour(ColourScale::sequential, 0, 1, 1))[1]);
}

TEST_CASE("global map of a latitude field: colours at known places, coastlines where coasts are") {
  const auto dir = gale::test::scratch_dir("maps-1");
  const auto grid = one_degree();
  REQUIRE(grid->size() == 65160);
  const auto values = latitudes(*grid);
  MapStyle style;
  style.title = "latitude";
  style.subtitle = "synthetic field";
  style.units = "deg";
  style.min = -90, style.max = 90;
  const auto path = dir / "lat.png";

  const auto start = std::chrono::steady_clock::now();
  plot_map(*grid, values.data(), style, path.string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("1-degree global map took " << seconds << " s");
  CHECK(seconds < 2.0);

  REQUIRE(fs::exists(path));
  REQUIRE(fs::exists(dir / "lat.png.sha256"));
  CHECK(no_temporaries(dir));
  const auto L = map_layout(*grid, style);
  CHECK(L.lon_west == -180);
  CHECK(L.lon_east == 180);
  CHECK(L.lat_south == -90);
  CHECK(L.lat_north == 90);
  CHECK((L.x1 - L.x0) == 2 * (L.y1 - L.y0));  // plate carrée: 360 x 180 degrees
  const Png png(path);
  CHECK(png.width == L.width);
  CHECK(png.height == L.height);
  CHECK(png.width == style.width);

  // The cell containing each place is coloured by its latitude (cell centres on whole degrees).
  struct Place {
    const char* name;
    double lat, lon;
  };
  for (const Place p : {Place{"Sahara", 23, 12}, Place{"mid Pacific", -10, -160}, Place{"north Pacific", 40, 200},
                        Place{"Southern Ocean", -55, 100}, Place{"Siberia", 62, 100}}) {
    INFO(p.name);
    const auto expected = to255(map_colour(ColourScale::sequential, -90, 90, p.lat));
    CHECK(distance(pixel_at(png, L, p.lat, p.lon), expected) <= 3);
  }
  // North to south the colours differ: the map is not flipped.
  CHECK(distance(pixel_at(png, L, 50, -160), to255(map_colour(ColourScale::sequential, -90, 90, 50))) <= 3);
  CHECK(distance(pixel_at(png, L, -50, -160), to255(map_colour(ColourScale::sequential, -90, 90, -50))) <= 3);
}

TEST_CASE("coastlines: dark pixels along the Greenwich meridian, none in the open Pacific") {
  const auto dir = gale::test::scratch_dir("maps-2");
  const auto grid = one_degree();
  std::vector<float> zeros(grid->size(), 0.0f);  // probability 0 everywhere: a white field
  MapStyle style;
  style.title = "P(wind gust > 25 m/s)";
  style.scale = ColourScale::probability;
  const auto path = dir / "prob.png";
  plot_map(*grid, zeros.data(), style, path.string());
  const auto L = map_layout(*grid, style);
  const Png png(path);
  // Field pixels are white (probability 0 < 0.1), away from coasts and graticule lines.
  CHECK(pixel_at(png, L, -20, -140) == std::array<int, 3>{255, 255, 255});

  const int x = int(std::floor(L.x(0.3)));  // just east of the Greenwich meridian (graticule line)
  auto dark_between = [&](double lat_north, double lat_south, int x0, int x1) {
    return png.count(x0, int(std::floor(L.y(lat_north))), x1, int(std::floor(L.y(lat_south))), coast_dark);
  };
  // English Channel (50.8N England, 49.3N France), the Mediterranean (Spain 39.9N, Algeria
  // 35.8N), the Gulf of Guinea (Ghana 5.6N), Antarctica (~69S).
  CHECK(dark_between(52, 48, x - 2, x + 3) > 0);
  CHECK(dark_between(41, 34, x - 2, x + 3) > 0);
  CHECK(dark_between(8, 3, x - 2, x + 3) > 0);
  CHECK(dark_between(-65, -75, x - 2, x + 3) > 0);
  // Open ocean between Hawaii and the Aleutians; and the open South Atlantic.
  CHECK(png.count(int(L.x(-175)), int(L.y(45)), int(L.x(-162)), int(L.y(25)), coast_dark) == 0);
  CHECK(png.count(int(L.x(-25)), int(L.y(-10)), int(L.x(-15)), int(L.y(-30)), coast_dark) == 0);
  // The whole map has coastline pixels, but they are a small part of it.
  const int coast = png.count(L.x0 + 2, L.y0 + 2, L.x1 - 2, L.y1 - 2, coast_dark);
  CHECK(coast > 2000);
  CHECK(coast < (L.x1 - L.x0) * (L.y1 - L.y0) / 10);
  // The colour bar shows the ten probability steps.
  std::set<std::array<int, 3>> bar;
  const int by = L.y1 + 36 + 8;
  for (int bx = 0; bx < png.width; ++bx) bar.insert(png.rgb(bx, by));
  for (int k = 1; k < 10; ++k) {
    INFO("bin " << k);
    CHECK(bar.count(to255(map_colour(ColourScale::probability, 0, 1, k / 10.0 + 0.05))) == 1);
  }
}

TEST_CASE("NaN cells show the background, not a field colour") {
  const auto dir = gale::test::scratch_dir("maps-3");
  const auto grid = one_degree();
  auto values = latitudes(*grid);
  for (std::size_t p = 0; p < grid->size(); ++p)
    if (grid->lat()[p] > -30 && grid->lat()[p] < 0) values[p] = NAN;
  MapStyle style;
  style.min = -90, style.max = 90;
  plot_map(*grid, values.data(), style, (dir / "nan.png").string());
  const auto L = map_layout(*grid, style);
  const Png png(dir / "nan.png");
  const auto c = pixel_at(png, L, -15, -130);  // open Pacific: the sea grey
  CHECK(distance(c, to255(map_colour(ColourScale::sequential, -90, 90, NAN))) <= 2);
  CHECK(c[0] == c[1]);
  CHECK(c[1] == c[2]);
  CHECK(distance(pixel_at(png, L, 15, -130), to255(map_colour(ColourScale::sequential, -90, 90, 15))) <= 3);
}

TEST_CASE("reduced Gaussian grids and meshes draw as nearest-point rasters") {
  const auto dir = gale::test::scratch_dir("maps-4");
  MapStyle style;
  style.min = -90, style.max = 90;
  SECTION("reduced Gaussian") {
    std::vector<double> rows;
    std::vector<long> pl;
    for (double lat = 89; lat >= -89; lat -= 2) {
      rows.push_back(lat);
      pl.push_back(std::max(8L, long(std::lround(180 * std::cos(lat * M_PI / 180)))));
    }
    const auto grid = Grid::reduced_gaussian(rows, pl);
    const auto values = latitudes(*grid);
    plot_map(*grid, values.data(), style, (dir / "reduced.png").string());
    const auto L = map_layout(*grid, style);
    CHECK(L.lon_east - L.lon_west == 360);
    const Png png(dir / "reduced.png");
    for (double lat : {23.0, -45.0, 61.0})
      CHECK(distance(pixel_at(png, L, lat, -150), to255(map_colour(ColourScale::sequential, -90, 90, lat))) <= 3);
  }
  SECTION("mesh of 65k points, well under a second") {
    // Fibonacci sphere: quasi-uniform points, lon in [0, 360).
    const std::size_t n = 65536;
    std::vector<double> lat(n), lon(n);
    const double golden = M_PI * (3 - std::sqrt(5.0));
    for (std::size_t i = 0; i < n; ++i) {
      lat[i] = std::asin(1 - 2 * (i + 0.5) / double(n)) * 180 / M_PI;
      lon[i] = std::fmod(double(i) * golden * 180 / M_PI, 360.0);
    }
    const auto grid = Grid::points(GridKind::mesh, lat, lon);
    const auto values = latitudes(*grid);
    const auto start = std::chrono::steady_clock::now();
    plot_map(*grid, values.data(), style, (dir / "mesh.png").string());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO("65k-point mesh map took " << seconds << " s");
    CHECK(seconds < 2.0);
    const auto L = map_layout(*grid, style);
    CHECK(L.lon_east - L.lon_west == 360);
    CHECK(L.lat_north - L.lat_south == 180);
    const Png png(dir / "mesh.png");
    // Point spacing ~0.8 degrees: the nearest point's latitude is within ~1 degree.
    for (double lat : {23.0, -45.0, 61.0}) {
      INFO(lat);
      CHECK(distance(pixel_at(png, L, lat, -150), to255(map_colour(ColourScale::sequential, -90, 90, lat))) <= 8);
    }
    // Every pixel of the map is drawn (no holes): no sea-grey pixels in the tropics.
    const auto grey = to255(map_colour(ColourScale::sequential, -90, 90, NAN));
    CHECK(png.count(int(L.x(-170)), int(L.y(20)), int(L.x(-120)), int(L.y(-20)),
                    [&](auto c) { return c == grey; }) == 0);
  }
}

TEST_CASE("longitudes are not mirrored on regular, reduced Gaussian and mesh grids") {
  const auto dir = gale::test::scratch_dir("maps-5");
  MapStyle style;
  style.min = 0, style.max = 360;
  std::vector<double> rows;
  std::vector<long> pl;
  for (double lat = 89; lat >= -89; lat -= 2) {
    rows.push_back(lat);
    pl.push_back(std::max(8L, long(std::lround(180 * std::cos(lat * M_PI / 180)))));
  }
  std::vector<double> lat(20000), lon(20000);
  for (std::size_t i = 0; i < lat.size(); ++i) {
    lat[i] = std::asin(1 - 2 * (i + 0.5) / double(lat.size())) * 180 / M_PI;
    lon[i] = std::fmod(double(i) * M_PI * (3 - std::sqrt(5.0)) * 180 / M_PI, 360.0);
  }
  for (const auto& grid : {one_degree(), Grid::reduced_gaussian(rows, pl), Grid::points(GridKind::mesh, lat, lon)}) {
    INFO(grid->describe());
    std::vector<float> values(grid->lon().begin(), grid->lon().end());
    plot_map(*grid, values.data(), style, (dir / "lon.png").string());
    const auto L = map_layout(*grid, style);
    const Png png(dir / "lon.png");
    // (lat, lon as plotted, the value there in [0, 360))
    for (const auto& [la, lo, v] : {std::tuple{23.0, 12.3, 12.3}, std::tuple{-10.0, -160.3, 199.7},
                                     std::tuple{45.0, 100.3, 100.3}, std::tuple{-40.0, -60.3, 299.7}}) {
      INFO(la << " " << lo);
      CHECK(distance(pixel_at(png, L, la, lo), to255(map_colour(ColourScale::sequential, 0, 360, v))) <= 6);
    }
  }
}

TEST_CASE("boxes: crossing 0 degrees and centred on the Pacific") {
  const auto dir = gale::test::scratch_dir("maps-6");
  const auto grid = one_degree();
  const auto values = latitudes(*grid);
  MapStyle style;
  style.min = -90, style.max = 90;
  SECTION("Europe, given as 350..40 (crosses 0)") {
    style.box = MapBox{30, 72, 350, 40};
    const auto L = map_layout(*grid, style);
    CHECK(L.lon_west == -10);
    CHECK(L.lon_east == 40);
    style.box = MapBox{30, 72, -10, 40};
    const auto L2 = map_layout(*grid, style);
    CHECK(L2.lon_west == -10);
    CHECK(L2.lon_east == 40);
    plot_map(*grid, values.data(), style, (dir / "europe.png").string());
    const Png png(dir / "europe.png");
    CHECK(png.width == L.width);
    CHECK(png.height == L.height);
    // The Bay of Biscay's 45N cell west of France, and the west of the box (grid lon 352).
    CHECK(distance(pixel_at(png, L, 45, -5), to255(map_colour(ColourScale::sequential, -90, 90, 45))) <= 3);
    CHECK(distance(pixel_at(png, L, 42, -9.7), to255(map_colour(ColourScale::sequential, -90, 90, 42))) <= 3);
    // The English Channel is crossed at 0.3E.
    const int x = int(std::floor(L.x(0.3)));
    CHECK(png.count(x - 2, int(L.y(52)), x + 3, int(L.y(48)), coast_dark) > 0);
  }
  SECTION("Pacific-centred 120E..60W") {
    style.box = MapBox{-60, 60, 120, -60};
    const auto L = map_layout(*grid, style);
    CHECK(L.lon_west == 120);
    CHECK(L.lon_east == 300);
    plot_map(*grid, values.data(), style, (dir / "pacific.png").string());
    const Png png(dir / "pacific.png");
    CHECK(distance(pixel_at(png, L, -10, 185), to255(map_colour(ColourScale::sequential, -90, 90, -10))) <= 3);
    CHECK(distance(pixel_at(png, L, 20, -140), to255(map_colour(ColourScale::sequential, -90, 90, 20))) <= 3);
    // 150W is in the middle of the map; the dateline a third of the way.
    CHECK(L.x(-150) == Approx((L.x0 + L.x1) / 2.0));
    CHECK(L.x(180) == Approx(L.x0 + (L.x1 - L.x0) / 3.0));
  }
  SECTION("invalid boxes are rejected") {
    style.box = MapBox{60, 30, 0, 10};
    CHECK_THROWS_AS(plot_map(*grid, values.data(), style, (dir / "bad.png").string()), ConfigError);
    CHECK_FALSE(fs::exists(dir / "bad.png"));
  }
}

TEST_CASE("ERA5 UK 2 m temperature: a regional map on its own extent, with coastlines") {
  GALE_REQUIRE_DATA();
  const auto dir = gale::test::scratch_dir("maps-7");
  auto reader = make_grib_reader(gale::test::data_file("era5-2mt-2019-03-uk.grib"));
  const auto& h = reader->headers()[12];
  std::vector<float> values;
  reader->read({12}, [&](const FieldHeader&, const float* v) { values.assign(v, v + h.grid->size()); });
  const auto& grid = *h.grid;
  MapStyle style;
  style.title = "2 m temperature";
  style.subtitle = iso8601(h.valid_time);
  style.units = "K";
  const auto L = map_layout(grid, style);
  // 10W..2E and 50N..58N at 0.25 degrees, plus half a cell.
  CHECK(L.lon_west == Approx(-10.125));
  CHECK(L.lon_east == Approx(2.125));
  CHECK(L.lat_south == Approx(49.875));
  CHECK(L.lat_north == Approx(58.125));
  const auto path = dir / "uk.png";
  plot_map(grid, values.data(), style, path.string());
  const Png png(path);
  CHECK(png.width == L.width);
  CHECK(png.height == L.height);
  // Coastlines (50m) inside the box: the pixels much darker than in the same map drawn
  // without coastlines (the field's own colours can be dark).
  MapStyle bare = style;
  bare.coastline_resolution = "none";
  plot_map(grid, values.data(), bare, (dir / "uk-bare.png").string());
  const Png without(dir / "uk-bare.png");
  REQUIRE(without.width == png.width);
  REQUIRE(without.height == png.height);
  auto coast_pixels = [&](int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        const auto a = png.rgb(x, y), b = without.rgb(x, y);
        n += (b[0] + b[1] + b[2]) - (a[0] + a[1] + a[2]) > 120;
      }
    return n;
  };
  CHECK(coast_pixels(L.x0, L.y0, L.x1, L.y1) > 2000);
  // Across the Irish Sea at 53.5N: the Irish, Welsh/English coasts; none over the sea
  // south-west of Ireland (50.5N..51N, 10W..8W).
  CHECK(coast_pixels(L.x0, int(L.y(53.6)), L.x1, int(L.y(53.4))) > 0);
  CHECK(coast_pixels(int(L.x(-10)), int(L.y(51)), int(L.x(-8)), int(L.y(50.5))) == 0);
  // Inland England (52.5N 1.5W), the sea south-west of Ireland (50.5N 9W) and the North
  // Sea (56.5N 1.5E, a grid longitude < 10 after the 0 crossing): each cell's own colour
  // on the automatic range.
  const auto [lo, hi] = map_range(style, values.data(), values.size());
  CHECK(hi > lo);
  for (const auto& [lat, lon] : {std::pair{52.5, -1.5}, std::pair{50.5, -9.0}, std::pair{56.5, 1.5}}) {
    INFO(lat << " " << lon);
    std::size_t point = grid.size();
    for (std::size_t p = 0; p < grid.size(); ++p)
      if (std::abs(grid.lat()[p] - lat) < 1e-6 && std::abs(grid.lon()[p] - std::fmod(lon + 360, 360)) < 1e-6) point = p;
    REQUIRE(point < grid.size());
    CHECK(distance(pixel_at(png, L, lat, lon), to255(map_colour(ColourScale::sequential, lo, hi, values[point]))) <= 3);
  }
}

TEST_CASE("site plume: member lines, P10-P90 band, median") {
  const auto dir = gale::test::scratch_dir("maps-8");
  const auto leads = range(0, 120, 6);
  std::vector<std::vector<float>> members(10);
  for (int m = 0; m < 10; ++m)
    for (double lead : leads) members[std::size_t(m)].push_back(float(280 + m * (0.3 + lead / 60.0) + std::sin(lead / 24)));
  PlumeStyle style;
  style.site = "London Heathrow";
  style.variable = "2 m temperature";
  style.units = "K";
  style.subtitle = "51.48N 0.45W";
  style.reference_time = parse_iso8601("2019-03-01T00:00:00Z");
  const auto path = dir / "plume.png";
  plot_site_plume(leads, members, style, path.string());
  REQUIRE(fs::exists(dir / "plume.png.sha256"));
  CHECK(no_temporaries(dir));
  const Png png(path);
  CHECK(png.width == style.width);
  CHECK(png.height == style.height);
  const auto band = to255(kPlumeBandColour), median = to255(kPlumeMedianColour);
  // The band: wide at long leads (members diverge), visible in a column at 3/4 of the plot.
  const int col = png.width * 3 / 5;
  CHECK(png.count(col, 0, col + 1, png.height, [&](auto c) { return distance(c, band) <= 2; }) > 40);
  CHECK(png.count(0, 0, png.width, png.height, [&](auto c) { return distance(c, median) <= 10; }) > 300);
  // Member lines in distinct colours: saturated pixels fall in at least 6 hue buckets.
  std::map<int, int> hues;
  for (int y = 0; y < png.height; ++y)
    for (int x = 0; x < png.width * 4 / 5; ++x) {
      const auto c = png.rgb(x, y);
      const int mx = std::max({c[0], c[1], c[2]}), mn = std::min({c[0], c[1], c[2]});
      if (mx - mn < 90) continue;
      double hue;
      if (mx == c[0])
        hue = std::fmod(double(c[1] - c[2]) / (mx - mn) + 6, 6.0);
      else if (mx == c[1])
        hue = double(c[2] - c[0]) / (mx - mn) + 2;
      else
        hue = double(c[0] - c[1]) / (mx - mn) + 4;
      ++hues[int(hue * 2)];  // 12 buckets of 30 degrees
    }
  int buckets = 0;
  for (const auto& [bucket, n] : hues) buckets += n > 30;
  CHECK(buckets >= 6);

  SECTION("without members or with NaN the plume still draws") {
    plot_site_plume(leads, {}, style, (dir / "empty.png").string());
    CHECK(fs::exists(dir / "empty.png"));
    members[3][5] = NAN;
    members[4].assign(leads.size(), NAN);
    plot_site_plume(leads, members, PlumeStyle{}, (dir / "nan.png").string());
    CHECK(fs::exists(dir / "nan.png"));
  }
  SECTION("a member of the wrong length is a bug") {
    members[2].pop_back();
    CHECK_THROWS_AS(plot_site_plume(leads, members, style, (dir / "bad.png").string()), InternalError);
    CHECK_FALSE(fs::exists(dir / "bad.png"));
  }
}

TEST_CASE("errors: a missing shapefile directory and an unwritable path name the path, leave no file") {
  const auto dir = gale::test::scratch_dir("maps-9");
  const auto grid = one_degree();
  const auto values = latitudes(*grid);
  SECTION("missing coastline directory") {
    MapStyle style;
    style.coastline_dir = (dir / "no-natural-earth").string();
    const auto path = dir / "map.png";
    try {
      plot_map(*grid, values.data(), style, path.string());
      FAIL("expected InputError");
    } catch (const InputError& e) {
      const std::string msg = e.what();
      CHECK(msg.find((dir / "no-natural-earth" / "110m" / "ne_110m_land.shp").string()) != std::string::npos);
      CHECK(msg.find("libmagics++-data") != std::string::npos);
    }
    CHECK_FALSE(fs::exists(path));
    // Without coastlines no shapefile is needed.
    style.coastline_resolution = "none";
    plot_map(*grid, values.data(), style, path.string());
    CHECK(fs::exists(path));
  }
  SECTION("unwritable path") {
    const auto path = dir / "missing-subdir" / "map.png";
    try {
      plot_map(*grid, values.data(), MapStyle{}, path.string());
      FAIL("expected InputError");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
    }
    CHECK_FALSE(fs::exists(path));
    const auto plume = dir / "missing-subdir" / "plume.png";
    CHECK_THROWS_AS(plot_site_plume({0, 6}, {{1, 2}, {2, 3}}, PlumeStyle{}, plume.string()), InputError);
    CHECK_FALSE(fs::exists(plume));
    CHECK(no_temporaries(dir));
  }
}
