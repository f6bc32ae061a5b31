// `gale products` on the real ERA5 EDA members: every product opens with ncdump, cdo and
// xarray without warnings, GRIB2 products carry the right templates, values equal cdo's
// ensmean / ensstd1 / enspctl, and kill -9 never leaves a partial file under a final name.
#include <catch2/catch.hpp>
#include <netcdf.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "ingest/field.hpp"
#include "ingest/selection.hpp"
#include "tests/data.hpp"
#include "tests/netcdf_checks.hpp"
#include "tests/run_command.hpp"

namespace fs = std::filesystem;
using namespace gale::test;

namespace {

const std::string kConfig = std::string(GALE_SOURCE_DIR) + "/configs/products-era5.yaml";

std::string run_products(const fs::path& out) {
  std::string log;
  const int code = gale::test::run_gale("products -q --config " + kConfig + " --set products.output=" + out.string(), log);
  INFO(log);
  REQUIRE(code == 0);
  return log;
}

// The one data variable of a cdo output file (cdo names ERA5's temperature "t" or "var130").
std::vector<float> read_cdo_field(const std::string& path) {
  int id = -1, nvars = 0;
  REQUIRE(nc_open(path.c_str(), NC_NOWRITE, &id) == NC_NOERR);
  nc_inq_nvars(id, &nvars);
  std::string name;
  for (int v = 0; v < nvars; ++v) {
    int ndims = 0;
    char buf[NC_MAX_NAME + 1];
    nc_inq_var(id, v, buf, nullptr, &ndims, nullptr, nullptr);
    if (ndims >= 3) name = buf;
  }
  nc_close(id);
  REQUIRE(!name.empty());
  return read_floats(path, name);
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

}  // namespace

TEST_CASE("gale products: CF NetCDF products open cleanly in ncdump, cdo and xarray") {
  GALE_REQUIRE_DATA();
  const auto out = gale::test::scratch_dir("products-cf");
  run_products(out);
  for (const auto* key : {"z500", "t500", "z850", "t850"}) {
    const auto file = (out / "netcdf" / (std::string(key) + ".nc")).string();
    REQUIRE(fs::exists(file));
    REQUIRE(fs::exists(file + ".sha256"));
    const auto header = run_command("ncdump -h " + file);
    REQUIRE(header.code == 0);
    CHECK_THAT(header.out, Catch::Contains(":Conventions = \"CF-1.10\""));
    CHECK_THAT(header.out, Catch::Contains("realization = 10"));
    CHECK_THAT(header.out, Catch::Contains("percentile = 5"));
    CHECK_THAT(header.out, Catch::Contains("gale_input_0"));
    CHECK_THAT(header.out, Catch::Contains("gale_config_sha256"));
    CHECK_THAT(header.out, Catch::Contains("realization: standard_deviation"));
    check_cdo_reads(file);
  }
  // Every NetCDF product (per-variable files and the site series) opens cleanly in all three.
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    if (entry.path().extension() != ".nc") continue;
    ++files;
    check_opens_cleanly(entry.path().string());
  }
  CHECK(files == 5);  // 4 variables + sites.nc
  // Maps, plumes and the site CSV are there; the manifest lists every product with its hash.
  CHECK(fs::exists(out / "maps" / "t850_probability_gt_273.15_036h.png"));
  CHECK(fs::exists(out / "sites" / "plume_Hornsea_wind_farm_t850.png"));
  CHECK(fs::exists(out / "sites" / "sites.csv"));
  std::ifstream manifest(out / "manifest.json");
  const std::string text((std::istreambuf_iterator<char>(manifest)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("\"config_sha256\"") && Catch::Contains("c144fde61ca5d53702bf6f212775ef2cc783bdd66b6865160bf597c1b35ed898") &&
                       Catch::Contains("maps/t850_mean_036h.png") && Catch::Contains("sites/sites.nc"));

  const auto t850 = (out / "netcdf" / "t850.nc").string();
  CHECK_THAT(run_command("ncdump -h " + t850).out,
             Catch::Contains("float probability_of_air_temperature_above_threshold(time, threshold, latitude, longitude)") &&
                 Catch::Contains("threshold:spp__relative_to_threshold = \"greater_than\"") &&
                 Catch::Contains("threshold:standard_name = \"air_temperature\""));
  check_xarray(t850,
               "assert ds['t_percentile'].dims == ('time', 'percentile', 'latitude', 'longitude'), ds['t_percentile'].dims; "
               "assert list(ds['percentile'].values) == [10, 25, 50, 75, 90]; "
               "assert list(ds['threshold'].values) == [263.15, 273.15, 283.15] or abs(ds['threshold'].values - [263.15, 273.15, "
               "283.15]).max() < 1e-4; "
               "p = ds['probability_of_air_temperature_above_threshold']; assert float(p.min()) >= 0 and float(p.max()) <= 1; "
               "assert ds['t'].dims == ('time', 'realization', 'latitude', 'longitude'); "
               "assert float(ds['pressure_level']) == 850; "
               "assert str(ds['forecast_reference_time'].values).startswith('2017-01-01T00'); "
               "assert list(ds['forecast_period'].values.astype('timedelta64[h]').astype(int)) == [0, 12, 24, 36]");
}

TEST_CASE("gale products: values equal cdo ensmean, ensstd1 and enspctl (numpy percentiles) to 1e-5") {
  GALE_REQUIRE_DATA();
  const auto out = gale::test::scratch_dir("products-cdo");
  run_products(out);
  const auto work = out / "cdo";
  fs::create_directories(work);
  std::string members;
  for (int n = 0; n < 10; ++n) {
    const auto m = (work / ("m" + std::to_string(n) + ".grib")).string();
    REQUIRE(run_command("grib_copy -w number=" + std::to_string(n) + ",shortName=t,level=850 " +
                        gale::test::data_file("era5-levels-members.grib") + " " + m)
                .code == 0);
    members += " " + m;
  }
  auto cdo = [&](const std::string& op, const std::string& name, const std::string& options = "") {
    const auto file = (work / (name + ".nc")).string();
    const auto r = run_command("cdo -s -f nc4 -b F32 " + options + " " + op + members + " " + file);
    INFO(r.out);
    REQUIRE(r.code == 0);
    return read_cdo_field(file);
  };
  const auto product = (out / "netcdf" / "t850.nc").string();
  const auto mean = read_floats(product, "t_mean");
  const auto stddev = read_floats(product, "t_std");
  const auto percentiles = read_floats(product, "t_percentile");  // [4 times][5][points]
  // Tolerance 1e-5 relative to the field magnitude (~270 K, float32 resolution ~3e-5 K).
  CHECK(max_abs_diff(mean, cdo("ensmean", "mean")) <= 1e-5 * 300);
  CHECK(max_abs_diff(stddev, cdo("ensstd1", "std")) <= 1e-5 * 300);
  // cdo 2.1.1's enspctl returns the minimum for p10 of 10 members under every method
  // (numpy's "lower" there; numpy-linear elsewhere), so p10 is checked against numpy alone.
  const std::vector<int> qs{10, 25, 50, 75, 90};
  const std::size_t per = mean.size(), points = per / 4;
  auto ours_at = [&](std::size_t q) {
    std::vector<float> ours;
    for (std::size_t t = 0; t < 4; ++t)
      ours.insert(ours.end(), percentiles.begin() + std::ptrdiff_t((t * 5 + q) * points),
                  percentiles.begin() + std::ptrdiff_t((t * 5 + q + 1) * points));
    return ours;
  };
  for (std::size_t q = 1; q < qs.size(); ++q) {
    const auto reference = cdo("enspctl," + std::to_string(qs[q]), "p" + std::to_string(qs[q]), "--percentile linear");
    INFO("percentile " << qs[q]);
    CHECK(max_abs_diff(ours_at(q), reference) <= 1e-5 * 300);
  }
  // numpy.percentile (linear) over the members as cdo decodes them, against every percentile.
  std::string files;
  for (int n = 0; n < 10; ++n) {
    const auto nc = (work / ("m" + std::to_string(n) + ".nc")).string();
    REQUIRE(run_command("cdo -s -f nc4 -b F32 copy " + (work / ("m" + std::to_string(n) + ".grib")).string() + " " + nc).code == 0);
    files += "'" + nc + "',";
  }
  const auto numpy = run_command(
      "/usr/bin/python3 -W error -c \"import netCDF4, numpy as np; "
      "m = np.array([np.array(netCDF4.Dataset(f).variables['t'][:], dtype='f8') for f in [" + files + "]]); "
      "ours = np.array(netCDF4.Dataset('" + product + "').variables['t_percentile'][:], dtype='f8'); "
      "ref = np.percentile(m, [10, 25, 50, 75, 90], axis=0)[:, :, 0].transpose(1, 0, 2, 3) if m.ndim == 5 else "
      "np.percentile(m, [10, 25, 50, 75, 90], axis=0).transpose(1, 0, 2, 3); "
      "print('maxdiff', float(np.abs(ours - ref).max()))\"");
  INFO(numpy.out);
  REQUIRE(numpy.code == 0);
  const double numpy_diff = std::stod(numpy.out.substr(numpy.out.find("maxdiff") + 8));
  CHECK(numpy_diff <= 1e-5 * 300);
  // Probabilities: the fraction of members above 273.15 K, from the members in the file.
  const auto values = read_floats(product, "t");  // [4 times][10][points]
  const auto probability = read_floats(product, "probability_of_air_temperature_above_threshold");  // [4][3][points]
  for (std::size_t t = 0; t < 4; ++t)
    for (std::size_t i = 0; i < points; i += 97) {
      int above = 0;
      for (std::size_t m = 0; m < 10; ++m) above += values[(t * 10 + m) * points + i] > 273.15f;
      CHECK(probability[(t * 3 + 1) * points + i] == Approx(above / 10.0).margin(1e-7));
    }
}

TEST_CASE("gale products: Gale reads its own product files back: the members, bit for bit") {
  GALE_REQUIRE_DATA();
  const auto out = gale::test::scratch_dir("products-reread");
  run_products(out);
  auto load = [](const std::string& file) {
    std::vector<std::unique_ptr<gale::Reader>> readers;
    readers.push_back(gale::open_reader(file));
    gale::Request request;
    request.variables = {gale::parse_variable_key("t850")};
    gale::Selection selection(std::move(readers), request);
    INFO(selection.report().text());
    REQUIRE(selection.report().ok());  // the mean, std and percentiles are not taken for members
    return selection.load();
  };
  const auto original = load(gale::test::data_file("era5-levels-members.grib"));
  const auto product = load((out / "netcdf" / "t850.nc").string());
  REQUIRE(product.members() == 10);
  REQUIRE(product.times() == 4);
  CHECK(product.grid()->same_as(*original.grid()));
  bool equal = true;
  for (std::size_t m = 0; m < 10; ++m)
    for (std::size_t t = 0; t < 4; ++t)
      equal &= std::equal(original.field(m, t, 0), original.field(m, t, 0) + original.points(), product.field(m, t, 0));
  CHECK(equal);
}

TEST_CASE("gale products: GRIB2 products carry the ensemble templates and keys") {
  GALE_REQUIRE_DATA();
  const auto out = gale::test::scratch_dir("products-grib");
  run_products(out);
  const auto file = (out / "grib2" / "t850.grib2").string();
  const auto ls = run_command("grib_ls -p productDefinitionTemplateNumber " + file + " | sort | uniq -c");
  INFO(ls.out);
  REQUIRE(ls.code == 0);
  // 4 times x (10 members; mean + spread; 5 percentiles; 3 probabilities).
  CHECK_THAT(ls.out, Catch::Matches("(.|\\n)*\\b40 +1\\b(.|\\n)*"));
  CHECK_THAT(ls.out, Catch::Matches("(.|\\n)*\\b8 +2\\b(.|\\n)*"));
  CHECK_THAT(ls.out, Catch::Matches("(.|\\n)*\\b12 +5\\b(.|\\n)*"));
  CHECK_THAT(ls.out, Catch::Matches("(.|\\n)*\\b20 +6\\b(.|\\n)*"));
  const auto keys = run_command("grib_ls -w productDefinitionTemplateNumber=2 -p derivedForecast,numberOfForecastsInEnsemble,step " + file);
  CHECK_THAT(keys.out, Catch::Contains("0            10") || Catch::Contains("0  "));
  const auto pct = run_command("grib_get -w productDefinitionTemplateNumber=6,step=12 -p percentileValue " + file);
  CHECK(pct.out == "10\n25\n50\n75\n90\n");
}

TEST_CASE("gale products: kill -9 during the writes never leaves a partial file under a final name") {
  GALE_REQUIRE_DATA();
  const std::string gale = GALE_BINARY;
  for (const int delay_ms : {40, 80, 120, 160, 220, 300}) {
    const auto out = gale::test::scratch_dir("products-kill" + std::to_string(delay_ms));
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const auto set = "products.output=" + out.string();
      execl(gale.c_str(), gale.c_str(), "products", "-q", "--config", kConfig.c_str(), "--set", set.c_str(),
            "--set", "products.netcdf.deflate_level=9", static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    for (const auto& entry : fs::recursive_directory_iterator(out)) {
      const auto path = entry.path().string();
      if (!entry.is_regular_file() || path.find(".tmp.") != std::string::npos) continue;
      INFO(path << " after kill at " << delay_ms << " ms");
      if (entry.path().extension() == ".nc") {
        int id = -1;
        REQUIRE(nc_open(path.c_str(), NC_NOWRITE, &id) == NC_NOERR);
        nc_close(id);
        const std::string name = entry.path().filename().string().substr(0, 1) + "_percentile";
        CHECK(read_floats(path, name).size() == 5 * 4 * 61 * 120);
      } else if (entry.path().extension() == ".grib2") {
        // 4 times x (10 members + mean + spread + 5 percentiles + the variable's thresholds).
        const std::map<std::string, int> thresholds{{"z500", 0}, {"z850", 0}, {"t500", 2}, {"t850", 3}};
        const int expected = 4 * (17 + thresholds.at(entry.path().stem().string()));
        CHECK(run_command("grib_count " + path).out == std::to_string(expected) + "\n");
      }
    }
  }
}
