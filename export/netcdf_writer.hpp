#pragma once
// CF-1.10 NetCDF-4 products from a State (IMPROVER/ERA5 practice, see
// shared/CONVENTIONS.md), readable back by ingest's NetCDF reader.
//
// Layout:
//   dimensions  realization (only when the State has more than one member), time,
//               pressure_level[_2, ...] (one per distinct set of levels), and either
//               latitude, longitude (regular lat-lon and regular Gaussian grids) or
//               values (reduced Gaussian grids and meshes)
//   coordinates realization(realization) int; time(time) double "hours since <ref>";
//               forecast_reference_time (scalar) double; forecast_period(time) double
//               hours; pressure_level(pressure_level) float hPa, positive down;
//               latitude/longitude: 1-D axes, or auxiliary latitude(values),
//               longitude(values) named in each data variable's `coordinates`
//   data        one float variable per lexicon name, named by the entry's first NetCDF
//               name (z, t, u, v, t2m, u10, msl, ...), dims [realization,] time,
//               [pressure_level,] latitude, longitude | values; standard_name,
//               long_name, units (canonical SI), _FillValue NaN; chunked one field per
//               chunk (one member, one time, one level), deflate + shuffle.
//
// The file appears atomically (temporary name, fsync, rename) with `<path>.sha256` beside it.
#include <map>
#include <string>
#include <vector>

#include "core/state.hpp"

namespace gale {

struct NetcdfWriteOptions {
  int deflate_level = 1;  // 0 (no compression) .. 9; shuffle is on whenever deflate is
  std::string title, source, institution, comment, references;
  // History lines, oldest first. Each line should start with an ISO 8601 timestamp; a line
  // that does not is prefixed with the current UTC time. Empty: one line with the current
  // time saying Gale wrote the file (pass explicit lines for byte-reproducible products).
  std::vector<std::string> history;
  // Further global attributes (provenance: checkpoint hash, input hashes, config hash,
  // seeds). They are written after the State's metadata, so they win on equal names.
  // Names are made NetCDF-safe (characters other than [A-Za-z0-9_.@+-] become '_').
  // The names above (Conventions, title, ...) are reserved: using one is an InternalError.
  std::map<std::string, std::string> attributes;
};

// Writes `state` to `path` (NetCDF-4). Throws InputError naming the path and the
// netCDF-C message when the file cannot be written (e.g. a missing directory; no partial
// file is left behind), ConfigError for invalid options, UnsupportedError for model-level
// variables, and InternalError for an inconsistent State.
void write_state_netcdf(const State& state, const std::string& path,
                        const NetcdfWriteOptions& options = {});

}  // namespace gale
