#pragma once
// Runs a command (argv, no shell) in its own process group with its output appended to a
// log file, and waits for it with a timeout: a stuck run is sent SIGTERM, then SIGKILL
// after a grace period, so its whole tree (mpirun and its ranks) goes.
#include <atomic>
#include <string>
#include <vector>

namespace gale {

struct ChildOutcome {
  int exit_code = -1;      // exit status, or 128 + signal
  bool timed_out = false;  // killed by the timeout
  bool stopped = false;    // killed because `stop` was raised (daemon shutting down)
};

// `environment`: variables set in the child on top of this process's environment.
ChildOutcome run_child(const std::vector<std::string>& argv, const std::string& log_file, double timeout_seconds,
                       const std::atomic<bool>& stop, double grace_seconds = 5,
                       const std::vector<std::pair<std::string, std::string>>& environment = {});

}  // namespace gale
