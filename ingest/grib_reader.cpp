#include "ingest/grib_reader.hpp"

#include <eccodes.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <numeric>

#include "core/errors.hpp"
#include "ingest/eccodes_logging.hpp"
#include "ingest/mapped_file.hpp"

namespace gale {

namespace {

struct HandleDeleter {
  void operator()(codes_handle* h) const { codes_handle_delete(h); }
};
using Handle = std::unique_ptr<codes_handle, HandleDeleter>;

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

// Key access that names the file and message in every error.
class Message {
 public:
  Message(codes_handle* h, const std::string& file, std::size_t index)
      : h_(h), file_(file), index_(index) {}

  std::string where() const { return fmt::format("{}: message {}", file_, index_ + 1); }

  bool has(const char* key) const {
    int err = 0;
    return codes_is_defined(h_, key) && !codes_is_missing(h_, key, &err) && err == 0;
  }
  long get_long(const char* key) const {
    long v = 0;
    if (int err = codes_get_long(h_, key, &v))
      throw InputError(fmt::format("{}: key '{}': {}", where(), key, codes_get_error_message(err)));
    return v;
  }
  // Absent keys and keys set to "missing" give the fallback (one ecCodes call).
  long get_long(const char* key, long fallback) const {
    long v = 0;
    if (codes_get_long(h_, key, &v) != 0) return fallback;
    int err = 0;
    return codes_is_missing(h_, key, &err) && err == 0 ? fallback : v;
  }
  double get_double(const char* key) const {
    double v = 0;
    if (int err = codes_get_double(h_, key, &v))
      throw InputError(fmt::format("{}: key '{}': {}", where(), key, codes_get_error_message(err)));
    return v;
  }
  std::string get_string(const char* key) const {
    char buf[512];
    size_t len = sizeof buf;
    if (codes_get_string(h_, key, buf, &len) != 0) return "";
    return std::string(buf);
  }
  std::vector<double> get_doubles(const char* key) const {
    size_t n = 0;
    if (int err = codes_get_size(h_, key, &n))
      throw InputError(fmt::format("{}: key '{}': {}", where(), key, codes_get_error_message(err)));
    std::vector<double> v(n);
    if (int err = codes_get_double_array(h_, key, v.data(), &n))
      throw InputError(fmt::format("{}: key '{}': {}", where(), key, codes_get_error_message(err)));
    v.resize(n);
    return v;
  }
  std::vector<long> get_longs(const char* key) const {
    size_t n = 0;
    if (int err = codes_get_size(h_, key, &n))
      throw InputError(fmt::format("{}: key '{}': {}", where(), key, codes_get_error_message(err)));
    std::vector<long> v(n);
    if (int err = codes_get_long_array(h_, key, v.data(), &n))
      throw InputError(fmt::format("{}: key '{}': {}", where(), key, codes_get_error_message(err)));
    v.resize(n);
    return v;
  }

