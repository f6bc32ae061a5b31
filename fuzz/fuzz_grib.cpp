// libFuzzer harness for Gale's GRIB reader (ecCodes). gale::Error is the expected outcome
// for a bad file; any other exception, crash, sanitizer report, hang or leak is a finding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/errors.hpp"
#include "fuzz/fuzz_common.hpp"
#include "ingest/grib_reader.hpp"

// ecCodes 2.28 leaks ~720 bytes once (not per input: the amount is the same after 1 or 20
// runs) when a message names a grid template it has no definition for (healpix_H8.grib2).
// ecCodes is built without frame pointers, so its leak stacks end inside libeccodes.so and
// can only be suppressed by module. A per-input leak inside ecCodes would still show up as
// growing RSS (-rss_limit_mb); leaks in Gale's own code are reported as usual.
extern "C" const char* __lsan_default_suppressions() { return "leak:libeccodes.so\n"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& path = gale::fuzz::temp_path("grib");
  gale::fuzz::write_file(path, data, size);
  try {
    const auto reader = gale::make_grib_reader(path);
    volatile float sum = 0;
    for (const auto& h : reader->headers()) {
      if (!h.variable) continue;
      // One read() per field, so that a bad message does not hide the ones after it.
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
