#pragma once
// Internal to gale_export: the ecCodes encoding steps shared by the GRIB2 writers
// (grib_writer.cpp for member States, grib_products.cpp for ensemble products), so that
// grid, level, parameter, time and value encoding are done one way. Not a public API.
#include <eccodes.h>

#include "ingest/eccodes_logging.hpp"
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "core/grid.hpp"
#include "core/lexicon.hpp"
#include "core/time.hpp"
#include "export/writable_variable.hpp"
#include "grids/gaussian.hpp"

namespace gale::grib {

struct HandleDeleter {
  void operator()(codes_handle* h) const { codes_handle_delete(h); }
};
using Handle = std::unique_ptr<codes_handle, HandleDeleter>;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

using gale::route_eccodes_logging;  // ingest/eccodes_logging.hpp

// Key setting that names the output, the field and the key in every error.
class Encoder {
 public:
  Encoder(codes_handle* h, const std::string& path, std::string what)
      : h_(h), path_(path), what_(std::move(what)) {}
  void set(const char* key, long v) const {
    if (int err = codes_set_long(h_, key, v)) fail(key, std::to_string(v), err);
  }
  void set(const char* key, double v) const {
    if (int err = codes_set_double(h_, key, v)) fail(key, fmt::format("{}", v), err);
  }
  void set(const char* key, const std::string& v) const {
    std::size_t len = v.size();
    if (int err = codes_set_string(h_, key, v.c_str(), &len)) fail(key, v, err);
  }
  void set_missing(const char* key) const {
    if (int err = codes_set_missing(h_, key)) fail(key, "missing", err);
  }
  long get_long(const char* key) const {
    long v = 0;
    if (int err = codes_get_long(h_, key, &v)) fail(key, "(get)", err);
    return v;
  }
  std::string get_string(const char* key) const {
    char buf[256];
    std::size_t len = sizeof buf;
    if (codes_get_string(h_, key, buf, &len) != 0) return "";
    return buf;
  }
  codes_handle* handle() const { return h_; }
  const std::string& path() const { return path_; }
  const std::string& what() const { return what_; }
  [[noreturn]] void fail(const char* key, const std::string& value, int err) const {
    throw InternalError(fmt::format("{}: {}: ecCodes cannot set '{}' = {}: {}", path_, what_, key,
                                    value, codes_get_error_message(err)));
  }

