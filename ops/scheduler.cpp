#include "ops/scheduler.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <glob.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "ops/child_process.hpp"
#include "ops/run_ledger.hpp"

namespace gale {

namespace fs = std::filesystem;

namespace {

std::vector<int> parse_field(const std::string& field, int max, const std::string& text) {
  std::vector<int> out;
  std::stringstream items(field);
  std::string item;
  while (std::getline(items, item, ',')) {
    int step = 1, lo = 0, hi = max;
    auto slash = item.find('/');
    std::string range = item.substr(0, slash);
    try {
      if (slash != std::string::npos) step = std::stoi(item.substr(slash + 1));
      if (range != "*") {
        const auto dash = range.find('-');
        lo = std::stoi(range.substr(0, dash));
        hi = dash == std::string::npos ? (slash == std::string::npos ? lo : max) : std::stoi(range.substr(dash + 1));
      }
    } catch (const std::exception&) {
      throw ConfigError(fmt::format("schedule.cron: '{}' in '{}' is not a number, range or step", item, text));
    }
    if (lo < 0 || hi > max || lo > hi || step < 1)
      throw ConfigError(fmt::format("schedule.cron: '{}' in '{}' is outside 0..{}", item, text, max));
    for (int v = lo; v <= hi; v += step) out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> glob_files(const std::string& pattern) {
  glob_t g{};
  std::vector<std::string> files;
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (std::size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  return files;
}

// Products exist and each has a .sha256 that matches its content.
// Members and member-steps from a run's summary file (0, 0 when the run wrote none or it
// does not parse: metrics must never fail a cycle).
std::pair<double, double> read_run_summary(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {0, 0};
  try {
    const auto j = nlohmann::json::parse(in);
    return {j.value("members", 0.0), j.value("steps_completed", 0.0)};
  } catch (const nlohmann::json::exception& e) {
    spdlog::warn("schedule: {}: not a run summary ({})", path, e.what());
    return {0, 0};
  }
}

bool products_verified(const std::string& pattern, std::uintmax_t* bytes = nullptr) {
  const auto files = glob_files(pattern);
  if (files.empty()) return false;
  std::uintmax_t total = 0;
  for (const auto& f : files) {
    std::ifstream sum(f + ".sha256");
    std::string digest;
    if (!(sum >> digest) || digest != sha256_file(f)) return false;
    total += fs::file_size(f);
  }
  if (bytes) *bytes = total;
  return true;
}

std::string resolve(const Config& config, const std::string& path) { return path.empty() ? path : config.resolve_path(path); }

}  // namespace

std::vector<TimePoint> CycleRule::between(TimePoint after, TimePoint until) const {
  std::vector<TimePoint> out;
  const auto day = std::chrono::floor<std::chrono::days>(after);
  for (auto d = day; d <= until; d += std::chrono::days(1))
    for (const int h : hours)
      for (const int m : minutes) {
        const TimePoint t = std::chrono::time_point_cast<Duration>(d) + std::chrono::hours(h) + std::chrono::minutes(m);
        if (t > after && t <= until) out.push_back(t);
      }
  return out;
}

CycleRule parse_cron(const std::string& text) {
  std::stringstream s(text);
  std::vector<std::string> fields;
  for (std::string f; s >> f;) fields.push_back(f);
  if (fields.size() != 5 || fields[2] != "*" || fields[3] != "*" || fields[4] != "*")
    throw ConfigError(fmt::format("schedule.cron: '{}': expected 'MINUTE HOUR * * *' (forecast cycles repeat daily)", text));
  return {parse_field(fields[0], 59, text), parse_field(fields[1], 23, text)};
}

std::string expand_cycle_placeholders(const std::string& text, TimePoint cycle) {
  const auto iso = iso8601(cycle);  // 2001-01-01T06:00:00Z
  const std::string ymd = iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2), hh = iso.substr(11, 2);
  std::string out = text;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"{YYYYMMDDHH}", ymd + hh}, {"{YYYYMMDD}", ymd}, {"{HH}", hh}, {"{ISO}", iso.substr(0, 13)}})
    for (std::size_t at; (at = out.find(key)) != std::string::npos;) out.replace(at, key.size(), value);
  return out;
}

SchedulerClock::SchedulerClock(TimePoint start, double speed) : simulated_(true), start_(start), speed_(speed) {}

