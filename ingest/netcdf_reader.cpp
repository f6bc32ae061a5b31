#include "ingest/netcdf_reader.hpp"

#include "grids/gaussian.hpp"

#include <fmt/format.h>
#include <netcdf.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>

#include <hdf5.h>
#include <numbers>
#include <numeric>
#include <optional>
#include <sstream>

#include "core/errors.hpp"
#include "ingest/mapped_file.hpp"

namespace gale {

namespace {

using namespace std::chrono;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Largest coordinate axis and grid (points) Gale reads; as for GRIB (kMaxGridPoints).
constexpr std::size_t kMaxAxisValues = std::size_t{1} << 27;

std::size_t pad4(std::size_t n) { return n > SIZE_MAX - 3 ? SIZE_MAX : (n + 3) / 4 * 4; }

// Sizes from a corrupt header overflow (a dimension of 2^63 + 4 made a variable's size wrap
// to 16 bytes and passed the truncation check: found by fuzz/fuzz_netcdf), so saturate.
std::size_t mul_sat(std::size_t a, std::size_t b) {
  std::size_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}
std::size_t add_sat(std::size_t a, std::size_t b) {
  std::size_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

// NetCDF-C (and HDF5 beneath it) is not thread-safe: every library call runs under this.
std::mutex& netcdf_mutex() {
  static std::mutex m;
  return m;
}

// HDF5 keeps its error-printing switch per thread, and NetCDF-C turns it off only in the
// thread that first opened a file: a reader used from another thread (a training prefetch
// thread) would print HDF5's internal error stacks for attributes NetCDF merely probes.
void silence_hdf5_in_this_thread() {
  thread_local bool silenced = false;
  if (!silenced) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), silenced = true;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

template <typename T>
bool one_of(const T& value, std::initializer_list<T> options) {
  return std::find(options.begin(), options.end(), value) != options.end();
}

// An open NetCDF file, closed on every path out (including exceptions).
class NcFile {
 public:
  explicit NcFile(const std::string& path) : path_(path) {
    std::lock_guard lock(netcdf_mutex());
    silence_hdf5_in_this_thread();
    if (int err = nc_open(path.c_str(), NC_NOWRITE, &id_); err != NC_NOERR)
      throw InputError(fmt::format("{}: not a readable NetCDF file ({})", path, nc_strerror(err)));
  }
  ~NcFile() {
    std::lock_guard lock(netcdf_mutex());
    nc_close(id_);
  }
  NcFile(const NcFile&) = delete;
  NcFile& operator=(const NcFile&) = delete;

  int id() const { return id_; }
  const std::string& path() const { return path_; }
  // A failed library call is a damaged or unexpected file: name the file and the step.
  void check(int status, const std::string& what) const {
    if (status != NC_NOERR)
      throw InputError(fmt::format("{}: {}: {}", path_, what, nc_strerror(status)));
  }

 private:
  std::string path_;
  int id_ = -1;
};

// ---------------------------------------------------------------------------------------
// Attributes and variable descriptions

// Text attribute (NC_CHAR or NetCDF-4 NC_STRING); "" when absent or not text.
std::string text_attribute(const NcFile& f, int varid, const char* name) {
  nc_type type = NC_NAT;
  std::size_t len = 0;
  if (nc_inq_att(f.id(), varid, name, &type, &len) != NC_NOERR || len == 0) return "";
  if (type == NC_CHAR) {
    std::string s(len, '\0');
    f.check(nc_get_att_text(f.id(), varid, name, s.data()), fmt::format("attribute '{}'", name));
    s.erase(std::find(s.begin(), s.end(), '\0'), s.end());  // some writers include the NUL
    return trim(s);
  }
  if (type == NC_STRING) {
    std::vector<char*> v(len, nullptr);
    f.check(nc_get_att_string(f.id(), varid, name, v.data()), fmt::format("attribute '{}'", name));
    std::string s = v[0] ? v[0] : "";
    nc_free_string(len, v.data());
    return trim(s);
  }
  return "";
}

// Numeric attribute of any numeric type as doubles (NaN stays NaN); empty when absent.
std::vector<double> numeric_attribute(const NcFile& f, int varid, const char* name) {
  nc_type type = NC_NAT;
  std::size_t len = 0;
  if (nc_inq_att(f.id(), varid, name, &type, &len) != NC_NOERR || len == 0) return {};
  if (type == NC_CHAR || type == NC_STRING) return {};
  std::vector<double> v(len);
  f.check(nc_get_att_double(f.id(), varid, name, v.data()), fmt::format("attribute '{}'", name));
  return v;
}

bool is_numeric(nc_type type) { return type >= NC_BYTE && type <= NC_UINT64 && type != NC_CHAR; }

struct VarInfo {
  int id = -1;
  std::string name;
  nc_type type = NC_NAT;
  std::vector<int> dims;
  std::string units, standard_name, calendar;
};

VarInfo inquire_variable(const NcFile& f, int varid) {
  char name[NC_MAX_NAME + 1] = {};
  int ndims = 0;
  VarInfo v;
  v.id = varid;
  f.check(nc_inq_var(f.id(), varid, name, &v.type, &ndims, nullptr, nullptr),
          fmt::format("variable #{}", varid));
  v.name = name;
  v.dims.resize(std::size_t(ndims));
  if (ndims > 0)
    f.check(nc_inq_vardimid(f.id(), varid, v.dims.data()), fmt::format("variable '{}'", v.name));
  v.units = text_attribute(f, varid, "units");
  v.standard_name = text_attribute(f, varid, "standard_name");
  v.calendar = text_attribute(f, varid, "calendar");
  return v;
}

// The decimal a float was meant to be ("0.1", not 0.100000001490116): float coordinates
// then match those of the same grid read from GRIB, so the grid fingerprints agree.
double intended_decimal(float x) {
  if (!std::isfinite(x)) return x;
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof buf, x).ptr;
  double d = x;
  std::from_chars(buf, end, d);
  return d;
}

// All values of a (1-D or scalar) coordinate variable.
std::vector<double> read_coordinate(const NcFile& f, const VarInfo& v) {
  std::size_t n = 1;
  for (int d : v.dims) {
    std::size_t len = 0;
    f.check(nc_inq_dimlen(f.id(), d, &len), fmt::format("variable '{}'", v.name));
    n = mul_sat(n, len);
  }
  // NetCDF-4 files are not size-checked (unwritten chunks read as fill values), so a tiny
  // file can state an axis of 2^60 values: refuse before allocating.
  if (n > kMaxAxisValues)
    throw UnsupportedError(fmt::format("{}: coordinate '{}' has {} values (Gale's limit is {})",
                                       f.path(), v.name, n, kMaxAxisValues));
  std::vector<double> out(n);
  if (n == 0) return out;
  const auto what = fmt::format("reading coordinate '{}'", v.name);
  if (v.type == NC_FLOAT) {
    std::vector<float> raw(n);
    f.check(nc_get_var_float(f.id(), v.id, raw.data()), what);
    std::transform(raw.begin(), raw.end(), out.begin(), intended_decimal);
  } else {
    f.check(nc_get_var_double(f.id(), v.id, out.data()), what);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Truncation

// Classic-format reads past the end of a truncated file return zeros instead of an error,
// which would pass silently as data. So compare the file size with the least it must
// have: the header (its encoding is fully determined by the metadata) plus every
// variable's data. Writers may pad the header, so this is a lower bound, never too big.
std::size_t type_size(nc_type t) {
  switch (t) {
    case NC_BYTE:
    case NC_CHAR:
    case NC_UBYTE:
      return 1;
    case NC_SHORT:
    case NC_USHORT:
      return 2;
    case NC_INT:
    case NC_UINT:
    case NC_FLOAT:
      return 4;
    default:
      return 8;
  }
}


// NetCDF-C trusts the counts and lengths in a classic (CDF-1, CDF-2, CDF-5) header: it
// allocates what they state before reading them (gigabytes for a 1 KB file) and copies
// names of any length into callers' NC_MAX_NAME + 1 buffers (a stack overflow in
// nc_inq_dim). Found by fuzz/fuzz_netcdf. So walk the header before nc_open and refuse a
// count or length the file cannot hold, or a name longer than NC_MAX_NAME.
void check_classic_header(const std::string& path) {
  std::optional<MappedFile> file;
  try {
    file.emplace(path);
  } catch (const InputError&) {
    return;  // nc_open names the problem
  }
  const unsigned char* p = file->data();
  const std::size_t n = file->size();
  if (n < 4 || std::memcmp(p, "CDF", 3) != 0 || (p[3] != 1 && p[3] != 2 && p[3] != 5)) return;
  const std::size_t count_size = p[3] == 5 ? 8 : 4;   // NON_NEG
  const std::size_t offset_size = p[3] == 1 ? 4 : 8;  // OFFSET (variable begin)
  const std::uint64_t max_type = p[3] == 5 ? NC_UINT64 : NC_DOUBLE;
  std::size_t pos = 4;
  auto fail = [&](const std::string& what) {
    throw InputError(
        fmt::format("{}: corrupt NetCDF header at byte {}: {}", path, pos, what));
  };
  auto read = [&](std::size_t size) {
    if (n - pos < size) fail("unexpected end of file");
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < size; ++k) v = v << 8 | p[pos + k];
    pos += size;
    return v;
  };
  // An unknown type has size 0 in NetCDF-C, which then divides by it (SIGFPE in
  // NC_check_vlen).
  auto type = [&] {
    const auto t = read(4);
    if (t < NC_BYTE || t > max_type) fail(fmt::format("unknown type {}", t));
    return nc_type(t);
  };
  auto skip = [&](std::uint64_t count, std::uint64_t size, const char* what) {
    if (count > (n - pos) / size)
      fail(fmt::format("{} {} x {} bytes run past the end of the file", count, what, size));
    pos = std::min(n, pos + pad4(std::size_t(count * size)));  // padding may be cut off
  };
  auto name = [&] {
    const auto len = read(count_size);
    if (len > NC_MAX_NAME) fail(fmt::format("name of {} bytes (at most {})", len, NC_MAX_NAME));
    skip(len, 1, "name bytes");
  };
  // A list: tag then element count; ABSENT is a zero tag with a zero count.
  auto list = [&](std::uint64_t tag, const char* what) -> std::uint64_t {
    const auto t = read(4);
    const auto count = read(count_size);
    if (count == 0 && (t == 0 || t == tag)) return 0;
    if (t != tag) fail(fmt::format("bad {} list tag {}", what, t));
    if (count > (n - pos) / count_size)
      fail(fmt::format("{} {}s cannot fit in the file", count, what));
    return count;
  };
  auto attributes = [&] {
    for (auto a = list(0x0C, "attribute"); a > 0; --a) {
      name();
      const auto t = type();
      const auto len = read(count_size);
      skip(len, type_size(t), "attribute values of");
    }
  };
  read(count_size);  // numrecs
  for (auto d = list(0x0A, "dimension"); d > 0; --d) {
    name();
    read(count_size);  // length
  }
  attributes();
  for (auto v = list(0x0B, "variable"); v > 0; --v) {
    name();
    skip(read(count_size), count_size, "dimension ids of");
    attributes();
    type();
    read(count_size);  // vsize
    read(offset_size);  // begin
  }
}

void check_not_truncated(const NcFile& f) {
  int format = 0;
  f.check(nc_inq_format(f.id(), &format), "reading the format");
  if (format != NC_FORMAT_CLASSIC && format != NC_FORMAT_64BIT_OFFSET && format != NC_FORMAT_CDF5)
    return;  // HDF5-based files detect damage themselves
  const std::size_t count = format == NC_FORMAT_CDF5 ? 8 : 4;      // sizes and counts
  const std::size_t offset = format == NC_FORMAT_CLASSIC ? 4 : 8;  // variable begin
  auto name_size = [&](const char* name) { return count + pad4(std::strlen(name)); };
  auto attributes_size = [&](int varid, int natts) {
    std::size_t n = 4 + count;
    for (int a = 0; a < natts; ++a) {
      char name[NC_MAX_NAME + 1] = {};
      nc_type type = NC_NAT;
      std::size_t len = 0;
      f.check(nc_inq_attname(f.id(), varid, a, name), "reading attributes");
      f.check(nc_inq_att(f.id(), varid, name, &type, &len), "reading attributes");
      n += name_size(name) + 4 + count + pad4(len * type_size(type));
    }
    return n;
  };

  int ndims = 0, nvars = 0, ngatts = 0, unlimited = -1;
  f.check(nc_inq(f.id(), &ndims, &nvars, &ngatts, &unlimited), "reading the file header");
  std::size_t header = 4 + count + 4 + count + attributes_size(NC_GLOBAL, ngatts) + 4 + count;
  std::vector<std::size_t> dim_len(static_cast<std::size_t>(ndims));
  for (int d = 0; d < ndims; ++d) {
    char name[NC_MAX_NAME + 1] = {};
    f.check(nc_inq_dim(f.id(), d, name, &dim_len[std::size_t(d)]), "reading dimensions");
    header += name_size(name) + count;
  }
  // A record holds each record variable's slice padded to 4 bytes, except that a lone
  // record variable is not padded.
  std::size_t fixed = 0, record_padded = 0, record_unpadded = 0, record_vars = 0;
  for (int v = 0; v < nvars; ++v) {
    char name[NC_MAX_NAME + 1] = {};
    nc_type type = NC_NAT;
    int nd = 0, natts = 0;
    int dims[NC_MAX_VAR_DIMS];
    f.check(nc_inq_var(f.id(), v, name, &type, &nd, dims, &natts), "reading variables");
    header += name_size(name) + count + std::size_t(nd) * count + attributes_size(v, natts) + 4 +
              count + offset;
    std::size_t bytes = type_size(type);
    const bool is_record = nd > 0 && dims[0] == unlimited;
    for (int k = is_record ? 1 : 0; k < nd; ++k)
      bytes = mul_sat(bytes, dim_len[std::size_t(dims[k])]);
    if (is_record) {
      record_padded = add_sat(record_padded, pad4(bytes));
      record_unpadded = add_sat(record_unpadded, bytes);
      ++record_vars;
    } else {
      fixed = add_sat(fixed, pad4(bytes));
    }
  }
  const std::size_t record = record_vars == 1 ? record_unpadded : record_padded;
  const std::size_t numrecs = unlimited >= 0 ? dim_len[std::size_t(unlimited)] : 0;
  // The last variable's padding need not be written: allow 3 bytes of slack.
  const std::size_t needed = add_sat(add_sat(header, fixed), mul_sat(numrecs, record));
  std::error_code ec;
  const auto actual = std::filesystem::file_size(f.path(), ec);
  if (!ec && add_sat(actual, 3) < needed)
    throw InputError(
        fmt::format("{}: truncated NetCDF file ({} bytes, the header describes at "
                    "least {})",
                    f.path(), actual, needed));
}

// ---------------------------------------------------------------------------------------
// Coordinate axes

enum class AxisKind {
  latitude,
  longitude,
  level,
  time,
  reference_time,
  lead_time,
  member,
  month,
  other
};

// What a coordinate is, from its name, CF standard_name and units (in that spirit: any
// one of them is enough, because real files are inconsistent about all three).
AxisKind classify(const VarInfo& v) {
  const auto name = lower(v.name);
  const auto& sn = v.standard_name;
  const auto units = lower(v.units);
  if (one_of<std::string>(name, {"lat", "latitude"}) || sn == "latitude" ||
      one_of<std::string>(units,
                          {"degrees_north", "degree_north", "degrees_n", "degree_n", "degreesn"}))
    return AxisKind::latitude;
  if (one_of<std::string>(name, {"lon", "longitude"}) || sn == "longitude" ||
      one_of<std::string>(units,
                          {"degrees_east", "degree_east", "degrees_e", "degree_e", "degreese"}))
    return AxisKind::longitude;
  if (one_of<std::string>(name, {"forecast_reference_time", "reference_time"}) ||
      sn == "forecast_reference_time")
    return AxisKind::reference_time;
  if (one_of<std::string>(name, {"step", "forecast_period", "leadtime", "lead_time"}) ||
      sn == "forecast_period")
    return AxisKind::lead_time;
  if (one_of<std::string>(name, {"time", "valid_time"}) || sn == "time" ||
      units.find(" since ") != std::string::npos)
    return AxisKind::time;
  if (one_of<std::string>(name, {"level", "isobaricinhpa", "pressure_level", "plev", "lev"}) ||
      sn == "air_pressure")
    return AxisKind::level;
  if (one_of<std::string>(name, {"number", "realization", "member", "ensemble"}) ||
      sn == "realization")
    return AxisKind::member;
  // Climatologies (eraint_uvz.nc) index months 1..12 with a bare integer axis.
  if (name == "month" && v.units.empty()) return AxisKind::month;
  return AxisKind::other;
}

// One axis a data variable may vary along, with its values decoded to Gale's terms.
struct Axis {
  AxisKind kind = AxisKind::other;
  std::string name;
  std::size_t size = 0;
  std::vector<double> levels;       // hPa (level axis)
  std::vector<TimePoint> times;     // time, reference_time and month axes
  std::vector<Duration> steps;      // lead_time axis
  std::vector<int> members;         // member axis
  std::vector<double> coordinates;  // latitude / longitude axes, file order
  std::string problem;              // why slices along this axis are not usable
};

constexpr sys_days kGregorianStart = sys_days{year{1582} / October / 15};

// Seconds per unit of a CF time unit word; 0 when not a fixed-length unit.
long long seconds_per_unit(const std::string& word) {
  const auto w = lower(word);
  if (one_of<std::string>(w, {"seconds", "second", "secs", "sec", "s"})) return 1;
  if (one_of<std::string>(w, {"minutes", "minute", "mins", "min"})) return 60;
  if (one_of<std::string>(w, {"hours", "hour", "hrs", "hr", "h"})) return 3600;
  if (one_of<std::string>(w, {"days", "day", "d"})) return 86400;
  return 0;
}

// value * unit -> whole seconds; values that are not whole seconds round to the nearest.
Duration to_duration(double value, long long unit, const std::string& what) {
  const double s = value * double(unit);
  if (!std::isfinite(s) || std::abs(s) > 1e15)
    throw InputError(fmt::format("{}: time value {} is not a usable time", what, value));
  return Duration{std::llround(s)};
}

// CF "<unit> since <date>" on a Gregorian calendar -> UTC time points.
std::vector<TimePoint> decode_times(const std::vector<double>& values, const VarInfo& v,
                                    const std::string& path) {
  const auto what = fmt::format("{}: variable '{}'", path, v.name);
  const auto calendar = lower(v.calendar);
  if (!one_of<std::string>(calendar, {"", "standard", "gregorian", "proleptic_gregorian"}))
    throw UnsupportedError(fmt::format(
        "{}: calendar '{}' is not supported (only standard, gregorian, proleptic_gregorian)", what,
        v.calendar));
  const auto since = lower(v.units).find(" since ");
  if (since == std::string::npos)
    throw InputError(
        fmt::format("{}: time units '{}' are not '<unit> since <date>'", what, v.units));
  const long long unit = seconds_per_unit(trim(v.units.substr(0, since)));
  if (unit == 0)
    throw UnsupportedError(
        fmt::format("{}: time unit in '{}' is not seconds, minutes, hours or days", what, v.units));

  // The reference date: Gale's ISO 8601 parser, after dropping an explicit UTC suffix.
  auto ref_text = trim(v.units.substr(since + 7));
  for (const char* utc : {"UTC", "utc", "+00:00", "+0000", "+00"})
    if (ref_text.size() > std::strlen(utc) && ref_text.ends_with(utc))
      ref_text = trim(ref_text.substr(0, ref_text.size() - std::strlen(utc)));
  TimePoint ref;
  try {
    ref = parse_iso8601(ref_text, what + " units");
  } catch (const UserError& e) {
    throw InputError(e.what());
  }

  std::vector<TimePoint> out;
  out.reserve(values.size());
  for (double x : values) out.push_back(ref + to_duration(x, unit, what));
  // "standard" is Julian before 1582-10-15; Gale's time points are proleptic Gregorian.
  if (calendar != "proleptic_gregorian") {
    const auto earliest = std::min_element(out.begin(), out.end());
    if (ref < kGregorianStart || (earliest != out.end() && *earliest < kGregorianStart))
      throw UnsupportedError(fmt::format(
          "{}: times before 1582-10-15 on the '{}' calendar (Julian dates) are not supported", what,
          v.calendar.empty() ? "standard" : v.calendar));
  }
  return out;
}

// Pressure levels in hPa, or a problem when the units are not a pressure.
void decode_levels(Axis& axis, const std::vector<double>& values, const VarInfo& v) {
  const auto units = lower(normalise_units(v.units));
  double to_hpa = 0;
  if (one_of<std::string>(units, {"hpa", "millibars", "millibar", "mbar", "mb"}))
    to_hpa = 1;
  else if (units == "pa")
    to_hpa = 0.01;
  // GRIB-derived axes name their unit; with no units at all only these names are safe.
  else if (units.empty() && one_of<std::string>(lower(v.name), {"isobaricinhpa", "pressure_level"}))
    to_hpa = 1;
  if (to_hpa == 0) {
    axis.problem =
        fmt::format("level axis '{}' has units '{}', not a pressure (hPa or Pa)", v.name, v.units);
    return;
  }
  for (double x : values) axis.levels.push_back(x * to_hpa);
}

// Decodes the values of a coordinate variable into `axis` (whose kind is already set).
void decode_axis(Axis& axis, const NcFile& f, const VarInfo& v) {
  const auto values = read_coordinate(f, v);
  const auto what = fmt::format("{}: variable '{}'", f.path(), v.name);
  switch (axis.kind) {
    case AxisKind::latitude:
    case AxisKind::longitude:
      axis.coordinates = values;
      break;
    case AxisKind::level:
      decode_levels(axis, values, v);
      break;
    case AxisKind::time:
    case AxisKind::reference_time:
      axis.times = decode_times(values, v, f.path());
      break;
    case AxisKind::lead_time: {
      const long long unit = seconds_per_unit(v.units.empty() ? "hours" : v.units);
      if (unit == 0) {
        axis.problem = fmt::format("lead-time axis '{}' has units '{}'", v.name, v.units);
        break;
      }
      for (double x : values) axis.steps.push_back(to_duration(x, unit, what));
      break;
    }
    case AxisKind::member:
      for (double x : values) axis.members.push_back(std::isfinite(x) ? int(std::lround(x)) : 0);
      break;
    case AxisKind::month:
      for (double x : values) {
        if (!(x >= 1 && x <= 12 && x == std::floor(x)))
          throw InputError(fmt::format("{}: month axis value {} is not a month 1..12", what, x));
        // A climatological month stands for that month of the epoch year.
        axis.times.push_back(sys_days{year{1970} / month{unsigned(x)} / 1});
      }
      break;
    case AxisKind::other:
      break;
  }
}

// ---------------------------------------------------------------------------------------
// Grid

// Equal steps (within `tol` degrees) between consecutive values (latitudes).
bool evenly_spaced(const std::vector<double>& v, double tol) {
  if (v.size() < 3) return true;
  const double first = v[1] - v[0];
  for (std::size_t i = 1; i + 1 < v.size(); ++i)
    if (std::abs(v[i + 1] - v[i] - first) > tol) return false;
  return true;
}

// Longitudes (canonical, sorted ascending, distinct) evenly spaced around the circle from
// the column after their widest gap: the axis of a regular grid in any of the conventions
// files use for it, -180..180 (-10..2), 0..360 beyond 360 (350..362), or ascending in
// [0, 360) with a gap (0..2 then 350..359.75, as Gale's NetCDF writer wrote a grid
// crossing 0 E before it wrote such axes monotonic, and as tools sorting longitudes
// modulo 360 write them). The file order of the columns does not matter: make_layout
// puts them in canonical order.
bool evenly_spaced_on_circle(const std::vector<double>& sorted, double tol) {
  const std::size_t n = sorted.size();
  if (n < 3) return true;
  auto gap = [&](std::size_t i) { return i + 1 < n ? sorted[i + 1] - sorted[i] : sorted[0] + 360.0 - sorted[i]; };
  std::size_t widest = 0;
  for (std::size_t i = 1; i < n; ++i)
    if (gap(i) > gap(widest)) widest = i;
  const double step = gap((widest + 1) % n);
  for (std::size_t k = 1; k < n; ++k)
    if (std::abs(gap((widest + k) % n) - step) > tol) return false;
  return true;
}

// Positions that order `values` (descending or ascending).
std::vector<std::size_t> sort_order(const std::vector<double>& values, bool descending) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) {
    return descending ? values[a] > values[b] : values[a] < values[b];
  });
  return order;
}

