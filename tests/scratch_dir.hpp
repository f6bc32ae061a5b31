#pragma once
// One scratch directory per test process, <temp>/gale-test-<pid>, under which every test
// writes its files. It is made on first use and removed with all it holds when the process
// exits, so a run of ctest leaves nothing in /tmp, even when a test stops at a failed
// REQUIRE before its own clean-up. GALE_KEEP_TEST_FILES=1 keeps it (its path is printed
// once to stderr) to look at what a failing test wrote.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

namespace gale::test {

inline bool keep_test_files() { return std::getenv("GALE_KEEP_TEST_FILES") != nullptr; }

namespace detail {
struct ScratchRoot {
  // The pid makes the name unique among live processes; a directory already there was left
  // by a killed process whose pid has been reused, so it is emptied.
  const pid_t owner = ::getpid();
  const std::filesystem::path path = std::filesystem::temp_directory_path() / ("gale-test-" + std::to_string(owner));
  ScratchRoot() {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    if (keep_test_files()) std::cerr << "GALE_KEEP_TEST_FILES: keeping this test's files in " << path.string() << "\n";
  }
  // Only the process that made the root removes it: a forked child exiting normally runs
  // this destructor too, while the parent may still use the files. The children the tests
  // start (the gale CLI, mpirun and its ranks) are waited for before the process exits,
  // and they never include this header, so they cannot remove it either.
  ~ScratchRoot() {
    if (::getpid() != owner || keep_test_files()) return;
    std::error_code ignored;  // never throw from a destructor at exit
    std::filesystem::remove_all(path, ignored);
  }
};
}  // namespace detail

// The process's scratch root, created on first call (a function-local static: safe to use
// from other static initialisers, and destroyed at exit after everything made later).
inline const std::filesystem::path& scratch_root() {
  static const detail::ScratchRoot root;
  return root.path;
}

// <scratch root>/<name>, new and empty.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto dir = scratch_root() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace gale::test
