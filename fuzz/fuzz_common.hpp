#pragma once
// Shared plumbing for Gale's libFuzzer harnesses: the input goes to a per-process temp
// file (the readers take a path), reused for every input.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

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

}  // namespace gale::fuzz

// UB is a finding: stop at the first report (with a stack) instead of logging and going on.
extern "C" inline const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1";
}
