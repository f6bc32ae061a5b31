#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/errors.hpp"
#include "core/registry.hpp"
#include "ingest/field.hpp"
#include "ingest/grib_reader.hpp"
#include "ingest/netcdf_reader.hpp"

namespace gale {

namespace {
using ReaderRegistry = Registry<Reader, const std::string&>;

const ReaderRegistry& readers() {
  static const ReaderRegistry registry = [] {
    ReaderRegistry r("input format");
    r.add("grib", [](const std::string& p) { return make_grib_reader(p); });
    r.add("netcdf", [](const std::string& p) { return make_netcdf_reader(p); });
    return r;
  }();
  return registry;
}

// Format from the first bytes: GRIB messages start with "GRIB" (possibly after a WMO
// header); NetCDF classic with "CDF\x01/\x02/\x05", NetCDF-4 with the HDF5 signature.
std::string sniff_format(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(fmt::format("{}: is a directory, not a file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open (no such file or no permission)", path));
  std::string head(4096, '\0');
  in.read(head.data(), std::streamsize(head.size()));
  head.resize(std::size_t(in.gcount()));
  if (head.empty()) throw InputError(fmt::format("{}: empty file", path));
  if (head.rfind("CDF", 0) == 0 || head.rfind("\x89HDF\r\n\x1a\n", 0) == 0) return "netcdf";
  if (head.find("GRIB") != std::string::npos) return "grib";
  throw InputError(fmt::format("{}: not a GRIB or NetCDF file (unrecognised content)", path));
}
}  // namespace

std::vector<std::string> reader_formats() { return readers().names(); }

std::unique_ptr<Reader> open_reader(const std::string& path, const std::string& format) {
  const std::string chosen = format == "auto" ? sniff_format(path) : format;
  return readers().create(chosen, path);
}

double round_degrees(double deg) { return std::round(deg * 1e9) / 1e9; }

double canonical_longitude(double lon) {
  double l = std::fmod(round_degrees(lon), 360.0);
  if (l < 0) l += 360.0;
  l = round_degrees(l);
  return l >= 360.0 ? 0.0 : l;
}

std::string FieldHeader::describe() const {
  const std::string name = variable ? variable->key() : source_name;
  return fmt::format("{} {} member {} ({} field {})", name, iso8601(valid_time), member, file,
                     index + 1);
}

}  // namespace gale
