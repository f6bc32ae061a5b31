#pragma once
// Shared plumbing for Gale's libFuzzer harnesses: the input goes to a per-process temp
// file (the readers take a path), reused for every input.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/errors.hpp"
#include "ingest/field.hpp"

namespace gale::fuzz {

// /tmp/gale-fuzz-<tag>-<pid>.bin (or $TMPDIR), removed at exit. The pid keeps -jobs/-fork
// workers apart.
inline const std::string& temp_path(const char* tag) {
  static const std::string path = [tag] {
    const char* dir = std::getenv("TMPDIR");
    std::string p = std::string(dir && *dir ? dir : "/tmp") + "/gale-fuzz-" + tag + "-" +
                    std::to_string(::getpid()) + ".bin";
    static std::string to_remove;
    to_remove = p;
    std::atexit([] { std::remove(to_remove.c_str()); });
    return p;
  }();
  return path;
}

inline void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();  // the harness cannot work at all: fail loudly, not silently
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  if (std::fclose(f) != 0) std::abort();
}

// One fuzz input: written to the temp file, opened with `open`, and every usable field
// decoded with one read() each (a bad field must not hide the ones after it), every value
// touched. gale::Error is the expected answer to malformed input; anything else is a finding.
template <class Open>
int read_everything(const char* tag, const std::uint8_t* data, std::size_t size, Open open) {
  const auto& path = temp_path(tag);
  write_file(path, data, size);
  try {
    const auto reader = open(path);
    volatile float sum = 0;
    for (const auto& h : reader->headers()) {
      if (!h.variable) continue;
      try {
        reader->read({h.index}, [&](const gale::FieldHeader& header, const float* values) {
          float s = 0;
          for (std::size_t p = 0, n = header.grid->size(); p < n; ++p) s += values[p];
          sum = sum + s;
        });
      } catch (const gale::Error&) {
      }
    }
  } catch (const gale::Error&) {
  }
  return 0;
}

}  // namespace gale::fuzz

// UB is a finding: stop at the first report (with a stack) instead of logging and going on.
extern "C" inline const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1";
}
