// GRIB2 ensemble products: one message per product kind on the ERA5 ensemble's regular 3°
// grid, checked with grib_ls (template numbers and keys) and decoded again with ecCodes
// (values within 1e-3 of each field's range; 16-bit packing resolves ~1.5e-5 of it);
// interval templates 11/12/9/10 with their time ranges; errors that name the path and leave
// no file behind.
#include <catch2/catch.hpp>
#include <eccodes.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "export/grib_products.hpp"
#include "export_fixtures.hpp"
#include "tests/data.hpp"

using namespace gale;
using namespace gale::test;

namespace {

// t850 and z500 of the 10-member ERA5 EDA (regular 3° lat-lon, 120 x 61).
State era5_members() {
  std::vector<std::unique_ptr<Reader>> readers;
  readers.push_back(open_reader(data_file("era5-levels-members.grib")));
  Request r;
  r.variables = {var("t850"), var("z500")};
  Selection sel(std::move(readers), r);
  INFO(sel.report().text());
  REQUIRE(sel.report().ok());
  State s = sel.load();
  REQUIRE(s.members() == 10);
  REQUIRE(s.grid()->kind() == GridKind::regular_ll);
  REQUIRE(s.points() == 120 * 61);
  return s;
}

// Per-point ensemble statistics of variable `v` at time `t`.
std::vector<float> statistic(const State& s, std::size_t t, std::size_t v, GribProduct kind, double arg = 0) {
  std::vector<float> out(s.points());
  std::vector<double> m(s.members());
  for (std::size_t p = 0; p < s.points(); ++p) {
    for (std::size_t k = 0; k < s.members(); ++k) m[k] = s.field(k, t, v)[p];
    std::sort(m.begin(), m.end());
    double mean = 0, var = 0;
    for (double x : m) mean += x / double(m.size());
    for (double x : m) var += (x - mean) * (x - mean) / double(m.size());
    double above = 0;
    for (double x : m) above += x > arg;
    switch (kind) {
      case GribProduct::mean: out[p] = float(mean); break;
      case GribProduct::spread: out[p] = float(std::sqrt(var)); break;
      case GribProduct::minimum: out[p] = float(m.front()); break;
      case GribProduct::maximum: out[p] = float(m.back()); break;
      case GribProduct::percentile:  // nearest rank
        out[p] = float(m[std::min(m.size() - 1, std::size_t(std::ceil(arg / 100 * double(m.size()))) - 1)]);
        break;
      case GribProduct::probability_above: out[p] = float(above / double(m.size())); break;
      case GribProduct::probability_below: out[p] = float(1 - above / double(m.size())); break;
      default: break;
    }
  }
  return out;
}

GribProductField field(const std::string& key, GribProduct product, TimePoint valid) {
  GribProductField f;
  f.variable = var(key);
  f.product = product;
  f.valid = valid;
  return f;
}

// grib_ls -p keys: one row of strings per message.
std::vector<std::vector<std::string>> grib_ls(const std::string& path, const std::string& keys) {
  const std::string command = "grib_ls -p " + keys + " '" + path + "' 2>&1";
  std::FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p);
  std::string text;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
  REQUIRE(::pclose(p) == 0);
  INFO(text);
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // file name
  std::getline(lines, line);  // header
  REQUIRE(line.rfind(keys.substr(0, keys.find(',')), 0) == 0);
  while (std::getline(lines, line) && line.find(" of ") == std::string::npos) {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;) row.push_back(w);
    rows.push_back(row);
  }
  return rows;
}

// Decodes every message with the ecCodes API.
struct Decoded {
  std::map<std::string, long> keys;
  std::vector<double> values;  // NaN where the bitmap says missing
};

std::vector<Decoded> decode(const std::string& path, const std::vector<std::string>& keys) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f);
  std::vector<Decoded> out;
  int err = 0;
  while (codes_handle* h = codes_handle_new_from_file(nullptr, f, PRODUCT_GRIB, &err)) {
    Decoded d;
    for (const auto& k : keys) {
      long v = -999;
      if (codes_get_long(h, k.c_str(), &v) == 0) d.keys[k] = v;
    }
    const double sentinel = -1e30;
    REQUIRE(codes_set_double(h, "missingValue", sentinel) == 0);
    std::size_t n = 0;
    REQUIRE(codes_get_size(h, "values", &n) == 0);
    d.values.resize(n);
    REQUIRE(codes_get_double_array(h, "values", d.values.data(), &n) == 0);
    for (auto& v : d.values)
      if (v == sentinel) v = NAN;
    out.push_back(std::move(d));
    codes_handle_delete(h);
  }
  std::fclose(f);
  CHECK(err == 0);
  return out;
}