// A grid in canonical orientation and, for each canonical point, its position in a
// file-order 2-D slice (built once per file, applied to every slice).
struct GridLayout {
  int lat_dim = -1, lon_dim = -1;
  std::size_t nlat = 0, nlon = 0;
  std::shared_ptr<const Grid> grid;
  std::vector<std::size_t> file_index;  // canonical point -> file point
};

GridLayout make_layout(const std::string& path, const Axis& lat_axis, const Axis& lon_axis) {
  const auto& lat = lat_axis.coordinates;
  const auto& lon = lon_axis.coordinates;
  if (lat.empty() || lon.empty())
    throw UnsupportedError(
        fmt::format("{}: latitude '{}' / longitude '{}' have no coordinate values", path,
                    lat_axis.name, lon_axis.name));
  if (mul_sat(lat.size(), lon.size()) > kMaxAxisValues)
    throw UnsupportedError(
        fmt::format("{}: grid of {} x {} points is larger than Gale's limit of {}", path,
                    lat.size(), lon.size(), kMaxAxisValues));
  for (double y : lat)
    if (!(y >= -90 && y <= 90))
      throw InputError(fmt::format("{}: latitude {} outside -90..90", path, y));
  for (double x : lon)
    if (!std::isfinite(x)) throw InputError(fmt::format("{}: longitude {} is not finite", path, x));

  std::vector<double> file_lon(lon.size());
  std::transform(lon.begin(), lon.end(), file_lon.begin(), canonical_longitude);
  const auto row_order = sort_order(lat, true);        // canonical row -> file row
  const auto col_order = sort_order(file_lon, false);  // canonical column -> file column
  std::vector<double> lats, lons;
  for (auto j : row_order) lats.push_back(round_degrees(lat[j]));
  for (auto i : col_order) lons.push_back(file_lon[i]);
  if (std::adjacent_find(lons.begin(), lons.end()) != lons.end())
    throw UnsupportedError(fmt::format(
        "{}: longitudes {}..{} repeat a meridian once wrapped to 0..360 (e.g. both -180 and 180)",
        path, lon.front(), lon.back()));
  if (std::adjacent_find(lats.begin(), lats.end()) != lats.end())
    throw InputError(fmt::format("{}: latitude axis '{}' repeats a latitude", path, lat_axis.name));
  if (!evenly_spaced_on_circle(lons, 1e-5))
    throw UnsupportedError(
        fmt::format("{}: longitudes of '{}' are not evenly spaced", path, lon_axis.name));

  GridKind kind = GridKind::regular_ll;
  if (!evenly_spaced(lats, 1e-5)) {
    // Uneven latitudes are acceptable only as a Gaussian grid; use the exact Gaussian
    // latitudes so the grid matches the same grid read from GRIB.
    auto gauss = lats.size() % 2 == 0 ? gaussian_latitudes(int(lats.size() / 2)).latitudes_deg : std::vector<double>{};
    bool gaussian = !gauss.empty();
    for (std::size_t j = 0; gaussian && j < lats.size(); ++j)
      gaussian = std::abs(gauss[j] - lats[j]) < 1e-3;
    if (!gaussian)
      throw UnsupportedError(fmt::format(
          "{}: latitudes of '{}' are neither evenly spaced nor Gaussian", path, lat_axis.name));
    for (std::size_t j = 0; j < lats.size(); ++j) lats[j] = round_degrees(gauss[j]);
    kind = GridKind::regular_gaussian;
  }

  GridLayout layout;
  layout.nlat = lat.size();
  layout.nlon = lon.size();
  layout.file_index.resize(layout.nlat * layout.nlon);
  for (std::size_t r = 0; r < layout.nlat; ++r)
    for (std::size_t c = 0; c < layout.nlon; ++c)
      layout.file_index[r * layout.nlon + c] = row_order[r] * layout.nlon + col_order[c];
  layout.grid = Grid::regular(kind, std::move(lats), std::move(lons));
  return layout;
}

