#include "export/grib_products.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "export/atomic_file.hpp"
#include "export/grib_encoding.hpp"

namespace gale {

std::string to_string(GribProduct product) {
  switch (product) {
    case GribProduct::member: return "member";
    case GribProduct::mean: return "mean";
    case GribProduct::spread: return "spread";
    case GribProduct::minimum: return "minimum";
    case GribProduct::maximum: return "maximum";
    case GribProduct::percentile: return "percentile";
    case GribProduct::probability_above: return "probability_above";
    case GribProduct::probability_below: return "probability_below";
  }
  return "unknown";
}

std::string GribProductField::describe() const {
  std::string s = variable.key() + " " + to_string(product);
  if (product == GribProduct::member) s += fmt::format(" {}", member);
  if (product == GribProduct::percentile) s += fmt::format(" {}", percentile);
  if (product == GribProduct::probability_above || product == GribProduct::probability_below)
    s += fmt::format(" {}", threshold);
  if (interval_start)
    s += fmt::format(" [{} .. {}] {}", iso8601(*interval_start), iso8601(valid), statistical_process);
  else
    s += " " + iso8601(valid);
  return s;
}

namespace {

using namespace grib;
using namespace std::chrono;

bool is_probability(GribProduct p) {
  return p == GribProduct::probability_above || p == GribProduct::probability_below;
}
bool is_derived(GribProduct p) {
  return p == GribProduct::mean || p == GribProduct::spread || p == GribProduct::minimum ||
         p == GribProduct::maximum;
}

long template_number(const GribProductField& f) {
  const bool interval = f.interval_start.has_value();
  if (f.product == GribProduct::member) return interval ? 11 : 1;
  if (is_derived(f.product)) return interval ? 12 : 2;
  if (is_probability(f.product)) return interval ? 9 : 5;
  return interval ? 10 : 6;  // percentile
}

// Code table 4.7.
long derived_forecast(GribProduct p) {
  switch (p) {
    case GribProduct::mean: return 0;     // unweighted mean of all members
    case GribProduct::spread: return 4;   // spread of all members (ECMWF es)
    case GribProduct::minimum: return 8;  // minimum of all ensemble members
    case GribProduct::maximum: return 9;  // maximum of all ensemble members
    default: return 255;
  }
}

// Code table 4.10.
long statistical_process_code(const std::string& s) {
  if (s == "accum") return 1;
  if (s == "max") return 2;
  if (s == "min") return 3;
  return -1;
}

// A threshold as GRIB2 (scale factor, scaled value): value / 10^factor; the smallest factor
// 0..9 that is exact as a decimal, else the largest that fits 31 bits (rounded).
std::pair<long, long> scaled_limit(double t, const std::string& path, const std::string& what) {
  constexpr double max_scaled = 2147483647.0;
  if (std::abs(t) > max_scaled)
    throw UnsupportedError(fmt::format("{}: {}: threshold {} does not fit a GRIB2 scaled value", path, what, t));
  std::pair<long, long> best{0, std::lround(t)};
  for (long s = 0; s <= 9; ++s) {
    const double x = t * std::pow(10.0, double(s));
    if (std::abs(x) > max_scaled) break;
    best = {s, std::lround(x)};
    if (std::abs(x - std::round(x)) <= 1e-9 * std::max(1.0, std::abs(x))) break;
  }
  return best;
}

long yyyymmdd(TimePoint t) {
  const year_month_day ymd{floor<days>(t)};
  return long(int(ymd.year())) * 10000 + long(unsigned(ymd.month())) * 100 + long(unsigned(ymd.day()));
}
long hhmm(TimePoint t) {
  const auto s = (t - floor<days>(t)).count();
  return long(s / 3600) * 100 + long(s % 3600 / 60);
}

// What a message must decode to.
struct Expected {
  std::string what;
  std::vector<std::pair<std::string, long>> keys;  // productDefinitionTemplateNumber first
  const float* field = nullptr;
  double scale = 1;  // probability: fraction -> percent
};

void validate(const GribProductField& f, TimePoint reference, const GribProductOptions& options,
              const std::string& path) {
  const auto what = f.describe();
  const bool needs_ensemble = f.product == GribProduct::member || is_derived(f.product);
  if (needs_ensemble && options.ensemble_size < 1)
    throw ConfigError(fmt::format("{}: {}: numberOfForecastsInEnsemble is needed: set ensemble_size (>= 1)",
                                  path, what));
  if (f.product == GribProduct::member && (f.member < 0 || f.member >= options.ensemble_size))
    throw ConfigError(fmt::format("{}: {}: member {} is outside 0..{}", path, what, f.member,
                                  options.ensemble_size - 1));
  if (f.product == GribProduct::percentile) {
    if (!(f.percentile >= 0 && f.percentile <= 100))
      throw ConfigError(fmt::format("{}: {}: percentile {} is outside 0..100", path, what, f.percentile));
    if (f.percentile != std::round(f.percentile))
      throw UnsupportedError(fmt::format(
          "{}: {}: percentile {} is not a whole number, which GRIB2 percentileValue cannot store", path,
          what, f.percentile));
  }
  if (is_probability(f.product) && !std::isfinite(f.threshold))
    throw ConfigError(fmt::format("{}: {}: threshold {} is not finite", path, what, f.threshold));
  if (f.interval_start) {
    if (statistical_process_code(f.statistical_process) < 0)
      throw ConfigError(fmt::format(
          "{}: {}: statistical_process '{}' must be one of accum, max, min for an interval product", path,
          what, f.statistical_process));
    if (*f.interval_start >= f.valid)
      throw ConfigError(fmt::format("{}: {}: interval start {} is not before its end {}", path, what,
                                    iso8601(*f.interval_start), iso8601(f.valid)));
  } else if (!f.statistical_process.empty()) {
    throw ConfigError(fmt::format("{}: {}: statistical_process '{}' needs interval_start", path, what,
                                  f.statistical_process));
  }
  (void)step_of(path, reference, f.valid);
  if (f.interval_start) (void)step_of(path, reference, *f.interval_start);
}

// Encodes field `i` into `f`, returning what it must read back as.
Expected encode(const std::string& path, const GridKeys& grid, std::size_t n, TimePoint reference,
                const std::vector<GribProductField>& fields, std::size_t i, const float* data,
                const GribProductOptions& options, std::FILE* f) {
  const auto& field = fields[i];
  const auto what = fmt::format("field {} ({})", i + 1, field.describe());
  const long tmpl = template_number(field);
  const bool interval = field.interval_start.has_value();
  Handle h = new_message(grid, field.variable.level_kind == LevelKind::isobaric, path, what);
  const Encoder e(h.get(), path, what);

  Expected x;
  x.what = what;
  x.field = data;
  auto expect = [&](const char* key, long v) { x.keys.emplace_back(key, v); };
  auto put = [&](const char* key, long v) {
    e.set(key, v);
    expect(key, v);
  };

  put("productDefinitionTemplateNumber", tmpl);
  put("typeOfGeneratingProcess", 4L);  // ensemble forecast
  set_parameter(e, field.variable, tmpl,
                interval ? std::string()
                         : std::string(" (accumulated or other statistically processed parameters are "
                                       "interval products: set interval_start and statistical_process)"));
  // The parameter and level as set_parameter checked them; the statistical process set
  // below may rename the parameter (mx2t6) but must not move it.
  for (const char* key : {"discipline", "parameterCategory", "parameterNumber", "typeOfFirstFixedSurface",
                          "scaleFactorOfFirstFixedSurface", "scaledValueOfFirstFixedSurface"})
    expect(key, e.get_long(key));
  set_reference_time(e, reference);
  expect("dataDate", yyyymmdd(reference));
  expect("dataTime", hhmm(reference));
  expect("validityDate", yyyymmdd(field.valid));
  expect("validityTime", hhmm(field.valid));

  if (interval) {
    Step start = step_of(path, reference, *field.interval_start);
    Step end = step_of(path, reference, field.valid);
    if (start.unit != end.unit) {  // one unit for both: minutes
      if (start.unit == 1) start = {0L, start.value * 60};
      if (end.unit == 1) end = {0L, end.value * 60};
    }
    put("typeOfStatisticalProcessing", statistical_process_code(field.statistical_process));
    put("indicatorOfUnitOfTimeRange", start.unit);
    put("forecastTime", start.value);
    put("numberOfTimeRange", 1L);
    put("typeOfTimeIncrement", 2L);  // same reference time, forecast time incremented
    put("indicatorOfUnitForTimeRange", end.unit);
    put("lengthOfTimeRange", end.value - start.value);
    const year_month_day ymd{floor<days>(field.valid)};
    const auto tod = (field.valid - floor<days>(field.valid)).count();
    put("yearOfEndOfOverallTimeInterval", long(int(ymd.year())));
    put("monthOfEndOfOverallTimeInterval", long(unsigned(ymd.month())));
    put("dayOfEndOfOverallTimeInterval", long(unsigned(ymd.day())));
    put("hourOfEndOfOverallTimeInterval", long(tod / 3600));
    put("minuteOfEndOfOverallTimeInterval", long(tod % 3600 / 60));
    put("secondOfEndOfOverallTimeInterval", 0L);
  } else {
    const Step step = step_of(path, reference, field.valid);
    put("indicatorOfUnitOfTimeRange", step.unit);
    put("forecastTime", step.value);
  }

  switch (field.product) {
    case GribProduct::member:
      put("typeOfEnsembleForecast", field.member == 0 ? 0L : 3L);
      put("perturbationNumber", long(field.member));
      put("numberOfForecastsInEnsemble", long(options.ensemble_size));
      put("typeOfProcessedData", field.member == 0 ? 3L : 4L);  // cf / pf
      break;
    case GribProduct::mean:
    case GribProduct::spread:
    case GribProduct::minimum:
    case GribProduct::maximum:
      put("derivedForecast", derived_forecast(field.product));
      put("numberOfForecastsInEnsemble", long(options.ensemble_size));
      put("typeOfProcessedData", 5L);  // control and perturbed forecast products
      break;
    case GribProduct::percentile:
      put("percentileValue", std::lround(field.percentile));
      put("typeOfProcessedData", 5L);
      break;
    case GribProduct::probability_above:
    case GribProduct::probability_below: {
      // The distinct (type, threshold) pairs of this variable in this call.
      std::vector<std::pair<GribProduct, double>> pairs;
      for (const auto& o : fields)
        if (is_probability(o.product) && o.variable.same_field(field.variable) &&
            std::find(pairs.begin(), pairs.end(), std::pair{o.product, o.threshold}) == pairs.end())
          pairs.emplace_back(o.product, o.threshold);
      const auto index = std::find(pairs.begin(), pairs.end(), std::pair{field.product, field.threshold}) -
                         pairs.begin();
      put("forecastProbabilityNumber", long(index + 1));
      put("totalNumberOfForecastProbabilities", long(pairs.size()));
      put("probabilityType", field.product == GribProduct::probability_above ? 3L : 0L);
      const auto [factor, value] = scaled_limit(field.threshold, path, what);
      put("scaleFactorOfLowerLimit", factor);
      put("scaledValueOfLowerLimit", value);
      e.set_missing("scaleFactorOfUpperLimit");
      e.set_missing("scaledValueOfUpperLimit");
      put("typeOfProcessedData", 5L);
      x.scale = 100;  // fractions in, percent out
      for (std::size_t p = 0; p < n; ++p)
        if (!std::isnan(data[p]) && !(data[p] >= 0 && data[p] <= 1))
          throw DataError(fmt::format("{}: {}: probability {} at point {} is outside 0..1", path, what,
                                      data[p], p));
      break;
    }
  }
  // The parameter must not have moved (the statistical process may only rename it).
  for (std::size_t k = 0; k < x.keys.size(); ++k)
    if (e.get_long(x.keys[k].first.c_str()) != x.keys[k].second)
      throw InternalError(fmt::format("{}: {}: ecCodes changed '{}' from {} to {} while encoding", path, what,
                                      x.keys[k].first, x.keys[k].second, e.get_long(x.keys[k].first.c_str())));
  e.set("packingType", std::string("grid_simple"));
  e.set("bitsPerValue", long(options.bits_per_value));
  expect("Ni", grid.ni);
  expect("Nj", grid.nj);
  expect("numberOfDataPoints", long(n));
  long missing = 0;
  for (std::size_t p = 0; p < n; ++p) missing += std::isnan(data[p]);
  expect("numberOfMissing", missing);
  set_values(e, data, n, x.scale);
  append_message(e, f);
  return x;
}

// Decodes the written file again and compares every message with what was meant.
void verify(const std::string& path, const std::string& temp, const std::vector<Expected>& expected,
            std::size_t n, int bits) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(temp.c_str(), "rb"));
  if (!f)
    throw InputError(fmt::format("{}: cannot re-read the written GRIB file (temporary {}): {}", path, temp,
                                 std::strerror(errno)));
  std::size_t count = 0;
  std::vector<double> decoded(n);
  for (;;) {
    int err = 0;
    Handle h(codes_handle_new_from_file(nullptr, f.get(), PRODUCT_GRIB, &err));
    if (!h) {
      if (err != 0)
        throw InternalError(fmt::format("{}: message {} does not decode: {}", path, count + 1,
                                        codes_get_error_message(err)));
      break;
    }
    if (count >= expected.size())
      throw InternalError(fmt::format("{}: {} messages written for {} fields", path, count + 1, expected.size()));
    const auto& x = expected[count++];
    for (const auto& [key, want] : x.keys) {
      long got = 0;
      const int kerr = codes_get_long(h.get(), key.c_str(), &got);
      if (kerr != 0 || got != want)
        throw InternalError(fmt::format("{}: {}: re-read '{}' = {}, expected {}", path, x.what, key,
                                        kerr ? std::string(codes_get_error_message(kerr)) : std::to_string(got),
                                        want));
    }
    // Expected values, their range and the packing tolerance.
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (std::size_t p = 0; p < n; ++p)
      if (!std::isnan(x.field[p])) {
        const double v = double(x.field[p]) * x.scale;
        lo = std::min(lo, v), hi = std::max(hi, v);
      }
    const bool all_missing = lo > hi;
    const double big = all_missing ? 0 : std::max(std::abs(lo), std::abs(hi));
    const double tol = all_missing ? 0 : (hi - lo) / (std::ldexp(1.0, bits) - 1) + big * std::ldexp(1.0, -23);
    // A missing value no decoded real value can equal.
    const double sentinel = -(big + 1e6) * 2;
    std::size_t size = 0;
    if (codes_set_double(h.get(), "missingValue", sentinel) != 0 || codes_get_size(h.get(), "values", &size) != 0 ||
        size != n || codes_get_double_array(h.get(), "values", decoded.data(), &size) != 0)
      throw InternalError(fmt::format("{}: {}: re-read values cannot be decoded ({} of {} points)", path,
                                      x.what, size, n));
    for (std::size_t p = 0; p < n; ++p) {
      const bool want_missing = std::isnan(x.field[p]);
      const bool got_missing = decoded[p] == sentinel;
      const double want = double(x.field[p]) * x.scale;
      if (want_missing != got_missing || (!want_missing && !(std::abs(decoded[p] - want) <= tol)))
        throw InternalError(fmt::format(
            "{}: {}: re-read value at point {} is {}, expected {} (packing tolerance {})", path, x.what, p,
            got_missing ? std::string("missing") : fmt::format("{}", decoded[p]),
            want_missing ? std::string("missing") : fmt::format("{}", want), tol));
    }
  }
  if (count != expected.size())
    throw InternalError(fmt::format("{}: {} messages re-read for {} fields", path, count, expected.size()));
}

