// libFuzzer harness for Gale's NetCDF reader (NetCDF-C, HDF5). gale::Error is the expected
// outcome for a bad file; any other exception, crash, sanitizer report, hang or leak is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/errors.hpp"
#include "fuzz/fuzz_common.hpp"
#include "ingest/netcdf_reader.hpp"

// HDF5 1.10 leaks metadata-cache entries (H5C_protect <- H5O_protect <- H5O_obj_type) on
// most corrupt NetCDF-4 files; without this every run stops at the first mutated HDF5 input.
// Those leaks are reported in fuzz/README.md; leaks in Gale's own code are still reported.
extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5_serial.so\n"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return gale::fuzz::read_everything("netcdf", data, size, [](const std::string& p) { return gale::make_netcdf_reader(p); });
}
