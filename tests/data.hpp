#pragma once
// Access to ../shared/data for tests: a test that needs a sample file skips (with a
// printed reason) when the folder is absent, e.g. in a user's fresh checkout.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

namespace gale::test {
inline std::string data_file(const std::string& name) {
  return std::string(GALE_SHARED_DATA) + "/" + name;
}
inline bool have_data() { return std::filesystem::exists(std::string(GALE_SHARED_DATA) + "/README.md"); }
}  // namespace gale::test

#define GALE_REQUIRE_DATA()                                                          \
  do {                                                                               \
    if (!gale::test::have_data()) {                                                  \
      WARN("skipped: sample data folder " GALE_SHARED_DATA " is absent");            \
      return;                                                                        \
    }                                                                                \
  } while (0)
