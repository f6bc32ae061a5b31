// Every input the fuzzers (fuzz/) found to crash, hang or exhaust memory in Gale or in
// ecCodes / NetCDF-C stays here: each must now give a gale::Error (or read cleanly),
// quickly, never a crash.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

#include "core/errors.hpp"
#include "ingest/field.hpp"
#include "ingest/grib_reader.hpp"
#include "ingest/netcdf_reader.hpp"

using namespace gale;

TEST_CASE("fuzzer findings give clear errors, not crashes") {
  const std::filesystem::path dir = GALE_FUZZ_REGRESSIONS;
  int files = 0, rejected = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto path = entry.path().string();
    const auto name = entry.path().filename().string();
    INFO(name);
    const auto start = std::chrono::steady_clock::now();
    try {
      auto reader = name.rfind("grib-", 0) == 0 ? make_grib_reader(path) : make_netcdf_reader(path);
      for (std::size_t i = 0; i < reader->headers().size(); ++i)
        if (reader->headers()[i].variable) reader->read({i}, [](const FieldHeader&, const float*) {});
    } catch (const Error& e) {
      ++rejected;
      CHECK_THAT(std::string(e.what()), Catch::Contains(path));  // names the file
    }
    ++files;
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  }
  CHECK(files >= 40);
  CHECK(rejected >= files - 2);
}
