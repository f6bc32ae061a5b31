#pragma once
// `gale schedule CONFIG`: the forecast daemon. Cycles come from a cron-like rule; a cycle
// runs when it is due and its input has arrived completely (a `.done` marker, or files
// whose sizes stayed unchanged for a while); the forecast is launched as a command (gale,
// mpirun or srun) with bounded retries and a timeout that kills a stuck run. A SQLite
// ledger makes every cycle run once across restarts; missed cycles are caught up once (up
// to a limit); SIGTERM stops cleanly; metrics are served for Prometheus.
//
// schedule:
//   cron: "0 0,6,12,18 * * *"          # minute hour (day, month and weekday must be *)
//   start: 2001-01-01T00               # optional: first cycle to consider
//   delay_minutes: 0                   # a cycle is due this long after its nominal time
//   input:
//     pattern: incoming/{YYYYMMDDHH}/*.grib
//     done_marker: incoming/{YYYYMMDDHH}/.done    # optional; otherwise stable_seconds
//     min_files: 1
//     stable_seconds: 60
//   command: [mpirun, -np, "2", gale, forecast, -c, configs/x.yaml, --set, "forecast.input.time={ISO}"]
//   products: runs/{YYYYMMDDHH}/stats/*.nc   # a cycle whose products exist and verify is skipped
//   timeout_minutes: 120
//   retries: 2
//   retry_delay_minutes: 10
//   catch_up: 4                        # missed cycles run after downtime (older ones are skipped)
//   poll_seconds: 30
//   state_dir: state                   # ledger.sqlite and logs/
//   metrics: {listen: "127.0.0.1:9464", user: ops, password_file: secret, request_timeout_ms: 5000}
//   allow_root: false
// Placeholders: {YYYYMMDDHH} {YYYYMMDD} {HH} {ISO}. Paths are relative to the config file.
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/time.hpp"
#include "ops/scheduler_metrics.hpp"

namespace gale {

struct CycleRule {
  std::vector<int> minutes, hours;  // sorted
  // Cycle times in (after, until], ascending.
  std::vector<TimePoint> between(TimePoint after, TimePoint until) const;
};
CycleRule parse_cron(const std::string& text);  // "M H * * *"; ConfigError otherwise

struct ScheduleSpec {
  CycleRule rule;
  std::optional<TimePoint> start;
  Duration delay{0};
  std::string input_pattern, done_marker;
  int min_files = 1;
  Duration stable{60};
  std::vector<std::string> command;
  std::string products;
  Duration timeout{7200};
  int retries = 2;
  Duration retry_delay{600};
  int catch_up = 4;
  Duration poll{30};
  std::string state_dir;
  MetricsSpec metrics;
  bool allow_root = false;
};
ScheduleSpec parse_schedule_config(const Config& config);

// Scheduler time: the wall clock, or (for tests and replays) simulated time starting at
// `start` and running `speed` times faster than the wall clock.
class SchedulerClock {
 public:
  SchedulerClock() = default;
  SchedulerClock(TimePoint start, double speed);
  static SchedulerClock parse(const std::string& text);  // "2001-01-01T00@3600"
  TimePoint now() const;
  double speed() const { return speed_; }
  // Real seconds for a simulated duration.
  double real_seconds(Duration simulated) const { return double(simulated.count()) / speed_; }

 private:
  bool simulated_ = false;
  TimePoint start_{};
  std::chrono::steady_clock::time_point real_start_ = std::chrono::steady_clock::now();
  double speed_ = 1;
};

std::string expand_cycle_placeholders(const std::string& text, TimePoint cycle);

// Runs until `stop` is raised (SIGTERM) or the clock passes `until`. Returns 0.
int run_scheduler(const ScheduleSpec& spec, const SchedulerClock& clock, std::optional<TimePoint> until,
                  const std::atomic<bool>& stop);

// The ledger as a table (cycle, state, attempts, message).
std::string schedule_status(const ScheduleSpec& spec);

}  // namespace gale
