#pragma once
// ecCodes prints its own diagnostics to stderr; route them to our debug log so the user
// sees one clear message (ours) instead of a library's half-sentence. Shared by the GRIB
// reader (ingest) and the GRIB writers (export); header-only, both link ecCodes.
#include <eccodes.h>
#include <spdlog/spdlog.h>

namespace gale {

inline void route_eccodes_logging() {
  static const bool done = [] {
    codes_context_set_logging_proc(codes_context_get_default(),
                                   [](const codes_context*, int, const char* msg) { spdlog::debug("ecCodes: {}", msg); });
    return true;
  }();
  (void)done;
}

}  // namespace gale
