#include <catch2/catch.hpp>
#include <eccodes.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "../data.hpp"
#include "../scratch_dir.hpp"
#include "grids/cells.hpp"
#include "grids/gaussian.hpp"
#include "grids/regrid.hpp"
#include "ingest/field.hpp"

using namespace gale;

namespace {
std::shared_ptr<const Grid> latlon(double step, double first_lat = 90) {
  std::vector<double> lats, lons;
  for (double lat = first_lat; lat >= -90 - 1e-9; lat -= step) lats.push_back(lat);
  for (int i = 0; i < int(std::lround(360 / step)); ++i) lons.push_back(step * i);
  return Grid::regular(GridKind::regular_ll, lats, lons);
}
// A smooth field made of spherical harmonics of degree <= 2 (in Cartesian form).
double analytic(double lat, double lon) {
  const auto p = lat_lon_to_xyz(lat, lon);
  return 1 + p[0] * p[1] + 0.5 * p[2] - 0.7 * p[1] * p[2];
}
std::vector<float> sample(const Grid& g, double (*f)(double, double)) {
  std::vector<float> v(g.size());
  for (std::size_t p = 0; p < g.size(); ++p) v[p] = float(f(g.lat()[p], g.lon()[p]));
  return v;
}
double weighted_mean(const Grid& g, const std::vector<float>& v) {
  const auto w = latitude_weights(g);
  double s = 0;
  for (std::size_t p = 0; p < v.size(); ++p) s += w[p] * v[p];
  return s / double(v.size());
}
// lat-lon -> mesh (bilinear) -> lat-lon (barycentric), max abs error against the field.
double round_trip_error(int level, double step, double (*f)(double, double)) {
  const auto grid = latlon(step);
  const auto mesh = build_multimesh(level);
  const auto mesh_grid = mesh.grid();
  const auto to_mesh = bilinear_weights(*grid, mesh_grid->lat(), mesh_grid->lon());
  const auto back = barycentric_weights(locate_in_mesh(mesh, grid_points_xyz(*grid)), mesh.nodes());
  std::vector<float> on_mesh, out;
  const auto in = sample(*grid, f);
  to_mesh.apply(in, on_mesh);
  back.apply(on_mesh, out);
  double err = 0;
  for (std::size_t p = 0; p < out.size(); ++p) err = std::max(err, std::abs(double(out[p]) - in[p]));
  return err;
}
}  // namespace

TEST_CASE("a constant stays constant through lat-lon -> mesh -> lat-lon (1e-6)") {
  CHECK(round_trip_error(3, 5, [](double, double) { return 287.5; }) < 287.5 * 1e-6);
}

TEST_CASE("smooth field round trip: error is small and shrinks with resolution") {
  // Documented tolerances (field amplitude ~1.6; measured 1.08e-2, 2.75e-3, 7.2e-4):
  // M3/5 deg < 1.5e-2, M4/2.5 deg < 4e-3, M5/1.25 deg < 1e-3 -- second-order
  // interpolation, ~4x smaller per refinement.
  const double e3 = round_trip_error(3, 5, analytic);
  const double e4 = round_trip_error(4, 2.5, analytic);
  const double e5 = round_trip_error(5, 1.25, analytic);
  INFO("errors " << e3 << " " << e4 << " " << e5);
  CHECK(e3 < 1.5e-2);
  CHECK(e4 < 4e-3);
  CHECK(e5 < 1e-3);
  CHECK(e4 < e3 / 3);
  CHECK(e5 < e4 / 3);
}

TEST_CASE("conservative coarsening keeps the area-weighted global mean (1e-6 relative)") {
  const auto fine = latlon(0.25);
  const auto field = sample(*fine, [](double lat, double lon) {
    return 250 + 30 * std::cos(lat * kDegToRad) + 5 * std::sin(3 * lon * kDegToRad) * std::cos(lat * kDegToRad);
  });
  const double mean_fine = weighted_mean(*fine, field);
  for (const auto& coarse : {latlon(1.5), latlon(5.625, 87.1875), latlon(2.8125, 88.59375)}) {
    const auto w = conservative_weights(*fine, *coarse);
    std::vector<float> out;
    w.apply(field, out);
    INFO(coarse->describe());
    CHECK(weighted_mean(*coarse, out) == Approx(mean_fine).epsilon(1e-6));
    // Each target is an average: within the source range.
    CHECK(*std::min_element(out.begin(), out.end()) >= 220.0f - 1e-3f);
  }
}