 private:
  codes_handle* h_;
  const std::string& file_;
  std::size_t index_;
};

// A grid in canonical orientation plus where each file-order value goes in it.
struct GridLayout {
  std::shared_ptr<const Grid> grid;
  std::vector<std::uint32_t> canonical_index;  // file position -> canonical position
};

std::string grib2_template_name(long number) {
  static const std::map<long, std::string> names = {
      {0, "regular lat-lon"}, {1, "rotated lat-lon"}, {10, "Mercator"},
      {20, "polar stereographic"}, {30, "Lambert conformal"}, {40, "Gaussian"},
      {41, "rotated Gaussian"}, {50, "spherical harmonics"}, {90, "space view"},
      {101, "unstructured"}, {140, "Lambert azimuthal equal area"}, {150, "HEALPix"}};
  const auto it = names.find(number);
  return it == names.end() ? "unknown" : it->second;
}

// When ecCodes cannot build a handle, look at the raw GRIB2 sections: an unknown grid
// definition template is an unsupported grid, not a corrupt file.
long raw_grib2_grid_template(const unsigned char* p, std::size_t n) {
  if (n < 16 || std::memcmp(p, "GRIB", 4) != 0 || p[7] != 2) return -1;
  std::size_t pos = 16;
  while (pos + 5 <= n) {
    const std::size_t len = (std::size_t(p[pos]) << 24) | (std::size_t(p[pos + 1]) << 16) |
                            (std::size_t(p[pos + 2]) << 8) | std::size_t(p[pos + 3]);
    const int section = p[pos + 4];
    if (len < 5 || pos + len > n) return -1;
    if (section == 3) return len >= 14 ? long((p[pos + 12] << 8) | p[pos + 13]) : -1;
    pos += len;
  }
  return -1;
}

std::vector<std::uint32_t> order_by(const std::vector<double>& values, bool descending) {
  std::vector<std::uint32_t> order(values.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) {
    return descending ? values[a] > values[b] : values[a] < values[b];
  });
  std::vector<std::uint32_t> rank(values.size());
  for (std::uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  return rank;
}

// The largest grid Gale reads (~0.025 deg global). The layout is built at open, from the
// grid section alone: without a cap, a few-KB message stating Ni x Nj = 57160 x 10748 made
// Gale allocate 2.4 GB (fuzz/fuzz_grib), and GRIB2's 4-byte Ni x Nj overflowed a long.
// canonical_index is 32-bit, so the cap must stay below 2^32 in any case.
constexpr long kMaxGridPoints = 1L << 27;

void check_grid_points(const Message& m, long points) {
  if (points > kMaxGridPoints)
    throw UnsupportedError(fmt::format("{}: grid of {} points is larger than Gale's limit of {}",
                                       m.where(), points, kMaxGridPoints));
}

GridLayout regular_layout(const Message& m, const std::string& grid_type) {
  const long ni = m.get_long("Ni"), nj = m.get_long("Nj");
  if (ni < 1 || nj < 1) throw InputError(fmt::format("{}: grid has Ni={} Nj={}", m.where(), ni, nj));
  check_grid_points(m, std::max(ni, nj));  // bounds both, so ni * nj cannot overflow
  check_grid_points(m, ni * nj);
  if (m.get_long("alternativeRowScanning", 0))
    throw UnsupportedError(fmt::format("{}: alternative row scanning is not supported", m.where()));
  const bool i_negative = m.get_long("iScansNegatively", 0) != 0;
  const bool j_positive = m.get_long("jScansPositively", 0) != 0;
  const bool j_consecutive = m.get_long("jPointsAreConsecutive", 0) != 0;

  // Latitudes of rows in file order.
  std::vector<double> row_lat(nj);
  if (grid_type == "regular_gg") {
    auto lats = m.get_doubles("distinctLatitudes");
    if (long(lats.size()) != nj)
      throw InputError(fmt::format("{}: {} Gaussian latitudes for Nj={}", m.where(), lats.size(), nj));
    std::sort(lats.begin(), lats.end());  // south -> north
    for (long j = 0; j < nj; ++j) row_lat[j] = round_degrees(j_positive ? lats[j] : lats[nj - 1 - j]);
  } else {
    const double first = m.get_double("latitudeOfFirstGridPointInDegrees");
    const double last = m.get_double("latitudeOfLastGridPointInDegrees");
    for (long j = 0; j < nj; ++j)
      row_lat[j] = round_degrees(nj == 1 ? first : first + (last - first) * double(j) / double(nj - 1));
  }
  // Longitudes of columns in file order, normalised to [0, 360).
  const double lon_first = m.get_double("longitudeOfFirstGridPointInDegrees");
  const double lon_last = m.get_double("longitudeOfLastGridPointInDegrees");
  double span = i_negative ? lon_first - lon_last : lon_last - lon_first;
  if (span < 0) span += 360;
  const double step = ni > 1 ? span / double(ni - 1) : 0;
  std::vector<double> col_lon(ni);
  for (long i = 0; i < ni; ++i)
    col_lon[i] = canonical_longitude(lon_first + (i_negative ? -1 : 1) * step * double(i));

  auto lats_sorted = row_lat;
  std::sort(lats_sorted.rbegin(), lats_sorted.rend());
  auto lons_sorted = col_lon;
  std::sort(lons_sorted.begin(), lons_sorted.end());
  if (std::adjacent_find(lons_sorted.begin(), lons_sorted.end()) != lons_sorted.end())
    throw UnsupportedError(fmt::format(
        "{}: longitudes {}..{} repeat a meridian after wrapping to 0..360", m.where(), lon_first, lon_last));
  if (std::adjacent_find(lats_sorted.begin(), lats_sorted.end()) != lats_sorted.end())
    throw InputError(fmt::format("{}: repeated grid latitudes", m.where()));

  const auto row_rank = order_by(row_lat, true);
  const auto col_rank = order_by(col_lon, false);
  GridLayout layout;
  layout.canonical_index.resize(std::size_t(ni * nj));
  for (long p = 0; p < ni * nj; ++p) {
    const long j = j_consecutive ? p % nj : p / ni;
    const long i = j_consecutive ? p / nj : p % ni;
    layout.canonical_index[p] = std::uint32_t(row_rank[j] * ni + col_rank[i]);
  }
  layout.grid = Grid::regular(grid_type == "regular_gg" ? GridKind::regular_gaussian : GridKind::regular_ll,
                              std::move(lats_sorted), std::move(lons_sorted));
  return layout;
}

GridLayout reduced_layout(const Message& m) {
  const auto pl = m.get_longs("pl");
  const long points = m.get_long("numberOfDataPoints");
  check_grid_points(m, points);
  if (std::accumulate(pl.begin(), pl.end(), 0L) != points)
    throw UnsupportedError(fmt::format(
        "{}: reduced Gaussian sub-areas are not supported (only global grids)", m.where()));
  if (m.get_long("iScansNegatively", 0) || std::abs(m.get_double("longitudeOfFirstGridPointInDegrees")) > 1e-9)
    throw UnsupportedError(fmt::format(
        "{}: reduced Gaussian rows must start at longitude 0 and scan eastwards", m.where()));
  auto lats = m.get_doubles("distinctLatitudes");
  if (lats.size() != pl.size())
    throw InputError(fmt::format("{}: {} Gaussian latitudes for {} rows", m.where(), lats.size(), pl.size()));
  std::sort(lats.rbegin(), lats.rend());  // north -> south
  for (auto& l : lats) l = round_degrees(l);
  const bool j_positive = m.get_long("jScansPositively", 0) != 0;
  auto pl_canonical = pl;
  if (j_positive) std::reverse(pl_canonical.begin(), pl_canonical.end());

  GridLayout layout;
  layout.grid = Grid::reduced_gaussian(lats, pl_canonical);
  layout.canonical_index.resize(std::size_t(points));
  const auto& offsets = layout.grid->row_offsets();
  std::size_t p = 0;
  for (std::size_t j = 0; j < pl.size(); ++j) {
    const std::size_t row = j_positive ? pl.size() - 1 - j : j;
    for (long i = 0; i < pl[j]; ++i) layout.canonical_index[p++] = std::uint32_t(offsets[row] + i);
  }
  return layout;
}

std::optional<Variable> level_of(const LexiconEntry& e, const std::string& type_of_level,
                                 long level, std::string& problem) {
  const bool single = type_of_level == "surface" || type_of_level == "heightAboveGround" ||
                      type_of_level == "meanSea" || type_of_level == "entireAtmosphere" ||
                      type_of_level == "heightAboveSea";
  if (type_of_level == "isobaricInhPa" || type_of_level == "isobaricInPa") {
    if (!e.upper_air) {
      problem = fmt::format("single-level parameter '{}' on pressure levels", e.name);
      return std::nullopt;
    }
    const double hpa = type_of_level == "isobaricInPa" ? double(level) / 100.0 : double(level);
    return Variable{e.name, LevelKind::isobaric, hpa, e.units};
  }
  if (type_of_level == "hybrid" && e.upper_air)
    return Variable{e.name, LevelKind::model, double(level), e.units};
  if (single && !e.upper_air) return Variable{e.name, LevelKind::surface, 0, e.units};
  problem = fmt::format("level type '{}' is not supported for '{}'", type_of_level, e.name);
  return std::nullopt;
}

class GribReader final : public Reader {
 public:
  explicit GribReader(const std::string& path) : path_(path), file_(path) { scan(); }