// |decoded - expected * scale| <= 1e-3 * range(expected * scale); NaN exactly where expected.
void require_values(const std::vector<double>& got, const float* want, std::size_t n, double scale = 1) {
  REQUIRE(got.size() == n);
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (std::size_t p = 0; p < n; ++p)
    if (!std::isnan(want[p])) lo = std::min(lo, want[p] * scale), hi = std::max(hi, want[p] * scale);
  const double tol = 1e-3 * (hi - lo) + 1e-6 * std::max(std::abs(lo), std::abs(hi));
  std::size_t bad = 0, nan_mismatch = 0;
  double worst = 0;
  for (std::size_t p = 0; p < n; ++p) {
    if (std::isnan(want[p]) || std::isnan(got[p])) {
      nan_mismatch += std::isnan(want[p]) != std::isnan(got[p]);
      continue;
    }
    const double d = std::abs(got[p] - want[p] * scale);
    worst = std::max(worst, d);
    bad += d > tol;
  }
  INFO("worst error " << worst << ", tolerance " << tol);
  CHECK(bad == 0);
  CHECK(nan_mismatch == 0);
}

}  // namespace

TEST_CASE("GRIB2 products: one message of each kind on the ERA5 ensemble grid", "[export][grib][products]") {
  GALE_REQUIRE_DATA();
  const State ens = era5_members();
  const auto& grid = *ens.grid();
  const std::size_t n = grid.size();
  const TimePoint ref = ens.valid_times().front();  // 2017-01-01 00 UTC
  const TimePoint valid = ens.valid_times()[1];     // + 12 h
  REQUIRE(valid - ref == std::chrono::hours(12));
  const std::size_t t850 = ens.index_of("t850"), t = 1;

  std::vector<GribProductField> fields;
  std::vector<float> values;
  auto add = [&](GribProductField f, const std::vector<float>& v) {
    REQUIRE(v.size() == n);
    fields.push_back(f);
    values.insert(values.end(), v.begin(), v.end());
  };
  auto member = [&](int m) {
    auto f = field("t850", GribProduct::member, valid);
    f.member = m;
    const float* x = ens.field(std::size_t(m), t, t850);
    add(f, std::vector<float>(x, x + n));
  };
  member(0);
  member(3);
  for (auto kind : {GribProduct::mean, GribProduct::spread, GribProduct::minimum, GribProduct::maximum})
    add(field("t850", kind, valid), statistic(ens, t, t850, kind));
  auto pct = field("t850", GribProduct::percentile, valid);
  pct.percentile = 90;
  add(pct, statistic(ens, t, t850, GribProduct::percentile, 90));
  auto above = field("t850", GribProduct::probability_above, valid);
  above.threshold = 273.15;
  add(above, statistic(ens, t, t850, GribProduct::probability_above, 273.15));
  auto below = field("t850", GribProduct::probability_below, valid);
  below.threshold = 250;
  add(below, statistic(ens, t, t850, GribProduct::probability_below, 250));
  // ws500 spread (synthetic, with missing points) and a 2 m temperature percentile.
  std::vector<float> ws(n), t2(n);
  for (std::size_t p = 0; p < n; ++p) {
    ws[p] = p % 211 == 5 ? NAN : float(2 + 3 * std::cos(grid.lat()[p] * M_PI / 180) * (1 + std::sin(grid.lon()[p] * M_PI / 90)));
    t2[p] = float(260 + 30 * std::cos(grid.lat()[p] * M_PI / 180));
  }
  add(field("ws500", GribProduct::spread, valid), ws);
  auto p10 = field("2t", GribProduct::percentile, valid);
  p10.percentile = 10;
  add(p10, t2);

  const auto dir = gale::test::scratch_dir("export-grib-products");
  const auto path = (dir / "products.grib2").string();
  GribProductOptions options;
  options.ensemble_size = 10;
  write_grib2_products(path, grid, ref, fields, values, options);
  CHECK(files_in(dir).size() == 2);
  CHECK(slurp(path + ".sha256") == sha256_file(path) + "  products.grib2\n");

  // grib_ls: templates and product keys as documented in export/grib_products.hpp.
  const auto rows = grib_ls(path,
                            "productDefinitionTemplateNumber,shortName,paramId,typeOfLevel,level,"
                            "derivedForecast,percentileValue,probabilityType,scaleFactorOfLowerLimit,"
                            "scaledValueOfLowerLimit,perturbationNumber,typeOfEnsembleForecast,"
                            "numberOfForecastsInEnsemble,forecastProbabilityNumber,"
                            "totalNumberOfForecastProbabilities,stepType,step,dataDate,dataTime");
  REQUIRE(rows.size() == fields.size());
  // template, shortName, paramId, typeOfLevel, level, derivedForecast, percentileValue,
  // probabilityType, scaleFactorOfLowerLimit, scaledValueOfLowerLimit, perturbationNumber,
  // typeOfEnsembleForecast, numberOfForecastsInEnsemble, forecastProbabilityNumber,
  // totalNumberOfForecastProbabilities, stepType, step, dataDate, dataTime
  const std::string nf = "not_found";
  const std::vector<std::vector<std::string>> expected = {
      {"1", "t", "130", "isobaricInhPa", "850", nf, nf, nf, nf, nf, "0", "0", "10", nf, nf, "instant", "12", "20170101", "0"},
      {"1", "t", "130", "isobaricInhPa", "850", nf, nf, nf, nf, nf, "3", "3", "10", nf, nf, "instant", "12", "20170101", "0"},
      {"2", "t", "130", "isobaricInhPa", "850", "0", nf, nf, nf, nf, nf, nf, "10", nf, nf, "instant", "12", "20170101", "0"},
      {"2", "t", "130", "isobaricInhPa", "850", "4", nf, nf, nf, nf, nf, nf, "10", nf, nf, "instant", "12", "20170101", "0"},
      {"2", "t", "130", "isobaricInhPa", "850", "8", nf, nf, nf, nf, nf, nf, "10", nf, nf, "instant", "12", "20170101", "0"},
      {"2", "t", "130", "isobaricInhPa", "850", "9", nf, nf, nf, nf, nf, nf, "10", nf, nf, "instant", "12", "20170101", "0"},
      {"6", "t", "130", "isobaricInhPa", "850", nf, "90", nf, nf, nf, nf, nf, nf, nf, nf, "instant", "12", "20170101", "0"},
      {"5", "t", "130", "isobaricInhPa", "850", nf, nf, "3", "2", "27315", nf, nf, nf, "1", "2", "instant", "12", "20170101", "0"},
      {"5", "t", "130", "isobaricInhPa", "850", nf, nf, "0", "0", "250", nf, nf, nf, "2", "2", "instant", "12", "20170101", "0"},
      {"2", "ws", "10", "isobaricInhPa", "500", "4", nf, nf, nf, nf, nf, nf, "10", nf, nf, "instant", "12", "20170101", "0"},
      {"6", "2t", "167", "heightAboveGround", "2", nf, "10", nf, nf, nf, nf, nf, nf, nf, nf, "instant", "12", "20170101", "0"},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("message " << i + 1 << ": " << fields[i].describe());
    CHECK(rows[i] == expected[i]);
  }

  // ecCodes API: the keys grib_ls does not show, and the values.
  const auto decoded = decode(path, {"typeOfProcessedData", "typeOfGeneratingProcess", "bitsPerValue",
                                     "numberOfMissing", "bitmapPresent", "Ni", "Nj", "edition"});
  REQUIRE(decoded.size() == fields.size());
  for (std::size_t i = 0; i < decoded.size(); ++i) {
    INFO("message " << i + 1 << ": " << fields[i].describe());
    const auto& k = decoded[i].keys;
    CHECK(k.at("edition") == 2);
    CHECK(k.at("Ni") == 120);
    CHECK(k.at("Nj") == 61);
    CHECK(k.at("typeOfGeneratingProcess") == 4);
    CHECK(k.at("typeOfProcessedData") == (i == 0 ? 3 : i == 1 ? 4 : 5));  // cf, pf, cf+pf products
    const bool probability = fields[i].product == GribProduct::probability_above ||
                             fields[i].product == GribProduct::probability_below;
    // Probabilities are stored in percent; the caller gives fractions.
    require_values(decoded[i].values, values.data() + i * n, n, probability ? 100 : 1);
    if (probability) {
      const auto [lo, hi] = std::minmax_element(decoded[i].values.begin(), decoded[i].values.end());
      CHECK(*lo >= -0.01);
      CHECK(*hi <= 100.01);
      CHECK(*hi > 99);  // somewhere all members agree (12 UTC, 850 hPa: polar regions < 250 K)
    }
    if (fields[i].variable.name == "ws") {
      CHECK(k.at("bitmapPresent") == 1);
      CHECK(k.at("numberOfMissing") == long((n + 205) / 211));
    } else {
      CHECK(k.at("bitmapPresent") == 0);
    }
  }
  // The control member is bit-for-bit the ensemble's member 0 within packing.
  CHECK(decoded[0].values[100] == Approx(ens.field(0, t, t850)[100]).margin(1e-3));
  CHECK(std::system(("grib_compare '" + path + "' '" + path + "' > /dev/null").c_str()) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("GRIB2 products: interval products use templates 11, 12, 9 and 10", "[export][grib][products]") {
  const auto grid = latlon_grid(10);
  const std::size_t n = grid->size();
  const TimePoint ref = reference();  // 2024-01-15 06 UTC
  const TimePoint start = ref + std::chrono::hours(6), end = ref + std::chrono::hours(12);
  auto interval = [&](const std::string& key, GribProduct product, const std::string& process) {
    auto f = field(key, product, end);
    f.interval_start = start;
    f.statistical_process = process;
    return f;
  };
  std::vector<GribProductField> fields;
  std::vector<float> values;
  auto add = [&](GribProductField f, double base, double amplitude) {
    fields.push_back(f);
    for (std::size_t p = 0; p < n; ++p)
      values.push_back(float(base + amplitude * (0.5 + 0.5 * std::sin(grid->lat()[p] * M_PI / 45 + grid->lon()[p] * M_PI / 180))));
  };
  auto tp_member = interval("tp", GribProduct::member, "accum");
  tp_member.member = 2;
  add(tp_member, 0, 0.02);                                                 // 11: tp member 2
  add(interval("tp", GribProduct::mean, "accum"), 0, 0.01);                // 12: tp mean
  auto tp_prob = interval("tp", GribProduct::probability_above, "accum");  // 9: P(tp > 1 mm)
  tp_prob.threshold = 0.001;
  add(tp_prob, 0, 1);
  auto mx2t = interval("2t", GribProduct::percentile, "max");  // 10: median of 6 h max 2t
  mx2t.percentile = 50;
  add(mx2t, 250, 50);
  add(interval("ws500", GribProduct::maximum, "max"), 5, 60);  // 12: max over members of 6 h max
  auto mn = interval("t850", GribProduct::minimum, "min");     // 12 over 90 minutes: minutes
  mn.interval_start = ref + std::chrono::minutes(30);
  mn.valid = ref + std::chrono::minutes(120);
  add(mn, 240, 40);
  auto u = field("u500", GribProduct::probability_below, ref + std::chrono::hours(3));  // instant, negative limit
  u.threshold = -12.5;
  add(u, 0, 1);

  const auto dir = gale::test::scratch_dir("export-grib-products-interval");
  const auto path = (dir / "interval.grib2").string();
  GribProductOptions options;
  options.ensemble_size = 51;
  options.bits_per_value = 24;
  write_grib2_products(path, *grid, ref, fields, values, options);

  const auto rows = grib_ls(path, "productDefinitionTemplateNumber,shortName,paramId,stepType,startStep,endStep,"
                                  "typeOfStatisticalProcessing,derivedForecast,perturbationNumber,"
                                  "percentileValue,probabilityType,scaleFactorOfLowerLimit,scaledValueOfLowerLimit");
  REQUIRE(rows.size() == fields.size());
  const std::string nf = "not_found";
  const std::vector<std::vector<std::string>> expected = {
      {"11", "tp", "228", "accum", "6", "12", "1", nf, "2", nf, nf, nf, nf},
      {"12", "tp", "228", "accum", "6", "12", "1", "0", nf, nf, nf, nf, nf},
      {"9", "tp", "228", "accum", "6", "12", "1", nf, nf, nf, "3", "3", "1"},
      // max of 2t over 6 h: ecCodes names it "maximum temperature at 2 metres in the last 6 hours".
      {"10", "mx2t6", "121", "max", "6", "12", "2", nf, nf, "50", nf, nf, nf},
      {"12", "ws", "10", "max", "6", "12", "2", "9", nf, nf, nf, nf, nf},
  };
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("message " << i + 1 << ": " << fields[i].describe());
    CHECK(rows[i] == expected[i]);
  }
  // The rest through the API: the minutes interval, the negative limit, discipline and level.
  const auto decoded = decode(path, {"productDefinitionTemplateNumber", "indicatorOfUnitOfTimeRange", "forecastTime",
                                     "indicatorOfUnitForTimeRange", "lengthOfTimeRange", "typeOfStatisticalProcessing",
                                     "derivedForecast", "validityDate", "validityTime", "probabilityType",
                                     "scaleFactorOfLowerLimit", "scaledValueOfLowerLimit", "discipline",
                                     "parameterCategory", "parameterNumber", "level", "numberOfForecastsInEnsemble",
                                     "bitsPerValue", "hourOfEndOfOverallTimeInterval"});
  REQUIRE(decoded.size() == fields.size());
  for (std::size_t i = 0; i < decoded.size(); ++i) {
    INFO("message " << i + 1 << ": " << fields[i].describe());
    require_values(decoded[i].values, values.data() + i * n, n,
                   fields[i].product == GribProduct::probability_above ||
                           fields[i].product == GribProduct::probability_below
                       ? 100
                       : 1);
    CHECK(decoded[i].keys.at("bitsPerValue") == 24);
  }
  // 2t max keeps 2 m temperature's discipline/category/number and its level.
  CHECK(decoded[3].keys.at("discipline") == 0);
  CHECK(decoded[3].keys.at("parameterCategory") == 0);
  CHECK(decoded[3].keys.at("parameterNumber") == 0);
  CHECK(decoded[3].keys.at("level") == 2);
  CHECK(decoded[3].keys.at("validityTime") == 1800);  // end of the interval
  CHECK(decoded[3].keys.at("hourOfEndOfOverallTimeInterval") == 18);
  CHECK(decoded[1].keys.at("numberOfForecastsInEnsemble") == 51);
  const auto& m = decoded[5].keys;  // t850 minimum over 06:30..08:00
  CHECK(m.at("productDefinitionTemplateNumber") == 12);
  CHECK(m.at("derivedForecast") == 8);
  CHECK(m.at("typeOfStatisticalProcessing") == 3);
  CHECK(m.at("indicatorOfUnitOfTimeRange") == 0);  // minutes
  CHECK(m.at("forecastTime") == 30);
  CHECK(m.at("indicatorOfUnitForTimeRange") == 0);
  CHECK(m.at("lengthOfTimeRange") == 90);
  CHECK(m.at("validityDate") == 20240115);
  CHECK(m.at("validityTime") == 800);
  const auto& pu = decoded[6].keys;  // P(u500 < -12.5 m/s), instant
  CHECK(pu.at("productDefinitionTemplateNumber") == 5);
  CHECK(pu.at("probabilityType") == 0);
  CHECK(pu.at("scaleFactorOfLowerLimit") == 1);
  CHECK(pu.at("scaledValueOfLowerLimit") == -125);
  CHECK(pu.at("forecastTime") == 3);
  CHECK(std::system(("grib_dump '" + path + "' > /dev/null").c_str()) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("GRIB2 products: errors name the path and leave no file behind", "[export][grib][products]") {
  const auto dir = gale::test::scratch_dir("export-grib-products-err");
  const TimePoint ref = reference();
  const auto grid = latlon_grid(10);
  GribProductOptions options;
  options.ensemble_size = 5;
  auto one = [&](const Grid& g, GribProductField f) {
    return std::make_pair(std::vector<GribProductField>{f}, std::vector<float>(g.size(), 0.5f));
  };
  const auto mean = field("2t", GribProduct::mean, ref + std::chrono::hours(6));

  SECTION("reduced Gaussian grids and meshes are unsupported") {
    const auto path = (dir / "out.grib2").string();
    const auto reduced = Grid::reduced_gaussian({45, -45}, {4, 8});
    auto [f, v] = one(*reduced, mean);
    REQUIRE_THROWS_AS(write_grib2_products(path, *reduced, ref, f, v, options), UnsupportedError);
    REQUIRE_THROWS_WITH(write_grib2_products(path, *reduced, ref, f, v, options),
                        Catch::StartsWith(path) && Catch::Contains("reduced_gg"));
    const auto mesh = Grid::points(GridKind::mesh, {10, 20}, {30, 40});
    auto [fm, vm] = one(*mesh, mean);
    REQUIRE_THROWS_AS(write_grib2_products(path, *mesh, ref, fm, vm, options), UnsupportedError);
    REQUIRE_THROWS_WITH(write_grib2_products(path, *mesh, ref, fm, vm, options),
                        Catch::StartsWith(path) && Catch::Contains("mesh"));
    CHECK(files_in(dir).empty());
  }
  SECTION("a directory that does not exist or cannot be written") {
    auto [f, v] = one(*grid, mean);
    const auto missing = (dir / "no-such-dir" / "out.grib2").string();
    REQUIRE_THROWS_AS(write_grib2_products(missing, *grid, ref, f, v, options), InputError);
    REQUIRE_THROWS_WITH(write_grib2_products(missing, *grid, ref, f, v, options),
                        Catch::StartsWith(missing) && Catch::Contains("does not exist"));
    CHECK_FALSE(std::filesystem::exists(dir / "no-such-dir"));
    // /proc/self is a directory in which nobody, root included, can create files.
    const std::string proc = "/proc/self/gale-products.grib2";
    REQUIRE_THROWS_AS(write_grib2_products(proc, *grid, ref, f, v, options), InputError);
    REQUIRE_THROWS_WITH(write_grib2_products(proc, *grid, ref, f, v, options),
                        Catch::StartsWith(proc) && Catch::Contains("cannot create"));
    CHECK_FALSE(std::filesystem::exists(proc));
    if (::geteuid() != 0) {  // permissions do not stop root
      const auto ro = dir / "read-only";
      std::filesystem::create_directories(ro);
      std::filesystem::permissions(ro, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
      const auto path = (ro / "out.grib2").string();
      REQUIRE_THROWS_AS(write_grib2_products(path, *grid, ref, f, v, options), InputError);
      std::filesystem::permissions(ro, std::filesystem::perms::owner_all);
      CHECK(files_in(ro).empty());
    }
  }
  SECTION("invalid fields; an existing product survives a failed write") {
    const auto path = (dir / "out.grib2").string();
    {
      auto [f, v] = one(*grid, mean);
      write_grib2_products(path, *grid, ref, f, v, options);
    }
    const auto first = sha256_file(path);
    auto fails = [&](GribProductField f, float value = 0.5f) {
      std::vector<float> v(grid->size(), value);
      write_grib2_products(path, *grid, ref, {f}, v, options);
    };
    // tp only exists as an interval product.
    REQUIRE_THROWS_AS(fails(field("tp", GribProduct::mean, ref)), UnsupportedError);
    REQUIRE_THROWS_WITH(fails(field("tp", GribProduct::mean, ref)),
                        Catch::StartsWith(path) && Catch::Contains("'tp'") && Catch::Contains("interval_start"));
    auto member = field("2t", GribProduct::member, ref);
    member.member = 5;
    REQUIRE_THROWS_AS(fails(member), ConfigError);
    REQUIRE_THROWS_WITH(fails(member), Catch::Contains("member 5 is outside 0..4"));
    auto pct = field("2t", GribProduct::percentile, ref);
    pct.percentile = 2.5;
    REQUIRE_THROWS_AS(fails(pct), UnsupportedError);
    pct.percentile = 101;
    REQUIRE_THROWS_AS(fails(pct), ConfigError);
    auto prob = field("2t", GribProduct::probability_above, ref);
    prob.threshold = 273.15;
    REQUIRE_THROWS_AS(fails(prob, 1.5f), DataError);
    REQUIRE_THROWS_WITH(fails(prob, 1.5f), Catch::StartsWith(path) && Catch::Contains("outside 0..1"));
    auto backwards = field("2t", GribProduct::mean, ref + std::chrono::hours(6));
    backwards.interval_start = ref + std::chrono::hours(12);
    backwards.statistical_process = "max";
    REQUIRE_THROWS_AS(fails(backwards), ConfigError);
    backwards.interval_start = ref;
    backwards.statistical_process = "avg";
    REQUIRE_THROWS_WITH(fails(backwards), Catch::Contains("accum, max, min"));
    REQUIRE_THROWS_AS(fails(field("2t", GribProduct::mean, ref - std::chrono::hours(1))), UnsupportedError);
    REQUIRE_THROWS_AS(fails(field("t_ml137", GribProduct::mean, ref)), UnsupportedError);
    GribProductOptions no_size;
    REQUIRE_THROWS_AS(write_grib2_products(path, *grid, ref, {mean}, std::vector<float>(grid->size()), no_size),
                      ConfigError);
    REQUIRE_THROWS_AS(write_grib2_products(path, *grid, ref, {mean}, std::vector<float>(3), options), InternalError);
    CHECK(sha256_file(path) == first);
    CHECK(files_in(dir).size() == 2);
  }
  std::filesystem::remove_all(dir);
}
