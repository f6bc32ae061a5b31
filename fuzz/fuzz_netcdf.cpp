// libFuzzer harness for Gale's NetCDF reader (NetCDF-C, HDF5). gale::Error is the expected
// outcome for a bad file; any other exception, crash, sanitizer report, hang or leak is a finding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/errors.hpp"
#include "fuzz/fuzz_common.hpp"
#include "ingest/netcdf_reader.hpp"

// HDF5 1.10 leaks metadata-cache entries (H5C_protect <- H5O_protect <- H5O_obj_type) on
// most corrupt NetCDF-4 files; without this every run stops at the first mutated HDF5 input.
// Those leaks are reported in fuzz/README.md; leaks in Gale's own code are still reported.
extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5_serial.so\n"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& path = gale::fuzz::temp_path("netcdf");
  gale::fuzz::write_file(path, data, size);
  try {
    const auto reader = gale::make_netcdf_reader(path);
    volatile float sum = 0;
    for (const auto& h : reader->headers()) {
      if (!h.variable) continue;
      // One read() per field, so that a bad slice does not hide the ones after it.
      try {
        reader->read({h.index}, [&](const gale::FieldHeader& header, const float* values) {
          // Touch every value the sink is promised (grid->size() floats).
          float s = 0;
          for (std::size_t p = 0, n = header.grid->size(); p < n; ++p) s += values[p];
          sum = sum + s;
        });
      } catch (const gale::Error&) {
      }
    }
  } catch (const gale::Error&) {
    // Rejected with a clear error: the expected outcome for malformed input.
  }
  return 0;
}