  const std::vector<FieldHeader>& headers() const override { return headers_; }

  void read(const std::vector<std::size_t>& indices, const FieldSink& sink) const override {
    std::vector<double> raw;
    std::vector<float> out;
    for (const auto index : indices) {
      const auto& h = headers_.at(index);
      const Message m(handles_[index].get(), path_, index);
      const auto& layout = *layouts_[index];
      size_t n = 0;
      if (codes_get_size(handles_[index].get(), "values", &n) != 0 ||
          n != layout.canonical_index.size())
        throw InputError(fmt::format("{}: {} values for a grid of {} points", m.where(), n,
                                     layout.canonical_index.size()));
      raw.resize(n);
      if (int err = codes_get_double_array(handles_[index].get(), "values", raw.data(), &n))
        throw InputError(fmt::format("{}: cannot decode values: {}", m.where(), codes_get_error_message(err)));
      // Missing points come from the bitmap itself: comparing values with missingValue
      // (9999 by default) would also hide real values of 9999.
      const bool bitmap = m.get_long("bitmapPresent", 0) != 0;
      std::vector<long> present;
      if (bitmap) {
        present = m.get_longs("bitmap");
        if (present.size() != n)
          throw InputError(fmt::format("{}: bitmap of {} points for {} values", m.where(), present.size(), n));
      }
      const double scale = h.conversion.scale, offset = h.conversion.offset;
      out.resize(n);
      for (size_t p = 0; p < n; ++p) {
        const double v = raw[p];
        out[layout.canonical_index[p]] =
            bitmap && present[p] == 0 ? std::nanf("") : float(v * scale + offset);
      }
      sink(h, out.data());
    }
  }