SchedulerClock SchedulerClock::parse(const std::string& text) {
  const auto at = text.find('@');
  const TimePoint start = parse_iso8601(text.substr(0, at), "--clock");
  double speed = 1;
  if (at != std::string::npos) {
    try {
      speed = std::stod(text.substr(at + 1));
    } catch (const std::exception&) {
      throw ConfigError("--clock: expected START@SPEED, e.g. 2001-01-01T00@3600");
    }
  }
  if (!(speed > 0)) throw ConfigError("--clock: the speed must be positive");
  return SchedulerClock(start, speed);
}

TimePoint SchedulerClock::now() const {
  if (!simulated_) return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  const double real = std::chrono::duration<double>(std::chrono::steady_clock::now() - real_start_).count();
  return start_ + Duration(std::int64_t(real * speed_));
}

ScheduleSpec parse_schedule_config(const Config& config) {
  const auto root = config.root();
  root.allow_only({"schedule"});
  const auto node = root.at("schedule");
  node.allow_only({"cron", "start", "delay_minutes", "input", "command", "products", "timeout_minutes", "retries",
                   "retry_delay_minutes", "catch_up", "poll_seconds", "state_dir", "metrics", "allow_root"});
  ScheduleSpec spec;
  try {
    spec.rule = parse_cron(node.get_string("cron"));
  } catch (const ConfigError& e) {
    node.at("cron").fail(e.what());
  }
  if (node.has("start")) {
    try {
      spec.start = parse_iso8601(node.get_string("start"), "schedule.start");
    } catch (const UserError& e) {
      node.at("start").fail(e.what());
    }
  }
  auto minutes = [](double m) { return Duration(std::int64_t(m * 60)); };
  spec.delay = minutes(node.get_double("delay_minutes", 0, 0, 7 * 1440));
  if (node.has("input")) {
    const auto in = node.at("input");
    in.allow_only({"pattern", "done_marker", "min_files", "stable_seconds"});
    spec.input_pattern = resolve(config, in.get_string("pattern"));
    spec.done_marker = resolve(config, in.get_string("done_marker", ""));
    spec.min_files = int(in.get_long("min_files", 1, 1, 1000000));
    spec.stable = Duration(std::int64_t(in.get_double("stable_seconds", 60, 0, 86400)));
  }
  spec.command = node.at("command").as_strings();
  if (spec.command.empty()) node.at("command").fail("the command to launch is empty");
  spec.products = resolve(config, node.get_string("products", ""));
  spec.timeout = minutes(node.get_double("timeout_minutes", 120, 0.01, 7 * 1440));
  spec.retries = int(node.get_long("retries", 2, 0, 100));
  spec.retry_delay = minutes(node.get_double("retry_delay_minutes", 10, 0, 1440));
  spec.catch_up = int(node.get_long("catch_up", 4, 0, 1000));
  spec.poll = Duration(std::int64_t(node.get_double("poll_seconds", 30, 1, 3600)));
  spec.state_dir = config.resolve_path(node.get_string("state_dir", "state"));
  if (node.has("metrics")) {
    const auto m = node.at("metrics");
    m.allow_only({"listen", "user", "password_file", "request_timeout_ms", "threads"});
    spec.metrics.listen = m.get_string("listen", spec.metrics.listen);
    spec.metrics.user = m.get_string("user", "");
    if (!spec.metrics.user.empty()) {
      const auto file = config.resolve_path(m.get_string("password_file"));
      std::ifstream in(file);
      if (!std::getline(in, spec.metrics.password) || spec.metrics.password.empty())
        m.at("password_file").fail(fmt::format("{}: cannot read a password from it", file));
    }
    spec.metrics.request_timeout_ms = int(m.get_long("request_timeout_ms", 5000, 100, 600000));
    spec.metrics.threads = int(m.get_long("threads", 2, 1, 64));
  }
  spec.allow_root = node.get_bool("allow_root", false);
  return spec;
}

namespace {

class Scheduler {
 public:
  Scheduler(const ScheduleSpec& spec, const SchedulerClock& clock, const std::atomic<bool>& stop)
      : spec_(spec), clock_(clock), stop_(stop), ledger_((fs::create_directories(spec.state_dir), spec.state_dir + "/ledger.sqlite")),
        metrics_(spec.metrics) {
    fs::create_directories(spec.state_dir + "/logs");
    if (metrics_.port() > 0) spdlog::info("schedule: metrics on http://{}/metrics (port {})", spec.metrics.listen, metrics_.port());
  }