// ---------------------------------------------------------------------------------------
// Values

// How raw stored numbers become physical values (CF packing and missing-value rules).
struct Packing {
  double scale = 1, offset = 0;
  std::vector<double> missing;  // _FillValue, missing_value, compared with raw numbers
  double unsigned_range = 0;    // 2^bits for "_Unsigned = true" signed storage, else 0

  bool is_missing(double raw) const {
    if (std::isnan(raw)) return true;
    return std::find(missing.begin(), missing.end(), raw) != missing.end();
  }
};

Packing packing_of(const NcFile& f, const VarInfo& v) {
  Packing p;
  if (auto s = numeric_attribute(f, v.id, "scale_factor"); !s.empty()) p.scale = s[0];
  if (auto o = numeric_attribute(f, v.id, "add_offset"); !o.empty()) p.offset = o[0];
  auto fill = numeric_attribute(f, v.id, "_FillValue");
  // Without _FillValue, unwritten float data holds the library's default fill; no
  // physical value is ~1e36, so it is safe to treat it as missing. (Integer defaults
  // such as -32767 can be real packed data, so they are not.)
  if (fill.empty() && v.type == NC_FLOAT) fill.push_back(double(NC_FILL_FLOAT));
  if (fill.empty() && v.type == NC_DOUBLE) fill.push_back(NC_FILL_DOUBLE);
  const auto missing = numeric_attribute(f, v.id, "missing_value");
  p.missing = fill;
  p.missing.insert(p.missing.end(), missing.begin(), missing.end());
  // NaN never compares equal; NaN raw values are caught by isnan() instead.
  std::erase_if(p.missing, [](double x) { return std::isnan(x); });
  if (lower(text_attribute(f, v.id, "_Unsigned")) == "true") {
    if (v.type == NC_BYTE) p.unsigned_range = 256.0;
    if (v.type == NC_SHORT) p.unsigned_range = 65536.0;
    if (v.type == NC_INT) p.unsigned_range = 4294967296.0;
  }
  return p;
}

