#pragma once
// NetCDF helpers for the product tests: a fresh temporary directory, a variable's values,
// and the check that ncdump, cdo and xarray read a file cleanly (every warning an error).
#include <catch2/catch.hpp>
#include <netcdf.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/run_command.hpp"
#include "tests/scratch_dir.hpp"

namespace gale::test {

// All values of variable `name` in `path`, as floats.
inline std::vector<float> read_floats(const std::string& path, const std::string& name) {
  int id = -1, var = -1;
  INFO(path << " " << name);
  REQUIRE(nc_open(path.c_str(), NC_NOWRITE, &id) == NC_NOERR);
  REQUIRE(nc_inq_varid(id, name.c_str(), &var) == NC_NOERR);
  int ndims = 0, dims[NC_MAX_VAR_DIMS];
  nc_inq_var(id, var, nullptr, nullptr, &ndims, dims, nullptr);
  std::size_t n = 1;
  for (int d = 0; d < ndims; ++d) {
    std::size_t len = 0;
    nc_inq_dimlen(id, dims[d], &len);
    n *= len;
  }
  std::vector<float> v(n);
  REQUIRE(nc_get_var_float(id, var, v.data()) == NC_NOERR);
  nc_close(id);
  return v;
}

// cdo reads `file` with no warning ("Warning" or "warning").
inline void check_cdo_reads(const std::string& file) {
  const auto sinfo = run_command("cdo -s sinfo " + file);
  INFO(file << "\n" << sinfo.out);
  CHECK(sinfo.code == 0);
  CHECK_THAT(sinfo.out, !Catch::Contains("arning"));
}

// xarray (Debian's python3-xarray, `-W error`) opens `file` as `ds` and runs the Python
// statements `checks` (asserts, ';'-separated) to the end.
inline void check_xarray(const std::string& file, const std::string& checks) {
  const auto py = run_command("/usr/bin/python3 -W error -c \"import xarray as xr; ds = xr.open_dataset('" + file +
                              "'); " + checks + "; print('ok')\"");
  INFO(file << "\n" << py.out);
  CHECK(py.code == 0);
  CHECK_THAT(py.out, Catch::Contains("ok"));
}

// ncdump, cdo and xarray read `file` cleanly; returns ncdump's header for further checks.
inline std::string check_opens_cleanly(const std::string& file) {
  INFO(file);
  const auto header = run_command("ncdump -h " + file);
  CHECK(header.code == 0);
  check_cdo_reads(file);
  check_xarray(file, "ds.load()");
  return header.out;
}

}  // namespace gale::test
