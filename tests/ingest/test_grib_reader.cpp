#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "../data.hpp"
#include "core/errors.hpp"
#include "grib_fixtures.hpp"
#include "ingest/field.hpp"
#include "ingest/grib_reader.hpp"

using namespace gale;
using namespace gale::test;

namespace {
std::vector<float> read_field(const Reader& r, std::size_t index) {
  std::vector<float> out;
  r.read({index}, [&](const FieldHeader& h, const float* v) { out.assign(v, v + h.grid->size()); });
  return out;
}
float value_at(const FieldHeader& h, const std::vector<float>& values, double lat, double lon) {
  for (std::size_t p = 0; p < h.grid->size(); ++p)
    if (std::abs(h.grid->lat()[p] - lat) < 1e-9 && std::abs(h.grid->lon()[p] - lon) < 1e-9) return values[p];
  FAIL("no grid point at " << lat << "," << lon);
  return NAN;
}
std::vector<double> range(double first, double last, double step) {
  std::vector<double> v;
  const int n = int(std::lround((last - first) / step)) + 1;
  for (int i = 0; i < n; ++i) v.push_back(first + i * step);
  return v;
}
}  // namespace

TEST_CASE("every scanning mode gives the same canonical field") {
  const auto dir = gale::test::scratch_dir("grib-scan");
  const auto north_south = range(60, -60, -30), south_north = range(-60, 60, 30);
  const auto east = range(0, 330, 30), west = range(330, 0, -30), dateline = range(-180, 150, 30);
  std::unique_ptr<Reader> reference;
  std::vector<float> reference_values;
  int n = 0;
  for (const auto* lats : {&north_south, &south_north})
    for (const auto* lons : {&east, &west, &dateline})
      for (bool consecutive : {false, true}) {
        const auto file = write_file(dir / ("f" + std::to_string(n++) + ".grib2"),
                                     grib_message({*lats, *lons, consecutive}));
        auto reader = make_grib_reader(file);
        REQUIRE(reader->headers().size() == 1);
        const auto& h = reader->headers()[0];
        const auto values = read_field(*reader, 0);
        // Canonical: latitudes north -> south, longitudes ascending in [0, 360).
        CHECK(h.grid->row_latitudes().front() == 60);
        CHECK(h.grid->row_latitudes().back() == -60);
        CHECK(h.grid->longitudes().front() == 0);
        CHECK(h.grid->longitudes().back() == 330);
        // Values are exact (IEEE packing): the analytic field at each canonical point.
        for (std::size_t p = 0; p < values.size(); ++p) {
          const double lon = h.grid->lon()[p];
          const double lon_written = (lons == &dateline && lon >= 180) ? lon - 360 : lon;
          REQUIRE(values[p] == float(analytic(h.grid->lat()[p], lon_written)));
        }
        if (!reference) {
          reference = std::move(reader);
          continue;
        }
        CHECK(h.grid->same_as(*reference->headers()[0].grid));
      }
  std::filesystem::remove_all(dir);
}

TEST_CASE("ERA5 ensemble: 10 members, 4 times, z and t at 500 and 850 hPa") {
  GALE_REQUIRE_DATA();
  auto r = make_grib_reader(data_file("era5-levels-members.grib"));
  const auto& headers = r->headers();
  REQUIRE(headers.size() == 160);
  std::set<int> members;
  std::set<TimePoint> times;
  std::set<std::string> keys;
  for (const auto& h : headers) {
    REQUIRE(h.variable);
    members.insert(h.member);
    times.insert(h.valid_time);
    keys.insert(h.variable->key());
  }
  CHECK(members.size() == 10);
  CHECK(*members.rbegin() == 9);
  CHECK(times.size() == 4);
  CHECK(iso8601(*times.rbegin()) == "2017-01-02T12:00:00Z");
  CHECK(keys == std::set<std::string>{"z500", "z850", "t500", "t850"});
  const auto& first = headers[0];
  CHECK(first.grid->describe() == "regular_ll 120x61, 3 deg, lat 90..-90, lon 0..357");
  // Golden values from `grib_get_data` (ecCodes' own decoder), float32 tolerance.
  const auto z = read_field(*r, 0);
  CHECK(value_at(first, z, 90, 0) == Approx(51169.703125).epsilon(1e-7));
  CHECK(value_at(first, z, 0, 180) == Approx(57444.203125).epsilon(1e-7));
  CHECK(value_at(first, z, -90, 357) == Approx(50866.453125).epsilon(1e-7));
  const auto& last = headers[159];
  CHECK(last.variable->key() == "t850");
  CHECK(last.member == 9);
  CHECK(value_at(last, read_field(*r, 159), 45, 9) == Approx(273.53501892).epsilon(1e-7));
}