  void tick() {
    const TimePoint now = clock_.now();
    int waiting = 0;
    for (const TimePoint cycle : due_cycles(now)) {
      if (stop_) return;
      if (!process(cycle, now)) ++waiting;
    }
    metrics_.set_queue_depth(waiting);
  }

 private:
  // Cycles to look at: those after the last one in the ledger (at most catch_up + 1 of
  // them; older missed ones are recorded as skipped), and ledger cycles still unfinished.
  std::vector<TimePoint> due_cycles(TimePoint now) {
    const TimePoint horizon = now - spec_.delay;
    const auto latest = ledger_.latest();
    TimePoint after = latest ? *latest : (spec_.start ? *spec_.start - Duration(1) : horizon - Duration(1));
    if (!latest && !spec_.start) {  // first start without a start time: the latest due cycle only
      const auto recent = spec_.rule.between(horizon - std::chrono::days(2), horizon);
      after = recent.empty() ? horizon : recent.back() - Duration(1);
    }
    auto fresh = spec_.rule.between(after, horizon);
    const std::size_t keep = std::size_t(spec_.catch_up) + 1;  // the current cycle and catch_up missed ones
    if (latest && fresh.size() > keep) {
      for (std::size_t i = 0; i + keep < fresh.size(); ++i) {
        ledger_.finish(fresh[i], CycleState::skipped, "missed while the daemon was down (beyond catch_up)");
        spdlog::warn("schedule: cycle {} missed and skipped (catch_up {})", iso8601(fresh[i]), spec_.catch_up);
      }
      fresh.erase(fresh.begin(), fresh.end() - std::ptrdiff_t(keep));
    }
    std::vector<TimePoint> out;
    for (const auto& r : ledger_.all())
      if (r.state == CycleState::waiting || r.state == CycleState::running ||
          (r.state == CycleState::failed && r.attempts <= spec_.retries))
        out.push_back(r.cycle);
    out.insert(out.end(), fresh.begin(), fresh.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  bool input_ready(TimePoint cycle, TimePoint now) {
    if (spec_.input_pattern.empty()) return true;
    if (!spec_.done_marker.empty() && !fs::exists(expand_cycle_placeholders(spec_.done_marker, cycle))) return false;
    const auto files = glob_files(expand_cycle_placeholders(spec_.input_pattern, cycle));
    if (int(files.size()) < spec_.min_files) return false;
    if (!spec_.done_marker.empty()) return true;
    // No marker: the set of files and their sizes must stay unchanged for `stable`.
    std::string signature;
    for (const auto& f : files) {
      std::error_code ec;
      signature += f + ":" + std::to_string(fs::file_size(f, ec)) + ";";
    }
    auto& seen = stability_[cycle];
    if (seen.first != signature) seen = {signature, now};
    return now - seen.second >= spec_.stable;
  }

  // Returns true when the cycle is finished (succeeded, skipped or finally failed).
  bool process(TimePoint cycle, TimePoint now) {
    const auto name = iso8601(cycle);
    const auto record = ledger_.find(cycle);
    if (!spec_.products.empty() && products_verified(expand_cycle_placeholders(spec_.products, cycle))) {
      ledger_.finish(cycle, CycleState::succeeded, record ? record->message : "products already present and verified");
      if (!record) spdlog::info("schedule: cycle {}: products already present and verified; skipped", name);
      return true;
    }
    if (record && record->state == CycleState::failed) {
      const auto last = last_failure_.find(cycle);
      if (last != last_failure_.end() && now - last->second < spec_.retry_delay) return false;
    }
    if (!input_ready(cycle, now)) {
      // Recorded, so that a later cycle running first does not make this one forgotten.
      if (!record) ledger_.finish(cycle, CycleState::waiting, "waiting for complete input");
      return false;
    }

    ledger_.start_attempt(cycle);
    const int attempt = ledger_.find(cycle)->attempts;
    std::vector<std::string> argv;
    for (const auto& a : spec_.command) argv.push_back(expand_cycle_placeholders(a, cycle));
    const auto log = fmt::format("{}/logs/{}.log", spec_.state_dir, expand_cycle_placeholders("{YYYYMMDDHH}", cycle));
    spdlog::info("schedule: cycle {} attempt {}: {}", name, attempt, fmt::join(argv, " "));
    metrics_.run_started();
    const auto started = std::chrono::steady_clock::now();
    // The run reports what it completed (members, member-steps) in a summary file whose path
    // it finds in GALE_RUN_SUMMARY (gale forecast writes it; other commands may).
    const auto summary = fmt::format("{}/logs/{}.summary.json", spec_.state_dir,
                                     expand_cycle_placeholders("{YYYYMMDDHH}", cycle));
    std::filesystem::remove(summary);
    const auto outcome = run_child(argv, log, clock_.real_seconds(spec_.timeout), stop_, 5, {{"GALE_RUN_SUMMARY", summary}});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (outcome.stopped) {
      ledger_.interrupted(cycle);
      spdlog::info("schedule: cycle {} interrupted by shutdown; it runs again on restart", name);
      return false;
    }
    std::uintmax_t bytes = 0;
    const bool products_ok =
        spec_.products.empty() || products_verified(expand_cycle_placeholders(spec_.products, cycle), &bytes);
    if (outcome.exit_code == 0 && products_ok) {
      ledger_.finish(cycle, CycleState::succeeded, fmt::format("attempt {} succeeded in {:.1f} s", attempt, seconds));
      metrics_.run_finished(true, seconds, double(std::chrono::system_clock::now().time_since_epoch().count()) / 1e9);
      const auto [members, steps] = read_run_summary(summary);
      metrics_.add_products(double(bytes), members, steps);
      spdlog::info("schedule: cycle {} succeeded", name);
      return true;
    }
    const auto why = outcome.timed_out ? fmt::format("timed out after {} min and was killed", spec_.timeout.count() / 60)
                     : outcome.exit_code != 0 ? fmt::format("exited with {} (log: {})", outcome.exit_code, log)
                                              : fmt::format("exited 0 but its products ({}) are missing or do not verify",
                                                            expand_cycle_placeholders(spec_.products, cycle));
    const bool final_failure = attempt > spec_.retries;
    ledger_.finish(cycle, CycleState::failed, fmt::format("attempt {} {}", attempt, why));
    metrics_.run_finished(false, seconds, 0);
    last_failure_[cycle] = clock_.now();
    const auto message = fmt::format("schedule: cycle {} attempt {} {}{}", name, attempt, why,
                                     final_failure ? "; no retries left" : "; will retry");
    if (final_failure)
      spdlog::error(message);
    else
      spdlog::warn(message);
    return final_failure;
  }

  const ScheduleSpec& spec_;
  const SchedulerClock& clock_;
  const std::atomic<bool>& stop_;
  RunLedger ledger_;
  SchedulerMetrics metrics_;
  std::map<TimePoint, std::pair<std::string, TimePoint>> stability_;
  std::map<TimePoint, TimePoint> last_failure_;
};

}  // namespace

int run_scheduler(const ScheduleSpec& spec, const SchedulerClock& clock, std::optional<TimePoint> until,
                  const std::atomic<bool>& stop) {
  if (::geteuid() == 0 && !spec.allow_root)
    throw ConfigError("schedule: refusing to run as root (set schedule.allow_root: true, or pass --allow-root, "
                      "to do so anyway); run the daemon as a service user");
  Scheduler scheduler(spec, clock, stop);
  spdlog::info("schedule: started (state in {})", spec.state_dir);
  while (!stop && !(until && clock.now() > *until)) {
    scheduler.tick();
    // Sleep one poll interval in small slices, so SIGTERM is honoured promptly.
    const auto wake = std::chrono::steady_clock::now() + std::chrono::duration<double>(clock.real_seconds(spec.poll));
    while (!stop && std::chrono::steady_clock::now() < wake) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  spdlog::info("schedule: {}", stop ? "stopped by signal" : "reached --until");
  return 0;
}

std::string schedule_status(const ScheduleSpec& spec) {
  RunLedger ledger(spec.state_dir + "/ledger.sqlite");
  std::string out = fmt::format("{:<22} {:<10} {:>8}  {}\n", "cycle", "state", "attempts", "message");
  for (const auto& r : ledger.all())
    out += fmt::format("{:<22} {:<10} {:>8}  {}\n", iso8601(r.cycle), to_string(r.state), r.attempts, r.message);
  return out;
}

}  // namespace gale