 private:
  void scan() {
    route_eccodes_logging();
    if (file_.size() == 0) throw InputError(fmt::format("{}: empty file (no GRIB messages)", path_));
    std::unique_ptr<FILE, FileCloser> f(std::fopen(path_.c_str(), "rb"));
    if (!f) throw InputError(fmt::format("{}: cannot open", path_));
    std::size_t expected_offset = 0;
    std::map<std::string, std::shared_ptr<const GridLayout>> layouts_by_md5;
    for (std::size_t index = 0;; ++index) {
      const long start = std::ftell(f.get());
      check_stated_length(index, std::size_t(start));
      int err = 0;
      Handle h(codes_handle_new_from_file(nullptr, f.get(), PRODUCT_GRIB, &err));
      if (!h) {
        if (err == 0 || err == CODES_END_OF_FILE) break;
        fail_undecodable(index, std::size_t(start), err);
      }
      const Message m(h.get(), path_, index);
      const auto offset = std::size_t(m.get_long("offset"));
      std::size_t length = 0;  // the bytes ecCodes consumed (GRIB1 totalLength can be shorter)
      codes_get_message_size(h.get(), &length);
      check_sections(m, length);
      if (offset < expected_offset || !benign_gap(expected_offset, offset))
        throw InputError(fmt::format(
            "{}: {} bytes before message {} (at byte {}) are not GRIB: the file is corrupted",
            path_, offset - expected_offset, index + 1, expected_offset));
      expected_offset = offset + length;

      const std::string md5 = m.get_string("md5GridSection");
      auto& layout = layouts_by_md5[md5];
      if (!layout) layout = std::make_shared<GridLayout>(make_layout(m));
      headers_.push_back(make_header(m, index, layout->grid));
      layouts_.push_back(layout);
      handles_.push_back(std::move(h));
    }
    if (headers_.empty()) throw InputError(fmt::format("{}: not a GRIB file (no GRIB message found)", path_));
    if (!benign_gap(expected_offset, file_.size()))
      throw InputError(fmt::format(
          "{}: {} bytes after message {} (byte {}) are not a complete GRIB message: "
          "the file is truncated or corrupted",
          path_, file_.size() - expected_offset, headers_.size(), expected_offset));
  }