// Raw file-order slice -> canonical order, NaN for missing, unpacked, canonical units.
void decode_slice(const std::vector<double>& raw, const Packing& p, const UnitConversion& c,
                  const GridLayout& layout, std::vector<float>& out) {
  out.resize(layout.file_index.size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    double x = raw[layout.file_index[k]];
    if (p.is_missing(x)) {
      out[k] = float(kNaN);
      continue;
    }
    if (p.unsigned_range != 0 && x < 0) x += p.unsigned_range;
    x = x * p.scale + p.offset;
    out[k] = float(x * c.scale + c.offset);
  }
}

// ---------------------------------------------------------------------------------------
// The reader

class NetcdfReader final : public Reader {
 public:
  explicit NetcdfReader(std::string path) : path_(std::move(path)) {
    check_classic_header(path_);
    NcFile file(path_);
    std::lock_guard lock(netcdf_mutex());
    scan(file);
  }

  const std::vector<FieldHeader>& headers() const override { return headers_; }

  void read(const std::vector<std::size_t>& indices, const FieldSink& sink) const override {
    if (indices.empty()) return;
    NcFile file(path_);
    std::vector<double> raw;
    std::vector<float> values;
    for (std::size_t index : indices) {
      if (index >= slices_.size())
        throw InternalError(fmt::format("{}: field index {} out of range ({} fields)", path_, index,
                                        slices_.size()));
      const Slice& slice = slices_[index];
      const DataVar& var = vars_[slice.var];
      const GridLayout& layout = layouts_[var.layout];
      read_raw(file, var, slice, index, layout, raw);
      decode_slice(raw, var.packing, headers_[index].conversion, layout, values);
      sink(headers_[index], values.data());
    }
  }

