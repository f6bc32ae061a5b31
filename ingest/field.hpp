#pragma once
// What a reader finds in a file, before any values are decoded: one FieldHeader per
// 2-D field (a GRIB message, or one slice of a NetCDF variable).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "core/lexicon.hpp"
#include "core/time.hpp"
#include "core/variable.hpp"

namespace gale {

struct FieldHeader {
  std::string file;
  std::size_t index = 0;     // 0-based position in the file (GRIB message, NetCDF slice)
  std::string source_name;   // as the file names it: shortName, NetCDF variable name
  std::string source_units;  // as the file states them
  // The canonical variable when the field is usable; otherwise `problem` says why not
  // (parameter not in the lexicon, unsupported level type, ...).
  std::optional<Variable> variable;
  std::string problem;
  UnitConversion conversion;  // source units -> canonical units
  TimePoint reference_time{};
  TimePoint valid_time{};
  int member = 0;  // ensemble number (0 = control / deterministic)
  std::shared_ptr<const Grid> grid;

  // "z500 2017-01-01T00:00:00Z member 3 (era5.grib message 17)"
  std::string describe() const;
};

// Receives decoded values in canonical orientation and canonical units; `values` has
// header.grid->size() floats, NaN where missing.
using FieldSink = std::function<void(const FieldHeader& header, const float* values)>;

class Reader {
 public:
  virtual ~Reader() = default;
  // Headers of every field in the file, in file order. Throws InputError for a file that
  // cannot be read (empty, truncated, corrupt) and UnsupportedError for grids or
  // encodings Gale does not handle.
  virtual const std::vector<FieldHeader>& headers() const = 0;
  // Decodes the fields with the given header indices (ascending) and hands each to `sink`.
  virtual void read(const std::vector<std::size_t>& indices, const FieldSink& sink) const = 0;
};

// Opens a file with the reader for its format, detected from its first bytes
// ("GRIB" -> grib, CDF/HDF5 signature -> netcdf). `format` may force "grib" or "netcdf".
std::unique_ptr<Reader> open_reader(const std::string& path, const std::string& format = "auto");
std::vector<std::string> reader_formats();  // registered formats, for config validation

// Canonical longitude in [0, 360), rounded to 1e-9 deg so that the same grid read from
// differently ordered files has identical coordinates (and fingerprint).
double canonical_longitude(double lon);
double round_degrees(double deg);

}  // namespace gale