TEST_CASE("ERA5 UK 2 m temperature: 744 hourly steps on a regional grid") {
  GALE_REQUIRE_DATA();
  auto r = make_grib_reader(data_file("era5-2mt-2019-03-uk.grib"));
  const auto& headers = r->headers();
  REQUIRE(headers.size() == 744);
  for (std::size_t i = 1; i < headers.size(); ++i)
    REQUIRE(headers[i].valid_time - headers[i - 1].valid_time == std::chrono::hours(1));
  CHECK(iso8601(headers.back().valid_time) == "2019-03-31T23:00:00Z");
  const auto& grid = *headers[0].grid;
  CHECK(grid.size() == 49 * 33);
  CHECK_FALSE(grid.global_in_longitude());
  // -10..2 E becomes 0..2 then 350..359.75, ascending.
  CHECK(grid.longitudes().front() == 0);
  CHECK(grid.longitudes().back() == 359.75);
  CHECK(grid.row_latitudes().front() == 58);
  CHECK(value_at(headers.back(), read_field(*r, 743), 51.5, 0) == Approx(277.99975586).epsilon(1e-7));
}

TEST_CASE("a south->north file and its north->south copy give the same field") {
  GALE_REQUIRE_DATA();
  const auto dir = gale::test::scratch_dir("grib-sn");
  const auto sn_path = data_file("ll_sn_scanning_mode.grib");
  // ecCodes' swapScanningY reorders the values, not just the flag.
  const auto bytes = read_bytes(sn_path);
  codes_handle* h = codes_handle_new_from_message_copy(nullptr, bytes.data(), bytes.size());
  REQUIRE(h);
  codes_set_long(h, "swapScanningY", 1);
  const void* msg = nullptr;
  size_t size = 0;
  codes_get_message(h, &msg, &size);
  const auto ns_path = write_file(dir / "ns.grib", std::string(static_cast<const char*>(msg), size));
  codes_handle_delete(h);

  auto sn = make_grib_reader(sn_path);
  auto ns = make_grib_reader(ns_path);
  const auto& hs = sn->headers()[0];
  CHECK(hs.variable->key() == "skt");
  REQUIRE(hs.grid->same_as(*ns->headers()[0].grid));
  const auto a = read_field(*sn, 0), b = read_field(*ns, 0);
  CHECK(a == b);
  CHECK(value_at(hs, a, 90, 0) == Approx(268.86637878).epsilon(1e-7));
  CHECK(value_at(hs, a, 50, 5) == Approx(290.86637878).epsilon(1e-7));
  CHECK(value_at(hs, a, -90, 0) == Approx(237.36637878).epsilon(1e-7));
  CHECK(hs.grid->row_latitudes().front() == 90);
  std::filesystem::remove_all(dir);
}

TEST_CASE("IFS pressure-level analysis and reduced Gaussian O32") {
  GALE_REQUIRE_DATA();
  auto pl = make_grib_reader(data_file("pl_regular_ll.grib"));
  REQUIRE(pl->headers().size() == 240);
  std::set<double> levels;
  for (const auto& h : pl->headers())
    if (h.variable) levels.insert(h.variable->level);
  CHECK(levels.size() == 6);
  CHECK(*levels.begin() == 300);
  CHECK(*levels.rbegin() == 1000);

  auto o32 = make_grib_reader(data_file("O32_global.grib2"));
  const auto& h = o32->headers()[0];
  CHECK(h.grid->kind() == GridKind::reduced_gaussian);
  CHECK(h.grid->rows() == 64);
  // Octahedral: 20 points on the row next to the pole, +4 per row towards the equator.
  CHECK(h.grid->row_offsets()[1] == 20);
  CHECK(h.grid->size() == 5248);
  CHECK(h.variable->key() == "t_ml137");
  const auto values = read_field(*o32, 0);
  for (float v : values) REQUIRE((v > 180 && v < 330));
}

