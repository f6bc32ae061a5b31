// gale-schedule (also `gale schedule`): the forecast daemon. See ops/scheduler.hpp.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include "core/errors.hpp"
#include "core/log.hpp"
#include "ops/scheduler.hpp"
#include "ops/version.hpp"

namespace {
std::atomic<bool> g_stop{false};
}

int main(int argc, char** argv) {
  CLI::App app{"gale schedule: run forecast cycles when their input arrives; serve Prometheus metrics"};
  std::string config_file, clock, until;
  std::vector<std::string> overrides;
  bool allow_root = false, status = false, verbose = false, quiet = false;
  app.add_option("-c,--config", config_file, "YAML config")->required()->check(CLI::ExistingFile);
  app.add_option("--set", overrides, "override a config value: key.path=value");
  app.add_flag("--status", status, "print the run ledger and exit");
  app.add_flag("--allow-root", allow_root, "run even as root");
  app.add_option("--clock", clock, "simulated clock START@SPEED (tests, replays), e.g. 2001-01-01T00@3600");
  app.add_option("--until", until, "exit once the (simulated) clock passes this time");
  app.add_flag("-v,--verbose", verbose, "debug logging");
  app.add_flag("-q,--quiet", quiet, "warnings and errors only");
  app.set_version_flag("--version", std::string(gale::kVersion));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  gale::setup_logging(quiet ? gale::Verbosity::quiet : verbose ? gale::Verbosity::verbose : gale::Verbosity::normal);
  try {
    gale::Config config = gale::Config::from_file(config_file);
    for (const auto& o : overrides) config.set(o);
    auto spec = gale::parse_schedule_config(config);
    if (status) {
      std::cout << gale::schedule_status(spec) << std::flush;
      return 0;
    }
    spec.allow_root = spec.allow_root || allow_root;
    std::signal(SIGTERM, [](int) { g_stop = true; });
    std::signal(SIGINT, [](int) { g_stop = true; });
    const auto sim = clock.empty() ? gale::SchedulerClock() : gale::SchedulerClock::parse(clock);
    std::optional<gale::TimePoint> stop_at;
    if (!until.empty()) stop_at = gale::parse_iso8601(until, "--until");
    return gale::run_scheduler(spec, sim, stop_at, g_stop);
  } catch (const gale::Error& e) {
    std::cerr << "gale schedule: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "gale schedule: unexpected error (please report): " << e.what() << "\n";
    return 70;
  }
}