  // ecCodes allocates the length a GRIB2 message states (8 bytes in section 0) before it
  // reads the message: a corrupt length is a huge allocation (10 TB in a fuzzer finding;
  // an abort under ASan, memory exhaustion in production). A message cannot be longer than
  // the rest of the file, so say "truncated" before ecCodes gets to allocate. GRIB1 states
  // at most 3 bytes of length (< 2 GB even with the large-message rule): left to ecCodes.
  void check_stated_length(std::size_t index, std::size_t start) const {
    const auto* end = file_.data() + file_.size();
    const char* magic = "GRIB";
    const auto* grib =
        std::search(file_.data() + std::min(start, file_.size()), end, magic, magic + 4);
    if (end - grib < 16 || grib[7] != 2) return;
    std::uint64_t stated = 0;
    for (int k = 8; k < 16; ++k) stated = stated << 8 | grib[k];
    const auto remaining = std::uint64_t(end - grib);
    if (stated > remaining)
      throw InputError(fmt::format(
          "{}: message {} (byte {}) states a length of {} bytes but only {} remain: the file is "
          "truncated or corrupted",
          path_, index + 1, grib - file_.data(), stated, remaining));
  }

  // ecCodes builds a handle even when a section states a length running past the end of
  // the message (it only logs), and then reads out of bounds when a key covers that section
  // (md5GridSection: a heap overflow found by fuzz/fuzz_grib). Such a message is corrupt.
  void check_sections(const Message& m, std::size_t length) const {
    for (int s = 0; s <= 8; ++s) {
      const auto off_key = fmt::format("offsetSection{}", s);
      const auto len_key = fmt::format("section{}Length", s);
      if (!m.has(off_key.c_str()) || !m.has(len_key.c_str())) continue;
      const long off = m.get_long(off_key.c_str()), len = m.get_long(len_key.c_str());
      if (off < 0 || len < 0 || std::size_t(off) + std::size_t(len) > length)
        throw InputError(fmt::format(
            "{}: section {} ({} bytes at byte {}) runs past the end of the {}-byte message: "
            "the file is corrupted",
            m.where(), s, len, off, length));
    }
  }

  // Bytes between messages that ecCodes skipped. Harmless: padding (zeros, blanks), or
  // the true end of the previous message ("...7777") when its stated length was short, as
  // in some GRIB1 encoders. Anything else is a damaged or dropped message.
  bool benign_gap(std::size_t from, std::size_t to) const {
    const auto* p = file_.data();
    while (to > from && (p[to - 1] == 0 || p[to - 1] == '\n' || p[to - 1] == ' ')) --to;
    if (to == from) return true;
    return to - from <= 4096 && to - from >= 4 && std::memcmp(p + to - 4, "7777", 4) == 0 &&
           std::search(p + from, p + to, "GRIB", "GRIB" + 4) == p + to;
  }

  [[noreturn]] void fail_undecodable(std::size_t index, std::size_t start, int err) const {
    // Find the message that failed: ecCodes searches for "GRIB" from `start`.
    const auto* begin = file_.data() + start;
    const auto* end = file_.data() + file_.size();
    const char* magic = "GRIB";
    const auto* grib = std::search(begin, end, magic, magic + 4);
    // A real message has edition 1 or 2 in its 8th byte; otherwise "GRIB" was just text.
    if (index == 0 && (grib == end || end - grib < 8 || (grib[7] != 1 && grib[7] != 2)))
      throw InputError(fmt::format("{}: not a GRIB file (no GRIB message found)", path_));
    if (grib != end) {
      const long tmpl = raw_grib2_grid_template(grib, std::size_t(end - grib));
      if (tmpl >= 0 && tmpl != 0 && tmpl != 40)
        throw UnsupportedError(fmt::format(
            "{}: message {}: unsupported grid: GRIB2 grid definition template 3.{} ({}); "
            "Gale reads regular lat-lon, regular and reduced Gaussian grids",
            path_, index + 1, tmpl, grib2_template_name(tmpl)));
    }
    throw InputError(fmt::format("{}: message {} (byte {}): cannot decode: {} (truncated or corrupted)",
                                 path_, index + 1, start, codes_get_error_message(err)));
  }