 private:
  struct DataVar {
    std::string name;
    Packing packing;
    std::size_t layout = 0;
  };
  struct Slice {
    std::size_t var = 0;
    std::vector<std::size_t> start;  // index along each leading (non-grid) dimension
  };

  std::string path_;
  std::vector<FieldHeader> headers_;
  std::vector<GridLayout> layouts_;
  std::vector<DataVar> vars_;
  std::vector<Slice> slices_;  // parallel to headers_

  // One 2-D slice in file order, as doubles (so packed integers come back exactly).
  void read_raw(const NcFile& file, const DataVar& var, const Slice& slice, std::size_t index,
                const GridLayout& layout, std::vector<double>& raw) const {
    std::lock_guard lock(netcdf_mutex());
    int varid = -1;
    file.check(nc_inq_varid(file.id(), var.name.c_str(), &varid),
               fmt::format("variable '{}'", var.name));
    auto start = slice.start;
    std::vector<std::size_t> count(start.size(), 1);
    start.insert(start.end(), {0, 0});
    count.insert(count.end(), {layout.nlat, layout.nlon});
    raw.resize(layout.nlat * layout.nlon);
    if (int err = nc_get_vara_double(file.id(), varid, start.data(), count.data(), raw.data()))
      throw InputError(fmt::format("{}: variable '{}', slice {}: cannot read values ({})", path_,
                                   var.name, index, nc_strerror(err)));
  }

