#pragma once
// A NetCDF-4 file being written (to a temporary name; see AtomicOutput): every failed call
// throws InputError naming the output path and netCDF-C's message, and an unfinished
// file is aborted, never left half-written. Shared by every NetCDF writer.
#include <fmt/format.h>
#include <netcdf.h>

#include <mutex>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace gale {

// netCDF-C (and HDF5 beneath it) is not thread-safe: every writer holds this while its
// file is open (the readers in ingest hold their own lock).
inline std::mutex& netcdf_write_mutex() {
  static std::mutex m;
  return m;
}

class NcWriter {
 public:
  NcWriter(const std::string& path, const std::string& temp) : path_(path) {
    if (int err = nc_create(temp.c_str(), NC_NETCDF4 | NC_CLOBBER, &id_); err != NC_NOERR) {
      id_ = -1;
      throw InputError(fmt::format("{}: cannot create NetCDF file (temporary {}): {}", path, temp,
                                   nc_strerror(err)));
    }
  }
  ~NcWriter() {
    if (id_ >= 0) nc_abort(id_);
  }
  NcWriter(const NcWriter&) = delete;
  NcWriter& operator=(const NcWriter&) = delete;

  int id() const { return id_; }
  void check(int status, const std::string& what) const {
    if (status != NC_NOERR)
      throw InputError(fmt::format("{}: cannot write NetCDF ({}): {}", path_, what, nc_strerror(status)));
  }
  void close() {
    const int id = id_;
    id_ = -1;
    check(nc_close(id), "closing the file");
  }

  int dim(const std::string& name, std::size_t len) {
    int d = -1;
    check(nc_def_dim(id_, name.c_str(), len, &d), fmt::format("dimension '{}'", name));
    return d;
  }
  int var(const std::string& name, nc_type type, const std::vector<int>& dims) {
    int v = -1;
    check(nc_def_var(id_, name.c_str(), type, int(dims.size()), dims.data(), &v),
          fmt::format("variable '{}'", name));
    return v;
  }
  void text(int varid, const std::string& name, const std::string& value) {
    check(nc_put_att_text(id_, varid, name.c_str(), value.size(), value.c_str()),
          fmt::format("attribute '{}'", name));
  }

 private:
  std::string path_;
  int id_ = -1;
};

}  // namespace gale