TEST_CASE("bad GRIB input: one clear error naming the file and the cause") {
  GALE_REQUIRE_DATA();
  const auto dir = gale::test::scratch_dir("grib-bad");
  const auto bytes = read_bytes(data_file("era5-levels-members.grib"));

  const auto truncated = write_file(dir / "truncated.grib", bytes.substr(0, bytes.size() / 2 + 77));
  REQUIRE_THROWS_AS(make_grib_reader(truncated), InputError);
  REQUIRE_THROWS_WITH(make_grib_reader(truncated),
                      Catch::Contains(truncated) && Catch::Contains("truncated"));

  // Garbage between two messages must not be skipped silently.
  const std::size_t first_len = bytes.size() / 160;
  const auto gap = write_file(dir / "gap.grib",
                              bytes.substr(0, first_len) + "JUNKJUNK" + bytes.substr(first_len));
  REQUIRE_THROWS_WITH(make_grib_reader(gap), Catch::Contains("before message 2") &&
                                                 Catch::Contains("corrupted"));

  const auto empty = write_file(dir / "empty.grib", "");
  REQUIRE_THROWS_WITH(make_grib_reader(empty), Catch::Contains("empty file"));
  const auto text = write_file(dir / "notes.txt", "plain text, no weather here\n");
  REQUIRE_THROWS_WITH(make_grib_reader(text), Catch::Contains("not a GRIB file"));

  const auto healpix = data_file("healpix_H8.grib2");
  REQUIRE_THROWS_AS(make_grib_reader(healpix), UnsupportedError);
  REQUIRE_THROWS_WITH(make_grib_reader(healpix),
                      Catch::Contains("message 1") && Catch::Contains("HEALPix"));

  codes_handle* h = codes_grib_handle_new_from_samples(nullptr, "regular_ll_sfc_grib2");
  codes_set_string(h, "gridType", "lambert", nullptr);
  const void* msg = nullptr;
  size_t size = 0;
  codes_get_message(h, &msg, &size);
  const auto lambert = write_file(dir / "lambert.grib2", std::string(static_cast<const char*>(msg), size));
  codes_handle_delete(h);
  REQUIRE_THROWS_WITH(make_grib_reader(lambert), Catch::Contains("unsupported grid type 'lambert'"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("parameters outside the lexicon are reported, not guessed") {
  const auto dir = gale::test::scratch_dir("grib-unknown");
  const auto file = write_file(dir / "x.grib2", grib_message({{10, 0}, {0, 10}}, 260259 /* unknown to us */));
  auto r = make_grib_reader(file);
  const auto& h = r->headers()[0];
  CHECK_FALSE(h.variable);
  CHECK_THAT(h.problem, Catch::Contains("not in the lexicon"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("missing points come from the bitmap: a real value of 9999 stays a value") {
  const auto dir = gale::test::scratch_dir("grib-bitmap");
  codes_handle* h = codes_grib_handle_new_from_samples(nullptr, "regular_ll_pl_grib2");
  codes_set_long(h, "paramId", 129);  // z at 850 hPa, where 9999 m2 s-2 is a real value
  codes_set_long(h, "level", 850);
  codes_set_long(h, "Ni", 2);
  codes_set_long(h, "Nj", 2);
  codes_set_double(h, "latitudeOfFirstGridPointInDegrees", 10);
  codes_set_double(h, "latitudeOfLastGridPointInDegrees", 0);
  codes_set_double(h, "longitudeOfFirstGridPointInDegrees", 0);
  codes_set_double(h, "longitudeOfLastGridPointInDegrees", 10);
  codes_set_double(h, "iDirectionIncrementInDegrees", 10);
  codes_set_double(h, "jDirectionIncrementInDegrees", 10);
  codes_set_string(h, "packingType", "grid_ieee", nullptr);
  codes_set_double(h, "missingValue", 1e30);  // encode with a sentinel far from the data
  codes_set_long(h, "bitmapPresent", 1);
  const double values[] = {9999, 1e30, 5000, 6000};
  codes_set_double_array(h, "values", values, 4);
  const void* msg = nullptr;
  size_t size = 0;
  codes_get_message(h, &msg, &size);
  const auto file = write_file(dir / "bitmap.grib2", std::string(static_cast<const char*>(msg), size));
  codes_handle_delete(h);
  auto r = make_grib_reader(file);
  REQUIRE(r->headers()[0].variable);
  std::vector<float> v;
  r->read({0}, [&](const FieldHeader& hd, const float* x) { v.assign(x, x + hd.grid->size()); });
  CHECK(v[0] == 9999.0f);
  CHECK(std::isnan(v[1]));
  CHECK(v[2] == 5000.0f);
  std::filesystem::remove_all(dir);
}