  // Reads the file's structure: axes, grids and one header per 2-D slice.
  void scan(const NcFile& file) {
    int ndims = 0, nvars = 0;
    file.check(nc_inq(file.id(), &ndims, &nvars, nullptr, nullptr), "reading the file header");
    check_not_truncated(file);
    std::vector<VarInfo> vars;
    for (int id = 0; id < nvars; ++id) vars.push_back(inquire_variable(file, id));

    const auto axes = dimension_axes(file, ndims, vars);
    const auto scalars = scalar_coordinates(file, vars);
    std::optional<TimePoint> file_reference;
    for (const auto& [name, axis] : scalars)
      if (axis.kind == AxisKind::reference_time && !axis.times.empty())
        file_reference = axis.times.front();

    std::map<std::pair<int, int>, std::size_t> layout_of_grid;
    bool curvilinear = false;
    for (const auto& v : vars) {
      const auto kind = classify(v);
      // 2-D latitude/longitude over dimensions that are not themselves latitude and
      // longitude (bounds such as lat_bnds(lat, nv) do not count).
      if (v.dims.size() >= 2 && (kind == AxisKind::latitude || kind == AxisKind::longitude) &&
          std::none_of(v.dims.begin(), v.dims.end(), [&](int d) {
            return one_of(axes[std::size_t(d)].kind, {AxisKind::latitude, AxisKind::longitude});
          }))
        curvilinear = true;
      if (v.dims.size() < 2 || !is_numeric(v.type)) continue;
      const int lat_dim = v.dims[v.dims.size() - 2], lon_dim = v.dims.back();
      if (axes[std::size_t(lat_dim)].kind != AxisKind::latitude ||
          axes[std::size_t(lon_dim)].kind != AxisKind::longitude)
        continue;
      auto [it, fresh] = layout_of_grid.try_emplace({lat_dim, lon_dim}, layouts_.size());
      if (fresh) {
        layouts_.push_back(
            make_layout(path_, axes[std::size_t(lat_dim)], axes[std::size_t(lon_dim)]));
        layouts_.back().lat_dim = lat_dim;
        layouts_.back().lon_dim = lon_dim;
      }
      add_variable(file, v, axes, scalars, file_reference, it->second);
    }
    if (vars_.empty()) {
      if (curvilinear)
        throw UnsupportedError(fmt::format(
            "{}: curvilinear grid (2-D latitude/longitude coordinates) is not supported", path_));
      throw UnsupportedError(fmt::format(
          "{}: no variable on a latitude/longitude grid (1-D latitude and longitude axes)", path_));
    }
  }

