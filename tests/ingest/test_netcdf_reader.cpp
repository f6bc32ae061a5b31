// NetCDF reader: the real ERA-Interim climatology (packed shorts, -180..180 longitudes, a
// month axis) and small files written here with NetCDF-C to pin down orientation, time
// decoding, unit conversion, missing values and the errors for unreadable files.
#include <netcdf.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "ingest/netcdf_reader.hpp"
#include "tests/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace std::chrono;
using Catch::Matchers::Contains;

namespace {

const fs::path kData = GALE_SHARED_DATA;

// A scratch directory removed at the end of the test case.
struct TempDir {
  fs::path path;
  TempDir() {
    path = gale::test::scratch_root() / "netcdf-reader";
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void nc_ok(int status) {
  if (status != NC_NOERR) FAIL("NetCDF-C: " << nc_strerror(status));
}

// A variable of a test file: values in file order [time][lat][lon] (or [lat][lon]).
struct TestVar {
  std::string name, units;
  std::vector<double> values;
  nc_type type = NC_FLOAT;
  std::optional<double> scale_factor, add_offset, fill_value;
};

TestVar float_var(std::string name, std::string units, std::vector<double> values) {
  TestVar v;
  v.name = std::move(name);
  v.units = std::move(units);
  v.values = std::move(values);
  return v;
}

struct TestFile {
  std::vector<double> lat, lon;
  nc_type coord_type = NC_DOUBLE;
  std::vector<double> time;  // no time dimension when empty
  std::string time_units = "hours since 2000-01-01 00:00:00";
  std::string calendar;
  std::vector<TestVar> vars;
};

void write_netcdf(const std::string& path, const TestFile& f) {
  int nc = -1, dlat = -1, dlon = -1, dtime = -1, vlat = -1, vlon = -1, vtime = -1;
  nc_ok(nc_create(path.c_str(), NC_CLOBBER, &nc));
  nc_ok(nc_def_dim(nc, "latitude", f.lat.size(), &dlat));
  nc_ok(nc_def_dim(nc, "longitude", f.lon.size(), &dlon));
  nc_ok(nc_def_var(nc, "latitude", f.coord_type, 1, &dlat, &vlat));
  nc_ok(nc_put_att_text(nc, vlat, "units", 13, "degrees_north"));
  nc_ok(nc_def_var(nc, "longitude", f.coord_type, 1, &dlon, &vlon));
  nc_ok(nc_put_att_text(nc, vlon, "units", 12, "degrees_east"));
  if (!f.time.empty()) {
    nc_ok(nc_def_dim(nc, "time", NC_UNLIMITED, &dtime));  // record variables too
    nc_ok(nc_def_var(nc, "time", NC_DOUBLE, 1, &dtime, &vtime));
    nc_ok(nc_put_att_text(nc, vtime, "units", f.time_units.size(), f.time_units.c_str()));
    if (!f.calendar.empty())
      nc_ok(nc_put_att_text(nc, vtime, "calendar", f.calendar.size(), f.calendar.c_str()));
  }
  std::vector<int> varids;
  for (const auto& v : f.vars) {
    std::vector<int> dims = {dlat, dlon};
    if (dtime >= 0) dims.insert(dims.begin(), dtime);
    int id = -1;
    nc_ok(nc_def_var(nc, v.name.c_str(), v.type, int(dims.size()), dims.data(), &id));
    nc_ok(nc_put_att_text(nc, id, "units", v.units.size(), v.units.c_str()));
    if (v.scale_factor)
      nc_ok(nc_put_att_double(nc, id, "scale_factor", NC_DOUBLE, 1, &*v.scale_factor));
    if (v.add_offset) nc_ok(nc_put_att_double(nc, id, "add_offset", NC_DOUBLE, 1, &*v.add_offset));
    if (v.fill_value) nc_ok(nc_put_att_double(nc, id, "_FillValue", v.type, 1, &*v.fill_value));
    varids.push_back(id);
  }
  nc_ok(nc_enddef(nc));
  nc_ok(nc_put_var_double(nc, vlat, f.lat.data()));
  nc_ok(nc_put_var_double(nc, vlon, f.lon.data()));
  // Unlimited dimensions need explicit counts.
  const std::size_t nt = std::max<std::size_t>(f.time.size(), 1);
  if (vtime >= 0) {
    const std::size_t start = 0;
    nc_ok(nc_put_vara_double(nc, vtime, &start, &nt, f.time.data()));
  }
  for (std::size_t k = 0; k < f.vars.size(); ++k) {
    std::vector<std::size_t> start = {0, 0}, count = {f.lat.size(), f.lon.size()};
    if (vtime >= 0) {
      start.insert(start.begin(), 0);
      count.insert(count.begin(), nt);
    }
    nc_ok(nc_put_vara_double(nc, varids[k], start.data(), count.data(), f.vars[k].values.data()));
  }
  nc_ok(nc_close(nc));
}

// Every field of a reader, decoded, by header index.
std::vector<std::vector<float>> read_all(const gale::Reader& r) {
  std::vector<std::size_t> all(r.headers().size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<std::vector<float>> out(all.size());
  r.read(all, [&](const gale::FieldHeader& h, const float* v) {
    out[h.index].assign(v, v + h.grid->size());
  });
  return out;
}

bool have_data() {
  if (fs::is_directory(kData)) return true;
  WARN("sample data directory " << kData << " is missing: skipping");
  return false;
}

}  // namespace

TEST_CASE("eraint_uvz.nc: headers of a packed monthly climatology", "[ingest][netcdf]") {
  if (!have_data()) return;
  const auto path = (kData / "eraint_uvz.nc").string();
  const auto reader = gale::make_netcdf_reader(path);
  const auto& h = reader->headers();
  REQUIRE(h.size() == 18);  // 3 variables x 2 months x 3 levels

  const char* names[] = {"z", "u", "v"};
  const double levels[] = {200, 500, 850};
  const auto january = sys_days{1970y / January / 1};
  const auto july = sys_days{1970y / July / 1};
  for (std::size_t i = 0; i < h.size(); ++i) {
    INFO("field " << i << ": " << h[i].problem);
    CHECK(h[i].index == i);
    CHECK(h[i].file == path);
    REQUIRE(h[i].variable.has_value());
    CHECK(h[i].problem.empty());
    CHECK(h[i].variable->name == names[i / 6]);
    CHECK(h[i].variable->level_kind == gale::LevelKind::isobaric);
    CHECK(h[i].variable->level == levels[i % 3]);
    // Month 1 and 7 of the climatology stand for 1970-01-01 and 1970-07-01.
    CHECK(h[i].valid_time == (i % 6 < 3 ? january : july));
    CHECK(h[i].reference_time == h[i].valid_time);
    CHECK(h[i].member == 0);
    CHECK(h[i].conversion.identity());  // "m**2 s**-2" and "m s**-1" are canonical
    CHECK(h[i].grid == h[0].grid);      // one grid object shared by every field
  }
  CHECK(h[0].source_name == "z");
  CHECK(h[0].source_units == "m**2 s**-2");

  const auto& grid = *h[0].grid;
  CHECK(grid.kind() == gale::GridKind::regular_ll);
  CHECK(grid.longitudes().size() == 480);
  CHECK(grid.rows() == 241);
  CHECK(grid.row_latitudes().front() == 90);
  CHECK(grid.row_latitudes().back() == -90);
  // File longitudes run -180..179.25; canonical ones 0..359.25.
  CHECK(grid.longitudes().front() == 0);
  CHECK(grid.longitudes().back() == 359.25);
  CHECK(grid.global_in_longitude());
}

TEST_CASE("eraint_uvz.nc: values equal ncdump's unpacked numbers", "[ingest][netcdf]") {
  if (!have_data()) return;
  const auto reader = gale::make_netcdf_reader((kData / "eraint_uvz.nc").string());

  // Golden values: raw shorts from `ncdump -v z,u,v -f c eraint_uvz.nc` at file index
  // (month, level, lat, lon), unpacked as short * scale_factor + add_offset in double.
  // File column c has longitude -180 + 0.75 c, i.e. canonical column (c + 240) % 480;
  // rows are already north -> south. Header index = variable * 6 + month * 3 + level.
  struct Golden {
    std::size_t header, row, column;
    double value;
  };
  const std::vector<Golden> golden = {
      {1, 0, 0, 49723.57769},         // z(0,1,0,240)   raw  9914, 500 hPa, 90N 0E, January
      {1, 60, 20, 54232.79949},       // z(0,1,60,260)  raw  7300, 45N 15E
      {3, 120, 240, 121929.7774},     // z(1,0,120,0)   raw -31944, July 200 hPa, 0N 180E
      {5, 200, 340, 12173.17977},     // z(1,2,200,100) raw  31682, July 850 hPa, 60S 255E
      {0, 240, 239, 109808.0094},     // z(0,0,240,479) raw -24917, 90S 179.25E
      {7, 0, 0, -1.921839712},        // u(0,1,0,240)   raw  18370
      {7, 60, 20, 6.860144662},       // u(0,1,60,260)  raw  12786
      {9, 120, 240, -2.359051685},    // u(1,0,120,0)   raw  18648
      {11, 200, 340, 9.061931575},    // u(1,2,200,100) raw  11386
      {6, 240, 239, -0.547295596},    // u(0,0,240,479) raw  17496
      {13, 0, 0, 1.07803058},         // v(0,1,0,240)   raw -5330
      {13, 60, 20, -3.648564823},     // v(0,1,60,260)  raw  4562
      {15, 120, 240, -0.1169972304},  // v(1,0,120,0)   raw -2829
      {17, 200, 340, -1.000008584},   // v(1,2,200,100) raw -981
      {12, 240, 239, -0.3673749084},  // v(0,0,240,479) raw -2305
  };
  const auto values = read_all(*reader);
  REQUIRE(values.size() == 18);
  for (const auto& g : golden) {
    INFO("header " << g.header << " row " << g.row << " column " << g.column);
    // Tolerance: relative 1e-6. Values are stored as float32 (relative precision 6e-8),
    // far tighter than one packing step (1.7 m2 s-2 for z), so a wrong scale, offset or
    // orientation cannot pass.
    CHECK(values[g.header][g.row * 480 + g.column] == Approx(g.value).epsilon(1e-6));
  }
  // _FillValue is NaN, which no packed short can equal: nothing is missing.
  for (const auto& field : values)
    CHECK(std::count_if(field.begin(), field.end(), [](float x) { return std::isnan(x); }) == 0);
}

TEST_CASE("eraint_uvz.nc: read() decodes only the requested fields", "[ingest][netcdf]") {
  if (!have_data()) return;
  const auto reader = gale::make_netcdf_reader((kData / "eraint_uvz.nc").string());
  std::vector<std::size_t> seen;
  reader->read({2, 10, 17}, [&](const gale::FieldHeader& h, const float* v) {
    seen.push_back(h.index);
    CHECK(std::isfinite(v[0]));
  });
  CHECK(seen == std::vector<std::size_t>{2, 10, 17});
}

TEST_CASE("NetCDF: south->north and north->south files give the same canonical field",
          "[ingest][netcdf]") {
  TempDir tmp;
  // 3 x 4 grid; the value encodes the point: 10 * latitude + longitude / 90.
  const std::vector<double> lats = {10.1, 10.2, 10.3};  // decimals not exact in float32
  const std::vector<double> lons = {0, 90, 180, 270};
  auto value = [](double lat, double lon) { return 10 * lat + lon / 90; };

  TestFile north, south;
  north.lat = {lats[2], lats[1], lats[0]};
  south.lat = lats;
  south.coord_type = NC_FLOAT;  // float coordinates must still give the same grid
  north.lon = south.lon = lons;
  auto n = float_var("t2m", "K", {}), s = float_var("t2m", "K", {});
  for (double lat : north.lat)
    for (double lon : lons) n.values.push_back(value(lat, lon));
  for (double lat : south.lat)
    for (double lon : lons) s.values.push_back(value(lat, lon));
  // One missing point (north-east corner), stored as _FillValue.
  n.fill_value = s.fill_value = -999;
  n.values[3] = -999;   // north file: row 0 is 10.3N
  s.values[11] = -999;  // south file: row 2 is 10.3N
  north.vars = {n};
  south.vars = {s};
  write_netcdf(tmp / "north.nc", north);
  write_netcdf(tmp / "south.nc", south);

  const auto rn = gale::make_netcdf_reader(tmp / "north.nc");
  const auto rs = gale::make_netcdf_reader(tmp / "south.nc");
  REQUIRE(rn->headers().size() == 1);
  REQUIRE(rs->headers().size() == 1);
  const auto& gn = *rn->headers()[0].grid;
  const auto& gs = *rs->headers()[0].grid;
  CHECK(gn.fingerprint() == gs.fingerprint());
  CHECK(gn.row_latitudes() == std::vector<double>{10.3, 10.2, 10.1});
  CHECK(gn.kind() == gale::GridKind::regular_ll);
  // No time axis: valid and reference time are the epoch.
  CHECK(rn->headers()[0].valid_time == gale::TimePoint{});
  CHECK(rn->headers()[0].variable->key() == "2t");

  const auto vn = read_all(*rn)[0];
  const auto vs = read_all(*rs)[0];
  REQUIRE(vn.size() == 12);
  CHECK(std::isnan(vn[3]));
  CHECK(std::isnan(vs[3]));
  for (std::size_t k = 0; k < 12; ++k) {
    if (k == 3) continue;
    CHECK(vn[k] == vs[k]);  // same numbers from the same file values: exact
    // Tolerance: float32 storage, relative 1e-6.
    CHECK(vn[k] == Approx(value(gn.lat()[k], gn.lon()[k])).epsilon(1e-6));
  }
}

TEST_CASE("NetCDF: -180..180 longitudes become ascending 0..360", "[ingest][netcdf]") {
  TempDir tmp;
  TestFile f;
  f.lat = {10, 0};
  f.lon = {-180, -90, 0, 90};
  const auto t = float_var("t2m", "K", {1, 2, 3, 4, 5, 6, 7, 8});  // value = file position + 1
  f.vars = {t};
  write_netcdf(tmp / "lon.nc", f);
  const auto r = gale::make_netcdf_reader(tmp / "lon.nc");
  const auto& grid = *r->headers()[0].grid;
  CHECK(grid.longitudes() == std::vector<double>{0, 90, 180, 270});
  // Canonical columns 0, 90, 180, 270 are file columns 2, 3, 0, 1.
  CHECK(read_all(*r)[0] == std::vector<float>{3, 4, 1, 2, 7, 8, 5, 6});

  SECTION("-180 and 180 together repeat a meridian") {
    f.lon = {-180, -60, 60, 180};
    write_netcdf(tmp / "dup.nc", f);
    REQUIRE_THROWS_AS(gale::make_netcdf_reader(tmp / "dup.nc"), gale::UnsupportedError);
    REQUIRE_THROWS_WITH(gale::make_netcdf_reader(tmp / "dup.nc"), Contains("repeat a meridian"));
  }
}

TEST_CASE("NetCDF: a regional axis crossing 0 E reads onto one grid in every convention", "[ingest][netcdf]") {
  // 1 W .. 1 E at 0.5 deg, 2 rows: Gale's grid holds it as 0, 0.5, 1, 359, 359.5. The value
  // of a point is 100 * row + its longitude east of 1 W in half degrees.
  TempDir tmp;
  const std::vector<double> canonical = {0, 0.5, 1, 359, 359.5};
  const std::vector<float> expected = {2, 3, 4, 0, 1, 102, 103, 104, 100, 101};
  const auto east_of_1w = [](double lon) { return std::remainder(lon + 1, 360.0) * 2; };
  const std::vector<std::pair<std::string, std::vector<double>>> axes = {
      {"-180..180 (ERA5 from the CDS, Gale's writer)", {-1, -0.5, 0, 0.5, 1}},
      {"0..360 through 360", {359, 359.5, 360, 360.5, 361}},
      {"ascending in [0, 360) with a gap (Gale's writer before)", {0, 0.5, 1, 359, 359.5}},
      {"descending", {1, 0.5, 0, -0.5, -1}},
      {"starting at 0 E, wrapping through 360", {0, 0.5, 1, -1, -0.5}}};
  std::string fingerprint;
  for (const auto& [name, lon] : axes) {
    INFO(name);
    TestFile f;
    f.lat = {51, 50.5};
    f.lon = lon;
    std::vector<double> values;
    for (int r = 0; r < 2; ++r)
      for (double x : lon) values.push_back(100 * r + east_of_1w(x));
    f.vars = {float_var("t2m", "K", values)};
    write_netcdf(tmp / "uk.nc", f);
    const auto reader = gale::make_netcdf_reader(tmp / "uk.nc");
    const auto& grid = *reader->headers()[0].grid;
    CHECK(grid.longitudes() == canonical);
    CHECK(!grid.global_in_longitude());
    if (fingerprint.empty()) fingerprint = grid.fingerprint();
    CHECK(grid.fingerprint() == fingerprint);
    CHECK(read_all(*reader)[0] == expected);
  }

  SECTION("longitudes that are not evenly spaced are still refused") {
    for (const auto& lon : {std::vector<double>{0, 0.5, 1, 358, 359.5}, std::vector<double>{-1, -0.5, 0, 0.5, 2}}) {
      TestFile f;
      f.lat = {51, 50.5};
      f.lon = lon;
      f.vars = {float_var("t2m", "K", std::vector<double>(10, 280))};
      write_netcdf(tmp / "uneven.nc", f);
      REQUIRE_THROWS_AS(gale::make_netcdf_reader(tmp / "uneven.nc"), gale::UnsupportedError);
      REQUIRE_THROWS_WITH(gale::make_netcdf_reader(tmp / "uneven.nc"), Contains("not evenly spaced"));
    }
  }
}

TEST_CASE("NetCDF: CF time units and calendars", "[ingest][netcdf]") {
  TempDir tmp;
  TestFile f;
  f.lat = {1, 0};
  f.lon = {0, 1};
  f.time = {1043136, 1043142.0000001};  // the second is 0.00036 s past 6 h: rounds away
  f.time_units = "hours since 1900-01-01 00:00:00.0";
  f.vars = {float_var("t2m", "K", std::vector<double>(8, 280))};

  SECTION("hours since 1900-01-01 00:00:00.0") {
    write_netcdf(tmp / "time.nc", f);
    const auto r = gale::make_netcdf_reader(tmp / "time.nc");
    REQUIRE(r->headers().size() == 2);
    const auto t0 = sys_days{1900y / January / 1} + hours{1043136};
    CHECK(gale::iso8601(t0) == "2019-01-01T00:00:00Z");
    CHECK(r->headers()[0].valid_time == t0);
    CHECK(r->headers()[1].valid_time == t0 + hours{6});
    CHECK(r->headers()[1].reference_time == t0 + hours{6});  // analyses: reference = valid
  }
  SECTION("days since with a proleptic_gregorian calendar, fractional days") {
    f.time = {0.25, 1.5};
    f.time_units = "days since 2000-02-28";
    f.calendar = "proleptic_gregorian";
    write_netcdf(tmp / "days.nc", f);
    const auto r = gale::make_netcdf_reader(tmp / "days.nc");
    CHECK(gale::iso8601(r->headers()[0].valid_time) == "2000-02-28T06:00:00Z");
    CHECK(gale::iso8601(r->headers()[1].valid_time) == "2000-02-29T12:00:00Z");
  }
  SECTION("a noleap calendar is unsupported, and says so") {
    f.calendar = "noleap";
    write_netcdf(tmp / "noleap.nc", f);
    REQUIRE_THROWS_AS(gale::make_netcdf_reader(tmp / "noleap.nc"), gale::UnsupportedError);
    REQUIRE_THROWS_WITH(gale::make_netcdf_reader(tmp / "noleap.nc"),
                        Contains("noleap") && Contains("time"));
  }
}

TEST_CASE("NetCDF: units conversion, packing and the lexicon", "[ingest][netcdf]") {
  TempDir tmp;
  TestFile f;
  f.lat = {1, 0};
  f.lon = {0, 1};
  const auto t = float_var("t2m", "degC", {20, -5.5, 0, 30});
  // Packed: physical = raw * 0.5 + 100; raw -32767 is the fill value.
  auto sp = float_var("sp", "hPa", {1800, 1810, -32767, 1700});
  sp.type = NC_SHORT;
  sp.scale_factor = 0.5;
  sp.add_offset = 100;
  sp.fill_value = -32767;
  const auto unknown = float_var("foo", "1", {1, 2, 3, 4});
  const auto z_no_level = float_var("z", "m2 s-2", {1, 2, 3, 4});
  f.vars = {t, sp, unknown, z_no_level};
  write_netcdf(tmp / "units.nc", f);
  const auto r = gale::make_netcdf_reader(tmp / "units.nc");
  const auto& h = r->headers();
  REQUIRE(h.size() == 4);

  // Celsius t2m -> 2t in K.
  REQUIRE(h[0].variable);
  CHECK(h[0].variable->key() == "2t");
  CHECK(h[0].variable->units == "K");
  CHECK(h[0].source_units == "degC");
  const auto values = read_all(*r);
  // Tolerance: float32 results, relative 1e-6.
  CHECK(values[0][0] == Approx(293.15).epsilon(1e-6));
  CHECK(values[0][1] == Approx(267.65).epsilon(1e-6));

  // Packed shorts in hPa -> Pa; the fill value is compared before unpacking.
  REQUIRE(h[1].variable);
  CHECK(h[1].variable->key() == "sp");
  CHECK(values[1][0] == Approx((1800 * 0.5 + 100) * 100).epsilon(1e-6));
  CHECK(values[1][1] == Approx((1810 * 0.5 + 100) * 100).epsilon(1e-6));
  CHECK(std::isnan(values[1][2]));

  CHECK_FALSE(h[2].variable);
  CHECK(h[2].problem == "not in the lexicon");
  CHECK_FALSE(h[3].variable);
  CHECK(h[3].problem == "upper-air variable without a level axis");

  SECTION("units that cannot be converted make that variable unusable, not the file") {
    f.vars = {float_var("t2m", "furlongs", {1, 2, 3, 4}), float_var("msl", "hPa", {1000, 1001, 1002, 1003})};
    write_netcdf(tmp / "bad_units.nc", f);
    const auto r = gale::make_netcdf_reader(tmp / "bad_units.nc");
    const auto& headers = r->headers();
    REQUIRE(headers.size() == 2);
    CHECK_FALSE(headers[0].variable);
    CHECK_THAT(headers[0].problem, Catch::Contains("furlongs") && Catch::Contains("t2m"));
    REQUIRE(headers[1].variable);
    CHECK(headers[1].variable->key() == "msl");
  }
}

TEST_CASE("NetCDF: unreadable files are InputErrors naming the file", "[ingest][netcdf]") {
  TempDir tmp;
  auto read_everything = [](const std::string& path) {
    const auto r = gale::make_netcdf_reader(path);
    read_all(*r);
  };

  SECTION("a text file") {
    const auto path = tmp / "notes.nc";
    std::ofstream(path) << "this is not NetCDF\n";
    REQUIRE_THROWS_AS(read_everything(path), gale::InputError);
    REQUIRE_THROWS_WITH(read_everything(path), Contains(path) && Contains("not a readable NetCDF"));
  }
  SECTION("a missing file") {
    const auto path = tmp / "absent.nc";
    REQUIRE_THROWS_AS(read_everything(path), gale::InputError);
    REQUIRE_THROWS_WITH(read_everything(path), Contains(path));
  }
  SECTION("the first half of eraint_uvz.nc") {
    if (!have_data()) return;
    std::ifstream in(kData / "eraint_uvz.nc", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto path = tmp / "truncated.nc";
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
    REQUIRE_THROWS_AS(read_everything(path), gale::InputError);
    REQUIRE_THROWS_WITH(read_everything(path), Contains(path) && Contains("truncated"));
  }
  SECTION("eraint_uvz.nc without its last 4 bytes") {
    // NetCDF-C reads past the end of a classic file as zeros; the size check catches it.
    if (!have_data()) return;
    const auto path = tmp / "short.nc";
    fs::copy_file(kData / "eraint_uvz.nc", path);
    fs::resize_file(path, fs::file_size(path) - 4);
    REQUIRE_THROWS_WITH(read_everything(path), Contains(path) && Contains("truncated"));
  }
  SECTION("a small file with record variables, cut in its last record") {
    TestFile f;
    f.lat = {1, 0};
    f.lon = {0, 1};
    f.time = {0, 6};
    f.vars = {float_var("t2m", "K", std::vector<double>(8, 280)),
              float_var("msl", "Pa", std::vector<double>(8, 1e5))};
    const auto path = tmp / "records.nc";
    write_netcdf(path, f);
    REQUIRE_NOTHROW(read_everything(path));
    fs::resize_file(path, fs::file_size(path) - 4);
    REQUIRE_THROWS_WITH(read_everything(path), Contains(path) && Contains("truncated"));
  }
}