  GridLayout make_layout(const Message& m) const {
    const std::string type = m.get_string("gridType");
    if (type == "regular_ll" || type == "regular_gg") return regular_layout(m, type);
    if (type == "reduced_gg") return reduced_layout(m);
    std::string what = type;
    if (type.empty() || type == "unknown") {
      const long tmpl = m.get_long("gridDefinitionTemplateNumber", -1);
      what = tmpl >= 0 ? fmt::format("GRIB2 template 3.{} ({})", tmpl, grib2_template_name(tmpl))
                       : "unknown";
    }
    throw UnsupportedError(fmt::format(
        "{}: unsupported grid type '{}'; Gale reads regular_ll, regular_gg and reduced_gg",
        m.where(), what));
  }

  // paramId, shortName, units and typeOfLevel are ecCodes "concepts": each costs a table
  // search per message (three quarters of the scan time on ERA5 files). They depend only
  // on the raw identification keys below, so they are looked up once per distinct key.
  struct ParameterInfo {
    long param_id;
    std::string short_name, units, type_of_level;
  };
  const ParameterInfo& parameter_info(const Message& m) const {
    static const char* const grib1_keys[] = {"centre", "subCentre", "table2Version", "indicatorOfParameter",
                                             "indicatorOfTypeOfLevel", "level", "timeRangeIndicator",
                                             "localDefinitionNumber"};
    static const char* const grib2_keys[] = {
        "centre", "discipline", "parameterCategory", "parameterNumber", "productDefinitionTemplateNumber",
        "typeOfFirstFixedSurface", "scaleFactorOfFirstFixedSurface", "scaledValueOfFirstFixedSurface",
        "typeOfSecondFixedSurface", "scaleFactorOfSecondFixedSurface", "scaledValueOfSecondFixedSurface",
        "typeOfStatisticalProcessing", "localTablesVersion", "constituentType", "aerosolType"};
    const long edition = m.get_long("edition", 0);
    std::string key = fmt::format("e{}", edition);
    if (edition == 1) {
      for (const char* k : grib1_keys) key += fmt::format("|{}", m.get_long(k, -1));
    } else {
      for (const char* k : grib2_keys) key += fmt::format("|{}", m.get_long(k, -1));
    }
    auto [it, inserted] = parameters_.try_emplace(key);
    if (inserted)
      it->second = {m.get_long("paramId", 0), m.get_string("shortName"), m.get_string("units"),
                    m.get_string("typeOfLevel")};
    return it->second;
  }

  FieldHeader make_header(const Message& m, std::size_t index,
                          std::shared_ptr<const Grid> grid) const {
    const ParameterInfo& param = parameter_info(m);
    FieldHeader h;
    h.file = path_;
    h.index = index;
    h.grid = std::move(grid);
    h.source_name = param.short_name;
    h.source_units = param.units;
    h.reference_time = from_yyyymmdd_hhmm(m.get_long("dataDate"), m.get_long("dataTime"));
    h.valid_time = from_yyyymmdd_hhmm(m.get_long("validityDate"), m.get_long("validityTime"));
    h.member = int(m.get_long("number", 0));
    const std::string& type_of_level = param.type_of_level;
    const auto* entry = Lexicon::instance().from_grib(param.param_id, h.source_name, type_of_level);
    if (!entry) {
      h.problem = fmt::format("parameter '{}' (paramId {}) is not in the lexicon", h.source_name,
                              param.param_id);
      return h;
    }
    h.variable = level_of(*entry, type_of_level, m.get_long("level", 0), h.problem);
    if (h.variable) {
      try {  // unknown units make this field unusable, not the whole file unreadable
        h.conversion = Lexicon::instance().conversion(*entry, h.source_units,
                                                      fmt::format("{} ({})", m.where(), h.source_name));
      } catch (const DataError& e) {
        h.variable.reset();
        h.problem = e.what();
      }
    }
    return h;
  }

  std::string path_;
  MappedFile file_;
  std::vector<FieldHeader> headers_;
  std::vector<Handle> handles_;
  std::vector<std::shared_ptr<const GridLayout>> layouts_;
  mutable std::map<std::string, ParameterInfo> parameters_;
};

}  // namespace

std::unique_ptr<Reader> make_grib_reader(const std::string& path) {
  return std::make_unique<GribReader>(path);
}

}  // namespace gale
