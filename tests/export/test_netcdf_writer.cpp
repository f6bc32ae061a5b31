// CF NetCDF-4 writer: round trips through ingest's reader (exact), CF attributes read with
// netCDF-C, ncdump, atomic output and errors that name the path.
#include <catch2/catch.hpp>
#include <netcdf.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "export/netcdf_writer.hpp"
#include "export_fixtures.hpp"
#include "tests/data.hpp"
#include "tests/run_command.hpp"

using namespace gale;
using namespace gale::test;

namespace {

struct Nc {
  int id = -1;
  explicit Nc(const std::string& path) { REQUIRE(nc_open(path.c_str(), NC_NOWRITE, &id) == NC_NOERR); }
  ~Nc() { nc_close(id); }
  std::string text(const std::string& var, const char* name) const {
    int varid = NC_GLOBAL;
    if (!var.empty() && nc_inq_varid(id, var.c_str(), &varid) != NC_NOERR) return "<no variable>";
    std::size_t len = 0;
    if (nc_inq_attlen(id, varid, name, &len) != NC_NOERR) return "<absent>";
    std::string s(len, '\0');
    nc_get_att_text(id, varid, name, s.data());
    return s;
  }
  int varid(const std::string& name) const {
    int v = -1;
    return nc_inq_varid(id, name.c_str(), &v) == NC_NOERR ? v : -1;
  }
  std::vector<std::string> dims(const std::string& var) const {
    int v = varid(var), nd = 0;
    int d[NC_MAX_VAR_DIMS];
    nc_inq_varndims(id, v, &nd);
    nc_inq_vardimid(id, v, d);
    std::vector<std::string> out;
    for (int k = 0; k < nd; ++k) {
      char name[NC_MAX_NAME + 1] = {};
      nc_inq_dimname(id, d[k], name);
      out.push_back(name);
    }
    return out;
  }
  std::vector<double> values(const std::string& var) const {
    const int v = varid(var);
    std::size_t n = 1;
    for (const auto& d : dims(var)) {
      int did = -1;
      std::size_t len = 0;
      nc_inq_dimid(id, d.c_str(), &did);
      nc_inq_dimlen(id, did, &len);
      n *= len;
    }
    std::vector<double> out(n);
    nc_get_var_double(id, v, out.data());
    return out;
  }
};

const auto exact = [](std::size_t, std::size_t, std::size_t) { return 0.0; };

NetcdfWriteOptions cf_options() {
  NetcdfWriteOptions o;
  o.title = "Gale test ensemble";
  o.institution = "Gale tests";
  o.source = "Gale 0.1.0 test";
  o.comment = "synthetic fields";
  o.references = "https://example.org/gale";
  o.history = {"2024-01-15T07:00:00Z gale forecast --config test.yaml", "exported"};
  o.attributes = {{"gale_config_sha256", "feedbeef"}, {"input files", "a.grib b.grib"}};
  return o;
}

}  // namespace

TEST_CASE("NetCDF round trip: ensemble on a regular lat-lon grid is exact", "[export][netcdf]") {
  const auto dir = gale::test::scratch_dir("export-nc-ll");
  const auto path = (dir / "ens.nc").string();
  const State s = make_state(latlon_grid());
  write_state_netcdf(s, path, cf_options());
  const State back = read_back(path, s);
  require_same(s, back, exact);
  CHECK(files_in(dir).size() == 2);  // the product and its .sha256, no temporary file
  std::filesystem::remove_all(dir);
}

TEST_CASE("NetCDF round trip: regular Gaussian N16 keeps the grid fingerprint", "[export][netcdf]") {
  const auto dir = gale::test::scratch_dir("export-nc-gg");
  const auto path = (dir / "gg.nc").string();
  const State s = make_state(gaussian_grid(16));
  write_state_netcdf(s, path, {});
  const State back = read_back(path, s);
  CHECK(back.grid()->kind() == GridKind::regular_gaussian);
  require_same(s, back, exact);
  std::filesystem::remove_all(dir);
}