TEST_CASE("a reduced grid whose rows all have the same length equals the regular path") {
  const auto g = gaussian_latitudes(16);
  std::vector<double> lons;
  for (int i = 0; i < 64; ++i) lons.push_back(360.0 * i / 64);
  const auto regular = Grid::regular(GridKind::regular_gaussian, g.latitudes_deg, lons);
  const auto reduced = Grid::reduced_gaussian(g.latitudes_deg, std::vector<long>(32, 64));
  const auto mesh = build_multimesh(3).grid();
  const auto a = bilinear_weights(*regular, mesh->lat(), mesh->lon());
  const auto b = bilinear_weights(*reduced, mesh->lat(), mesh->lon());
  std::vector<float> out_a, out_b;
  a.apply(sample(*regular, analytic), out_a);
  b.apply(sample(*reduced, analytic), out_b);
  CHECK(out_a == out_b);
}

TEST_CASE("real O32 reduced Gaussian data regrids to the mesh within its range") {
  GALE_REQUIRE_DATA();
  const auto reader = open_reader(gale::test::data_file("O32_global.grib2"));
  const auto& h = reader->headers()[0];
  std::vector<float> values;
  reader->read({0}, [&](const FieldHeader&, const float* v) { values.assign(v, v + h.grid->size()); });
  const auto mesh = build_multimesh(4).grid();
  const auto w = bilinear_weights(*h.grid, mesh->lat(), mesh->lon());
  std::vector<float> out;
  w.apply(values, out);
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  for (float v : out) REQUIRE((v >= *lo - 1e-3f && v <= *hi + 1e-3f));
  // And the analytic field on the O32 grid interpolates to within 1e-2 of the truth.
  w.apply(sample(*h.grid, analytic), out);
  for (std::size_t p = 0; p < out.size(); ++p)
    REQUIRE(std::abs(out[p] - analytic(mesh->lat()[p], mesh->lon()[p])) < 1e-2);
}

TEST_CASE("regional sources are refused for the global mesh") {
  const auto uk = Grid::regular(GridKind::regular_ll, {58, 57.75}, {0, 0.25, 359.75});
  REQUIRE_THROWS_WITH(bilinear_weights(*uk, {0}, {0}), Catch::Contains("global structured source"));
}

TEST_CASE("weights are cached on disk and rebuilt when the file is damaged") {
  const auto dir = gale::test::scratch_root() / "regrid-cache";
  std::filesystem::remove_all(dir);
  RegridCache cache(dir.string());
  const auto src = latlon(10), dst = latlon(30);
  int builds = 0;
  auto build = [&] {
    ++builds;
    return conservative_weights(*src, *dst);
  };
  const auto first = cache.get("conservative", *src, *dst, "", build);
  CHECK_FALSE(cache.last_was_hit());
  const auto second = cache.get("conservative", *src, *dst, "", build);
  CHECK(cache.last_was_hit());
  CHECK(builds == 1);
  CHECK(second.weight == first.weight);
  CHECK(second.col == first.col);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::filesystem::resize_file(entry.path(), std::filesystem::file_size(entry.path()) / 2);
  }
  const auto third = cache.get("conservative", *src, *dst, "", build);
  CHECK_FALSE(cache.last_was_hit());
  CHECK(builds == 2);
  CHECK(third.weight == first.weight);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the south->north sample and its north->south copy regrid identically") {
  GALE_REQUIRE_DATA();
  const auto sn_path = gale::test::data_file("ll_sn_scanning_mode.grib");
  const auto ns_path = (gale::test::scratch_root() / "ns.grib").string();
  {
    std::ifstream in(sn_path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    codes_handle* h = codes_handle_new_from_message_copy(nullptr, bytes.data(), bytes.size());
    REQUIRE(h);
    codes_set_long(h, "swapScanningY", 1);  // reorders the values, not just the flag
    codes_write_message(h, ns_path.c_str(), "w");
    codes_handle_delete(h);
  }
  auto regrid = [](const std::string& path) {
    const auto reader = open_reader(path);
    const auto& h = reader->headers()[0];
    std::vector<float> values, out;
    reader->read({0}, [&](const FieldHeader&, const float* v) { values.assign(v, v + h.grid->size()); });
    const auto mesh = build_multimesh(4).grid();
    bilinear_weights(*h.grid, mesh->lat(), mesh->lon()).apply(values, out);
    return out;
  };
  const auto a = regrid(sn_path), b = regrid(ns_path);
  CHECK(a == b);
  // Regular 5 deg grid including both poles: the mesh values stay inside the field's range.
  CHECK(*std::min_element(a.begin(), a.end()) > 200.0f);
  std::filesystem::remove(ns_path);
}