  // The axis each dimension stands for, from its coordinate variable (a 1-D variable with
  // the dimension's name) or, failing that, from the dimension name alone.
  std::vector<Axis> dimension_axes(const NcFile& file, int ndims,
                                   const std::vector<VarInfo>& vars) const {
    std::vector<Axis> axes(static_cast<std::size_t>(ndims));
    for (int d = 0; d < ndims; ++d) {
      char name[NC_MAX_NAME + 1] = {};
      auto& axis = axes[std::size_t(d)];
      file.check(nc_inq_dim(file.id(), d, name, &axis.size), fmt::format("dimension #{}", d));
      axis.name = name;
      const auto coord = std::find_if(vars.begin(), vars.end(), [&](const VarInfo& v) {
        return v.name == axis.name && v.dims.size() == 1 && v.dims[0] == d;
      });
      if (coord != vars.end()) {
        axis.kind = classify(*coord);
        if (axis.kind != AxisKind::other && !is_numeric(coord->type))
          axis.problem = fmt::format("coordinate '{}' is not numeric", axis.name);
        else if (axis.kind != AxisKind::other)
          decode_axis(axis, file, *coord);
        continue;
      }
      VarInfo bare;
      bare.name = axis.name;
      axis.kind = classify(bare);
      if (axis.kind == AxisKind::member) {
        // Unlabelled members are numbered from 0, the control (Position::take numbers them:
        // listing them here took minutes and gigabytes for a corrupt dimension length of
        // ~2^32, found by fuzz/fuzz_netcdf).
      } else if (axis.kind != AxisKind::other) {
        axis.problem = fmt::format("dimension '{}' has no coordinate variable", axis.name);
      }
    }
    return axes;
  }

  // Scalar (0-D) coordinates by name: a single level, time, reference time or member.
  std::map<std::string, Axis> scalar_coordinates(const NcFile& file,
                                                 const std::vector<VarInfo>& vars) const {
    std::map<std::string, Axis> out;
    for (const auto& v : vars) {
      if (!v.dims.empty() || !is_numeric(v.type)) continue;
      Axis axis;
      axis.kind = classify(v);
      if (one_of(axis.kind, {AxisKind::latitude, AxisKind::longitude, AxisKind::other})) continue;
      axis.name = v.name;
      axis.size = 1;
      decode_axis(axis, file, v);
      out.emplace(v.name, std::move(axis));
    }
    return out;
  }

