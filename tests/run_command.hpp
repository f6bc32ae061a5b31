#pragma once
// Runs a shell command for the CLI tests and returns its exit code and its output
// (stdout and stderr together).
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace gale::test {
struct CommandResult {
  int code;
  std::string out;
};
inline CommandResult run_command(const std::string& command) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
// Runs the gale binary under test with `args`, appending its output to `out`.
inline int run_gale(const std::string& args, std::string& out) {
  const auto r = run_command(std::string(GALE_BINARY) + " " + args);
  out += r.out;
  return r.code;
}
}  // namespace gale::test