 private:
  codes_handle* h_;
  const std::string& path_;
  std::string what_;
};

// Degrees as GRIB2 stores them (micro-degrees): exact or not representable.
inline bool micro_degrees(double deg) {
  const double x = deg * 1e6;
  return std::abs(x - std::round(x)) < 1e-3;
}

inline bool evenly_spaced(const std::vector<double>& v) {
  for (std::size_t i = 2; i < v.size(); ++i)
    if (std::abs((v[i] - v[i - 1]) - (v[1] - v[0])) > 1e-6) return false;
  return true;
}

inline double round_1e9(double deg) { return std::round(deg * 1e9) / 1e9; }

// Grid keys for a regular lat-lon or regular Gaussian grid; throws UnsupportedError for
// anything GRIB2 (template 3.0 / 3.40 as our reader reads it) cannot carry exactly.
struct GridKeys {
  bool gaussian = false;
  long ni = 0, nj = 0, n = 0;
  double lat_first = 0, lat_last = 0, lon_first = 0, lon_last = 0, di = 0, dj = 0;
};

inline GridKeys grid_keys(const Grid& grid, const std::string& path) {
  if (grid.kind() != GridKind::regular_ll && grid.kind() != GridKind::regular_gaussian)
    throw UnsupportedError(fmt::format(
        "{}: GRIB2 output supports regular lat-lon and regular Gaussian grids, not {} ({})", path,
        to_string(grid.kind()), grid.describe()));
  const auto& lats = grid.row_latitudes();
  const auto& lons = grid.longitudes();
  GridKeys k;
  k.gaussian = grid.kind() == GridKind::regular_gaussian;
  k.ni = long(lons.size());
  k.nj = long(lats.size());
  k.lat_first = lats.front();
  k.lat_last = lats.back();
  k.lon_first = lons.front();
  k.lon_last = lons.back();
  k.di = k.ni > 1 ? lons[1] - lons[0] : 0;
  k.dj = k.nj > 1 ? lats[0] - lats[1] : 0;
  if (!evenly_spaced(lons))
    throw UnsupportedError(fmt::format("{}: GRIB2 output needs evenly spaced longitudes ({})", path,
                                       grid.describe()));
  bool exact = micro_degrees(k.lon_first) && micro_degrees(k.lon_last) && micro_degrees(k.di);
  if (k.gaussian) {
    // Only global Gaussian grids: N = rows / 2 and the rows are the Gaussian latitudes.
    bool global = k.nj % 2 == 0;
    if (global) {
      k.n = k.nj / 2;
      const auto gauss = gaussian_latitudes(int(k.n)).latitudes_deg;
      for (std::size_t j = 0; global && j < lats.size(); ++j)
        global = std::abs(round_1e9(gauss[j]) - lats[j]) < 1e-6;
    }
    if (!global)
      throw UnsupportedError(fmt::format(
          "{}: GRIB2 output supports global regular Gaussian grids only ({})", path, grid.describe()));
  } else {
    if (!evenly_spaced(lats))
      throw UnsupportedError(fmt::format("{}: GRIB2 output needs evenly spaced latitudes ({})", path,
                                         grid.describe()));
    exact = exact && micro_degrees(k.lat_first) && micro_degrees(k.lat_last) && micro_degrees(k.dj);
  }
  if (!exact)
    throw UnsupportedError(fmt::format(
        "{}: grid coordinates are not whole micro-degrees, which GRIB2 cannot store exactly ({})",
        path, grid.describe()));
  return k;
}

inline void set_grid(const Encoder& e, const GridKeys& k) {
  if (k.gaussian) e.set("N", k.n);
  e.set("Ni", k.ni);
  e.set("Nj", k.nj);
  e.set("iScansNegatively", 0L);
  e.set("jScansPositively", 0L);
  e.set("jPointsAreConsecutive", 0L);
  e.set("latitudeOfFirstGridPointInDegrees", k.lat_first);
  e.set("longitudeOfFirstGridPointInDegrees", k.lon_first);
  e.set("latitudeOfLastGridPointInDegrees", k.lat_last);
  e.set("longitudeOfLastGridPointInDegrees", k.lon_last);
  if (k.ni > 1) e.set("iDirectionIncrementInDegrees", k.di);
  if (!k.gaussian && k.nj > 1) e.set("jDirectionIncrementInDegrees", k.dj);
}

// A new message from the ecCodes sample for the grid (ll/gg) and level kind (pl/sfc), with
// the grid keys set.
inline Handle new_message(const GridKeys& grid, bool isobaric, const std::string& path,
                          const std::string& what) {
  const std::string sample = fmt::format("regular_{}_{}_grib2", grid.gaussian ? "gg" : "ll",
                                         isobaric ? "pl" : "sfc");
  Handle h(codes_grib_handle_new_from_samples(nullptr, sample.c_str()));
  if (!h) throw InternalError(fmt::format("{}: ecCodes sample '{}' not found", path, sample));
  set_grid(Encoder(h.get(), path, what), grid);
  return h;
}

// Level and paramId of `v` (the product definition template must be set already).
// paramId is the lexicon entry's first GRIB paramId (orography: 228002); setting it also
// sets the level type the parameter is defined on (2t: 2 m above ground). Throws
// UnsupportedError when ecCodes cannot encode the parameter in `template_number`, with
// `hint` appended, and InternalError when the message would not read back as `v`.
inline void set_parameter(const Encoder& e, const Variable& v, long template_number,
                          const std::string& hint) {
  const auto& path = e.path();
  const auto& entry = writable_entry(v, path, "GRIB2");
  const bool isobaric = v.level_kind == LevelKind::isobaric;
  if (entry.grib_param_ids.empty())
    throw UnsupportedError(fmt::format("{}: variable '{}' has no GRIB paramId in the lexicon", path, v.key()));
  const long param_id = entry.name == "orography" ? 228002 : entry.grib_param_ids.front();
  if (isobaric) {
    const double hpa = v.level;
    if (hpa == std::round(hpa) && hpa >= 1) {
      e.set("typeOfLevel", std::string("isobaricInhPa"));
      e.set("level", long(hpa));
    } else if (hpa * 100 == std::round(hpa * 100) && hpa > 0) {
      e.set("typeOfLevel", std::string("isobaricInPa"));
      e.set("level", long(std::lround(hpa * 100)));
    } else {
      throw UnsupportedError(fmt::format("{}: variable '{}': level {} hPa is not a whole number of Pa",
                                         path, v.key(), hpa));
    }
  } else {
    e.set("typeOfLevel", std::string("surface"));
    e.set("level", 0L);
  }
  if (int err = codes_set_long(e.handle(), "paramId", param_id))
    throw UnsupportedError(fmt::format(
        "{}: variable '{}': ecCodes cannot encode paramId {} in product template {}: {}{}", path,
        v.key(), param_id, template_number, codes_get_error_message(err), hint));
  // What the reader will make of it must be this very variable.
  const auto* back = Lexicon::instance().from_grib(e.get_long("paramId"), e.get_string("shortName"),
                                                   e.get_string("typeOfLevel"));
  if (back != &entry || e.get_long("paramId") != param_id)
    throw InternalError(fmt::format(
        "{}: variable '{}': encoded as paramId {} ({}, typeOfLevel {}), which reads back as '{}'",
        path, v.key(), e.get_long("paramId"), e.get_string("shortName"), e.get_string("typeOfLevel"),
        back ? back->name : "nothing"));
  if (isobaric && e.get_string("typeOfLevel").rfind("isobaric", 0) != 0)
    throw InternalError(fmt::format("{}: variable '{}': paramId {} lost the pressure level", path,
                                    v.key(), param_id));
}

// dataDate/dataTime from a reference time in whole minutes (else UnsupportedError).
inline void set_reference_time(const Encoder& e, TimePoint ref) {
  using namespace std::chrono;
  const auto day = floor<days>(ref);
  const year_month_day ymd{day};
  const auto tod = ref - day;
  if (tod.count() % 60 != 0)
    throw UnsupportedError(fmt::format("{}: reference time {} is not a whole minute", e.path(), iso8601(ref)));
  e.set("dataDate", long(int(ymd.year())) * 10000 + long(unsigned(ymd.month())) * 100 +
                        long(unsigned(ymd.day())));
  e.set("dataTime", long(tod.count() / 3600) * 100 + long(tod.count() % 3600 / 60));
}

inline std::string step_error(const std::string& path, TimePoint ref, TimePoint valid, const char* why) {
  return fmt::format("{}: valid time {} with reference time {}: {}", path, iso8601(valid), iso8601(ref), why);
}

// A forecast step as GRIB2 time-range unit (code table 4.4: 1 hour, 0 minute) and count:
// hours when whole hours, else minutes. Negative or sub-minute steps are UnsupportedError.
struct Step {
  long unit = 1;  // indicatorOfUnitOfTimeRange
  long value = 0;
};

inline Step step_of(const std::string& path, TimePoint ref, TimePoint valid) {
  const auto s = (valid - ref).count();
  if (s < 0) throw UnsupportedError(step_error(path, ref, valid, "negative forecast step"));
  if (s % 3600 == 0) return {1L, long(s / 3600)};
  if (s % 60 == 0) return {0L, long(s / 60)};
  throw UnsupportedError(step_error(path, ref, valid, "step is not whole minutes"));
}

// Values of one field: NaN becomes a bitmap-missing point; the missing-value sentinel must
// differ from every real value. Infinite values are DataError naming path and field.
inline void set_values(const Encoder& e, const float* field, std::size_t n, double scale = 1) {
  bool any_missing = false, collides = false;
  double sentinel = 9999, largest = -HUGE_VAL;
  std::vector<double> values(n);
  for (std::size_t p = 0; p < n; ++p) {
    if (std::isnan(field[p])) {
      any_missing = true;
    } else {
      if (!std::isfinite(field[p]))
        throw DataError(fmt::format("{}: {}: infinite value at point {}", e.path(), e.what(), p));
      values[p] = double(field[p]) * scale;
      largest = std::max(largest, values[p]);
      collides = collides || values[p] == sentinel;
    }
  }
  if (collides) sentinel = std::max(9999.0, largest) + 1e6;
  for (std::size_t p = 0; p < n; ++p)
    if (std::isnan(field[p])) values[p] = sentinel;
  e.set("bitmapPresent", any_missing ? 1L : 0L);
  if (any_missing) e.set("missingValue", sentinel);
  if (int err = codes_set_double_array(e.handle(), "values", values.data(), n))
    throw InternalError(fmt::format("{}: {}: ecCodes cannot encode the values: {}", e.path(), e.what(),
                                    codes_get_error_message(err)));
}

// Appends the encoded message to `f`; InputError when the write fails.
inline void append_message(const Encoder& e, std::FILE* f) {
  const void* msg = nullptr;
  std::size_t size = 0;
  if (int err = codes_get_message(e.handle(), &msg, &size))
    throw InternalError(fmt::format("{}: {}: ecCodes cannot produce the message: {}", e.path(), e.what(),
                                    codes_get_error_message(err)));
  if (std::fwrite(msg, 1, size, f) != size)
    throw InputError(fmt::format("{}: cannot write GRIB message ({}): {}", e.path(), e.what(),
                                 std::strerror(errno)));
}

// Flushes and closes a file opened for writing; InputError naming `path` on failure.
inline void close_written(std::unique_ptr<std::FILE, FileCloser> f, const std::string& path) {
  std::FILE* raw = f.release();
  const bool flushed = std::fflush(raw) == 0;
  const int err = errno;
  if (std::fclose(raw) != 0 || !flushed)
    throw InputError(fmt::format("{}: cannot write GRIB file: {}", path, std::strerror(err)));
}

}  // namespace gale::grib