  // Headers for every 2-D slice of one data variable.
  void add_variable(const NcFile& file, const VarInfo& v, const std::vector<Axis>& axes,
                    const std::map<std::string, Axis>& scalars,
                    std::optional<TimePoint> file_reference, std::size_t layout) {
    const auto what = fmt::format("{}: variable '{}'", path_, v.name);
    const auto* entry = Lexicon::instance().from_netcdf(v.name, v.standard_name);
    UnitConversion conversion;
    // Units that cannot be converted make this variable's fields unusable (reported per
    // field), not the whole file unreadable.
    std::string unit_problem;
    try {
      if (entry) conversion = Lexicon::instance().conversion(*entry, v.units, what);
    } catch (const DataError& e) {
      unit_problem = e.what();
    }
    // Ensemble statistics (mean, spread, ... over realizations, as in Gale's own products)
    // share the members' standard name; they are not fields of any one member.
    if (const auto methods = text_attribute(file, v.id, "cell_methods"); methods.find("realization:") != std::string::npos)
      unit_problem = fmt::format("an ensemble statistic (cell_methods \"{}\"), not a member's field", methods);

    // Leading axes: the variable's dimensions before (latitude, longitude) ...
    std::vector<const Axis*> leading;
    for (std::size_t k = 0; k + 2 < v.dims.size(); ++k)
      leading.push_back(&axes[std::size_t(v.dims[k])]);
    // ... plus scalar coordinates it names in its CF "coordinates" attribute.
    std::vector<const Axis*> scalar_axes;
    std::istringstream names(text_attribute(file, v.id, "coordinates"));
    for (std::string name; names >> name;)
      if (auto it = scalars.find(name); it != scalars.end()) scalar_axes.push_back(&it->second);
    // A variable without any level axis takes the file's one scalar level, when there is
    // exactly one: Gale's products name their scalar pressure_level only on variables that
    // have no second vertical-like axis (cdo allows one per variable), so the members and
    // percentiles of z500.nc carry 500 hPa this way.
    const auto is_level = [](const Axis* a) { return a->kind == AxisKind::level; };
    if (std::none_of(leading.begin(), leading.end(), is_level) &&
        std::none_of(scalar_axes.begin(), scalar_axes.end(), is_level)) {
      const Axis* only = nullptr;
      int levels = 0;
      for (const auto& [name, axis] : scalars)
        if (axis.kind == AxisKind::level) only = &axis, ++levels;
      if (levels == 1) scalar_axes.push_back(only);
    }

    vars_.push_back({v.name, packing_of(file, v), layout});
    std::size_t total = 1;
    for (const auto* a : leading) total *= a->size;
    std::vector<std::size_t> index(leading.size(), 0);
    for (std::size_t s = 0; s < total; ++s) {
      // Row-major position of slice s along the leading axes (file order).
      for (std::size_t k = leading.size(), rest = s; k-- > 0; rest /= leading[k]->size)
        index[k] = rest % leading[k]->size;
      headers_.push_back(make_header(v, entry, conversion, leading, index, scalar_axes,
                                     file_reference, layouts_[layout].grid));
      if (!unit_problem.empty()) {
        headers_.back().variable.reset();
        headers_.back().problem = unit_problem;
      }
      slices_.push_back({vars_.size() - 1, index});
    }
  }

  // Where along its axes one slice lies, in Gale's terms.
  struct Position {
    std::optional<double> level;
    std::optional<TimePoint> valid, month, reference;
    std::optional<Duration> step;
    int member = 0;
    std::string problem;

    void take(const Axis& a, std::size_t i) {
      if (!a.problem.empty()) {
        if (problem.empty()) problem = a.problem;
        return;
      }
      switch (a.kind) {
        case AxisKind::level:
          level = a.levels.at(i);
          break;
        case AxisKind::time:
          valid = a.times.at(i);
          break;
        case AxisKind::month:
          month = a.times.at(i);
          break;
        case AxisKind::reference_time:
          reference = a.times.at(i);
          break;
        case AxisKind::lead_time:
          step = a.steps.at(i);
          break;
        case AxisKind::member:
          member = a.members.empty() ? int(i) : a.members.at(i);  // empty: unlabelled
          break;
        default:
          if (problem.empty())
            problem =
                fmt::format("dimension '{}' is not a time, level, member or month axis", a.name);
      }
    }
  };

  FieldHeader make_header(const VarInfo& v, const LexiconEntry* entry, UnitConversion conversion,
                          const std::vector<const Axis*>& leading,
                          const std::vector<std::size_t>& index,
                          const std::vector<const Axis*>& scalar_axes,
                          std::optional<TimePoint> file_reference,
                          std::shared_ptr<const Grid> grid) const {
    Position pos;
    for (const auto* a : scalar_axes) pos.take(*a, 0);  // dimensions override scalars
    for (std::size_t k = 0; k < leading.size(); ++k) pos.take(*leading[k], index[k]);
    if (!pos.reference) pos.reference = file_reference;

    FieldHeader h;
    h.file = path_;
    h.index = headers_.size();
    h.source_name = v.name;
    h.source_units = v.units;
    h.conversion = conversion;
    h.member = pos.member;
    h.grid = std::move(grid);
    // Valid time: the time axis, else the climatological month, else reference + step,
    // else the epoch (a file with no time at all, e.g. an invariant field).
    const Duration step = pos.step.value_or(Duration{0});
    const TimePoint epoch{};
    h.valid_time = pos.valid       ? *pos.valid
                   : pos.month     ? *pos.month
                   : pos.reference ? *pos.reference + step
                                   : epoch;
    // Analyses have no separate reference time: it is the valid time.
    h.reference_time = pos.reference ? *pos.reference : h.valid_time - step;

    if (!entry) {
      h.problem = "not in the lexicon";
    } else if (!pos.problem.empty()) {
      h.problem = pos.problem;
    } else if (pos.level && !entry->upper_air) {
      h.problem = fmt::format("single-level variable '{}' on a pressure-level axis", entry->name);
    } else if (!pos.level && entry->upper_air) {
      h.problem = "upper-air variable without a level axis";
    } else if (pos.level) {
      h.variable = Variable{entry->name, LevelKind::isobaric, *pos.level, entry->units};
    } else {
      h.variable = Variable{entry->name, LevelKind::surface, 0, entry->units};
    }
    return h;
  }
};

}  // namespace

std::unique_ptr<Reader> make_netcdf_reader(const std::string& path) {
  return std::make_unique<NetcdfReader>(path);
}

}  // namespace gale
