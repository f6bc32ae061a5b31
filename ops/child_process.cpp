#include "ops/child_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include "core/errors.hpp"

namespace gale {

ChildOutcome run_child(const std::vector<std::string>& argv, const std::string& log_file, double timeout_seconds,
                       const std::atomic<bool>& stop, double grace_seconds,
                       const std::vector<std::pair<std::string, std::string>>& environment) {
  if (argv.empty()) throw ConfigError("schedule: empty command");
  const int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw InputError(fmt::format("{}: cannot open the run log", log_file));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    throw InputError("schedule: fork failed");
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    for (const auto& [name, value] : environment) ::setenv(name.c_str(), value.c_str(), 1);
    ::execvp(args[0], args.data());
    dprintf(STDERR_FILENO, "gale schedule: cannot run %s\n", args[0]);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // both sides, so the group exists before any kill
  ::close(log);
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  ChildOutcome outcome;
  std::optional<clock::time_point> killing;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      ::kill(-pid, SIGKILL);  // anything the command left behind in its group
      return outcome;
    }
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    if (!killing && (elapsed > timeout_seconds || stop.load())) {
      (elapsed > timeout_seconds ? outcome.timed_out : outcome.stopped) = true;
      ::kill(-pid, SIGTERM);
      killing = clock::now();
    }
    if (killing && std::chrono::duration<double>(clock::now() - *killing).count() > grace_seconds) ::kill(-pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace gale