void write_file(const std::string& path, const std::string& temp, const Grid& grid, TimePoint reference,
                const std::vector<GribProductField>& fields, const std::vector<float>& values,
                const GribProductOptions& options) {
  const auto keys = grid_keys(grid, path);
  const std::size_t n = grid.size();
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(temp.c_str(), "wb"));
  if (!f)
    throw InputError(fmt::format("{}: cannot create GRIB file (temporary {}): {}", path, temp,
                                 std::strerror(errno)));
  std::vector<Expected> expected;
  for (std::size_t i = 0; i < fields.size(); ++i)
    expected.push_back(encode(path, keys, n, reference, fields, i, values.data() + i * n, options, f.get()));
  close_written(std::move(f), path);
  verify(path, temp, expected, n, options.bits_per_value);
}

}  // namespace

void write_grib2_products(const std::string& path, const Grid& grid, TimePoint reference,
                          const std::vector<GribProductField>& fields, const std::vector<float>& values,
                          const GribProductOptions& options) {
  route_eccodes_logging();
  if (options.bits_per_value < 1 || options.bits_per_value > 32)
    throw ConfigError(fmt::format("{}: GRIB bits_per_value {} is outside 1..32", path, options.bits_per_value));
  if (fields.empty()) throw ConfigError(fmt::format("{}: no GRIB2 product fields to write", path));
  if (values.size() != fields.size() * grid.size())
    throw InternalError(fmt::format("{}: {} values for {} fields of {} points", path, values.size(),
                                    fields.size(), grid.size()));
  for (const auto& f : fields) validate(f, reference, options, path);
  AtomicOutput out(path);
  write_file(path, out.temp_path(), grid, reference, fields, values, options);
  out.commit();
}

}  // namespace gale