TEST_CASE("NetCDF round trip: ERA5 UK 2 m temperature crossing 0 E (10 W .. 2 E) is exact", "[export][netcdf]") {
  // Gale's grid holds the UK area's longitudes as 0..2 then 350..359.75 E; the file's axis
  // must be monotonic and evenly spaced (-10..2), and read back onto the same grid.
  GALE_REQUIRE_DATA();
  std::vector<std::unique_ptr<Reader>> readers;
  readers.push_back(open_reader(data_file("era5-2mt-2019-03-uk.grib")));
  Request request;
  request.variables = {parse_variable_key("2t")};
  Selection selection(std::move(readers), request);
  REQUIRE(selection.report().ok());
  const State era5 = selection.load();
  const auto& lons = era5.grid()->longitudes();
  REQUIRE(lons.size() == 49);
  REQUIRE(lons.front() == 0);
  REQUIRE(lons.back() == 359.75);

  const auto dir = gale::test::scratch_dir("export-nc-uk");
  const auto path = (dir / "uk.nc").string();
  write_state_netcdf(era5, path, {});
  {
    Nc nc(path);
    const auto axis = nc.values("longitude");
    REQUIRE(axis.size() == 49);
    for (std::size_t c = 0; c < axis.size(); ++c) CHECK(axis[c] == -10 + 0.25 * double(c));
  }
  const State back = read_back(path, era5);
  require_same(era5, back, exact, false);  // same grid fingerprint, times and variables
  std::size_t differing = 0;
  for (std::size_t t = 0; t < era5.times(); ++t)
    differing += std::memcmp(era5.field(0, t, 0), back.field(0, t, 0), era5.points() * sizeof(float)) != 0;
  CHECK(differing == 0);  // bit-identical

  const auto sinfo = run_command("cdo -s sinfo " + path);
  INFO(sinfo.out);
  CHECK(sinfo.code == 0);
  CHECK_THAT(sinfo.out, !Catch::Contains("Warning") && !Catch::Contains("circular") &&
                            Catch::Contains("-10 to 2 by 0.25 degrees_east"));
  const auto py = run_command("/usr/bin/python3 -W error -c 'import xarray; ds = xarray.open_dataset(\"" + path +
                              "\"); assert (ds.longitude.diff(\"longitude\") > 0).all(); print(\"ok\")'");
  INFO(py.out);
  CHECK(py.code == 0);
  CHECK_THAT(py.out, Catch::Contains("ok"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("NetCDF: CF-1.10 attributes, coordinates, chunking and compression", "[export][netcdf]") {
  const auto dir = gale::test::scratch_dir("export-nc-cf");
  const auto path = (dir / "cf.nc").string();
  const State s = make_state(latlon_grid());
  auto options = cf_options();
  options.deflate_level = 4;
  write_state_netcdf(s, path, options);
  Nc nc(path);

  int format = 0;
  nc_inq_format(nc.id, &format);
  CHECK(format == NC_FORMAT_NETCDF4);
  CHECK(nc.text("", "Conventions") == "CF-1.10");
  CHECK(nc.text("", "title") == "Gale test ensemble");
  CHECK(nc.text("", "institution") == "Gale tests");
  CHECK(nc.text("", "source") == "Gale 0.1.0 test");
  CHECK(nc.text("", "comment") == "synthetic fields");
  CHECK(nc.text("", "references") == "https://example.org/gale");
  CHECK(nc.text("", "gale_config_sha256") == "feedbeef");
  CHECK(nc.text("", "input_files") == "a.grib b.grib");
  CHECK(nc.text("", "checkpoint_sha256") == "0123abcd");  // State metadata (provenance)
  const auto history = nc.text("", "history");
  CHECK(history.rfind("2024-01-15T07:00:00Z gale forecast --config test.yaml\n", 0) == 0);
  const auto second = history.substr(history.find('\n') + 1);
  CHECK(second.substr(4, 1) == "-");  // a timestamp was put in front of "exported"
  CHECK_THAT(second, Catch::EndsWith(" exported"));

  // Coordinates.
  CHECK(nc.text("realization", "standard_name") == "realization");
  CHECK(nc.text("realization", "units") == "1");
  CHECK(nc.values("realization") == std::vector<double>{0, 1, 2});
  CHECK(nc.text("time", "standard_name") == "time");
  CHECK(nc.text("time", "units") == "hours since 2024-01-15 06:00:00");
  CHECK(nc.text("time", "calendar") == "proleptic_gregorian");
  CHECK(nc.values("time") == std::vector<double>{0, 6, 12});
  CHECK(nc.text("forecast_reference_time", "standard_name") == "forecast_reference_time");
  CHECK(nc.text("forecast_reference_time", "units") == "hours since 2024-01-15 06:00:00");
  CHECK(nc.dims("forecast_reference_time").empty());
  CHECK(nc.values("forecast_reference_time") == std::vector<double>{0});
  CHECK(nc.text("forecast_period", "standard_name") == "forecast_period");
  CHECK(nc.text("forecast_period", "units") == "hours");
  CHECK(nc.dims("forecast_period") == std::vector<std::string>{"time"});
  CHECK(nc.text("pressure_level", "standard_name") == "air_pressure");
  CHECK(nc.text("pressure_level", "units") == "hPa");
  CHECK(nc.text("pressure_level", "positive") == "down");
  CHECK(nc.values("pressure_level") == std::vector<double>{500});  // z and u share {500}
  CHECK(nc.values("pressure_level_2") == std::vector<double>{850});  // t has {850}
  CHECK(nc.text("latitude", "units") == "degrees_north");
  CHECK(nc.text("latitude", "standard_name") == "latitude");
  CHECK(nc.text("longitude", "units") == "degrees_east");
  const auto lat = nc.values("latitude");
  CHECK(lat.front() == 90);
  CHECK(lat.back() == -90);  // north -> south, as in the State

  // Data variables: named so that the reader maps them back; CF attributes; NaN fill.
  CHECK(nc.dims("z") == std::vector<std::string>{"realization", "time", "pressure_level", "latitude", "longitude"});
  CHECK(nc.dims("t") == std::vector<std::string>{"realization", "time", "pressure_level_2", "latitude", "longitude"});
  CHECK(nc.dims("t2m") == std::vector<std::string>{"realization", "time", "latitude", "longitude"});
  CHECK(nc.varid("u") >= 0);
  CHECK(nc.text("z", "standard_name") == "geopotential");
  CHECK(nc.text("z", "units") == "m2 s-2");
  CHECK(nc.text("z", "long_name") == "Geopotential");
  CHECK(nc.text("t2m", "standard_name") == "air_temperature");
  CHECK(nc.text("t2m", "units") == "K");
  CHECK(nc.text("u", "standard_name") == "eastward_wind");
  // The scalar time coordinates are not named: cdo would warn that it cannot assign them.
  CHECK(nc.text("t2m", "coordinates") == "<absent>");
  int no_fill = 1;
  float fill = 0;
  REQUIRE(nc_inq_var_fill(nc.id, nc.varid("t2m"), &no_fill, &fill) == NC_NOERR);
  CHECK(no_fill == 0);
  CHECK(std::isnan(fill));
  nc_type type = NC_NAT;
  nc_inq_vartype(nc.id, nc.varid("t2m"), &type);
  CHECK(type == NC_FLOAT);

  int storage = -1;
  std::size_t chunks[5] = {};
  REQUIRE(nc_inq_var_chunking(nc.id, nc.varid("z"), &storage, chunks) == NC_NOERR);
  CHECK(storage == NC_CHUNKED);
  CHECK(chunks[0] == 1);  // one member
  CHECK(chunks[1] == 1);  // one time step
  CHECK(chunks[2] == 1);  // one level
  CHECK(chunks[3] == 37);
  CHECK(chunks[4] == 72);
  int shuffle = 0, deflate = 0, level = 0;
  REQUIRE(nc_inq_var_deflate(nc.id, nc.varid("z"), &shuffle, &deflate, &level) == NC_NOERR);
  CHECK(shuffle == 1);
  CHECK(deflate == 1);
  CHECK(level == 4);

  // The checksum file beside the product.
  CHECK(slurp(path + ".sha256") == sha256_file(path) + "  cf.nc\n");
  CHECK(std::system(("ncdump -h '" + path + "' > /dev/null").c_str()) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("NetCDF: a single member has no realization dimension", "[export][netcdf]") {
  const auto dir = gale::test::scratch_dir("export-nc-one");
  const auto path = (dir / "det.nc").string();
  const State s = make_state(latlon_grid(10), 1, {"z500", "z850", "t850", "2t", "msl"});
  write_state_netcdf(s, path, {});
  {
    Nc nc(path);
    CHECK(nc.varid("realization") == -1);
    CHECK(nc.dims("z") == std::vector<std::string>{"time", "pressure_level", "latitude", "longitude"});
    CHECK(nc.values("pressure_level") == std::vector<double>{850, 500});  // descending hPa
    CHECK(nc.values("pressure_level_2") == std::vector<double>{850});
    CHECK(nc.varid("msl") >= 0);
    CHECK(nc.text("", "history").substr(4, 1) == "-");  // a timestamped default line
  }
  const State back = read_back(path, s);
  require_same(s, back, exact);
  CHECK(std::system(("ncdump -h '" + path + "' > /dev/null").c_str()) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("NetCDF: reduced Gaussian grids and meshes get a values dimension", "[export][netcdf]") {
  const auto dir = gale::test::scratch_dir("export-nc-values");
  const auto path = (dir / "mesh.nc").string();
  auto grid = Grid::points(GridKind::mesh, {90, 30, -30, -90}, {0, 72, 144, 216});
  const State s = make_state(grid, 2, {"z500", "2t"}, 2);
  write_state_netcdf(s, path, {});
  Nc nc(path);
  CHECK(nc.dims("z") == std::vector<std::string>{"realization", "time", "pressure_level", "values"});
  CHECK(nc.dims("latitude") == std::vector<std::string>{"values"});
  CHECK(nc.dims("longitude") == std::vector<std::string>{"values"});
  CHECK(nc.values("longitude") == std::vector<double>{0, 72, 144, 216});
  CHECK(nc.text("t2m", "coordinates") == "latitude longitude");
  const auto z = nc.values("z");
  // [realization 2, time 2, level 1, values 4]: (member 1, time 1, point 2) is 3*4 + 2.
  CHECK(float(z[1]) == s.field(0, 0, 0)[1]);
  CHECK(float(z[14]) == s.field(1, 1, 0)[2]);
  CHECK(std::system(("ncdump -h '" + path + "' > /dev/null").c_str()) == 0);

  auto reduced = Grid::reduced_gaussian({45, -45}, {4, 8});
  write_state_netcdf(make_state(reduced, 1, {"2t"}, 1), (dir / "reduced.nc").string(), {});
  Nc r((dir / "reduced.nc").string());
  CHECK(r.dims("t2m") == std::vector<std::string>{"time", "values"});
  CHECK(r.values("latitude").size() == 12);
  std::filesystem::remove_all(dir);
}

TEST_CASE("NetCDF: errors name the path and leave no partial file", "[export][netcdf]") {
  const auto dir = gale::test::scratch_dir("export-nc-err");
  const State s = make_state(latlon_grid(10), 2, {"z500", "2t"}, 2);

  SECTION("a directory that does not exist") {
    const auto path = (dir / "no-such-dir" / "out.nc").string();
    REQUIRE_THROWS_AS(write_state_netcdf(s, path, {}), InputError);
    REQUIRE_THROWS_WITH(write_state_netcdf(s, path, {}),
                        Catch::StartsWith(path) && Catch::Contains("no-such-dir does not exist"));
    CHECK_FALSE(std::filesystem::exists(dir / "no-such-dir"));
  }
  SECTION("a failure after the file was created removes the temporary file") {
    const auto path = (dir / "out.nc").string();
    auto options = cf_options();
    options.attributes["title"] = "clash";
    REQUIRE_THROWS_AS(write_state_netcdf(s, path, options), ConfigError);
    REQUIRE_THROWS_WITH(write_state_netcdf(s, path, options),
                        Catch::StartsWith(path) && Catch::Contains("'title' is reserved"));
    CHECK(files_in(dir).empty());
  }
  SECTION("an existing product is replaced whole, never half-written") {
    const auto path = (dir / "out.nc").string();
    write_state_netcdf(s, path, {});
    const auto first = sha256_file(path);
    auto options = cf_options();
    options.attributes["title"] = "clash";
    REQUIRE_THROWS(write_state_netcdf(s, path, options));
    CHECK(sha256_file(path) == first);  // the old product is untouched
    CHECK(files_in(dir).size() == 2);
    const State other = make_state(latlon_grid(10), 3, {"z500", "2t"}, 2);
    write_state_netcdf(other, path, {});
    CHECK(read_back(path, other).members() == 3);
    CHECK(slurp(path + ".sha256") == sha256_file(path) + "  out.nc\n");
  }
  SECTION("invalid options and model levels") {
    const auto path = (dir / "out.nc").string();
    NetcdfWriteOptions bad;
    bad.deflate_level = 12;
    REQUIRE_THROWS_AS(write_state_netcdf(s, path, bad), ConfigError);
    REQUIRE_THROWS_WITH(write_state_netcdf(s, path, bad), Catch::Contains("deflate_level 12"));
    const State ml = make_state(latlon_grid(10), 1, {"t_ml137"}, 1);
    REQUIRE_THROWS_AS(write_state_netcdf(ml, path, {}), UnsupportedError);
    REQUIRE_THROWS_WITH(write_state_netcdf(ml, path, {}), Catch::Contains("t_ml137") && Catch::Contains(path));
    CHECK(files_in(dir).empty());
  }
  std::filesystem::remove_all(dir);
}
