// The scheduler daemon with an accelerated clock (12 simulated hours per real second):
// cycles trigger only on complete input, run exactly once across a restart, failed runs
// are retried a bounded number of times, a stuck run is killed by the timeout, SIGTERM
// stops the daemon cleanly, and /metrics passes `promtool check metrics`.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "../run_command.hpp"
#include "../scratch_dir.hpp"

namespace fs = std::filesystem;
using gale::test::run_command;

namespace {
const fs::path kDir = gale::test::scratch_root() / "schedule";

// A "forecast" that records its cycle and writes one verified product.
const char* kCommand =
    "[sh, -c, \"echo {YYYYMMDDHH} >> runs.txt; mkdir -p out/{YYYYMMDDHH}; echo {ISO} > out/{YYYYMMDDHH}/p.nc; "
    "sha256sum out/{YYYYMMDDHH}/p.nc | cut -d' ' -f1 > out/{YYYYMMDDHH}/p.nc.sha256\"]";

fs::path setup(const std::string& name, const std::string& command, const std::string& extra = "") {
  const auto dir = kDir / name;
  fs::create_directories(dir);
  std::ofstream(dir / "s.yaml") << "schedule:\n  cron: \"0 0,6,12,18 * * *\"\n  start: 2001-01-01T00\n"
                                   "  input: {pattern: \"in/{YYYYMMDDHH}/*.grib\", done_marker: \"in/{YYYYMMDDHH}/.done\"}\n"
                                   "  command: " << command << "\n"
                                   "  products: \"out/{YYYYMMDDHH}/*.nc\"\n  poll_seconds: 600\n"
                                   "  metrics: {listen: \"\"}\n" << extra;
  return dir;
}
void arrive(const fs::path& dir, const std::string& cycle, bool complete) {
  fs::create_directories(dir / "in" / cycle);
  std::ofstream(dir / "in" / cycle / "a.grib") << "GRIB";
  if (complete) std::ofstream(dir / "in" / cycle / ".done");
}
int schedule(const fs::path& dir, const std::string& clock, const std::string& until, std::string* out = nullptr) {
  const auto r = run_command("cd " + dir.string() + " && " + GALE_BINARY + " schedule -q --allow-root -c s.yaml --clock " +
                             clock + "@43200 --until " + until);
  if (out) *out = r.out;
  return r.code;
}
std::map<std::string, int> runs(const fs::path& dir) {
  std::map<std::string, int> count;
  std::ifstream in(dir / "runs.txt");
  for (std::string line; std::getline(in, line);) ++count[line];
  return count;
}
std::string ledger_text(const fs::path& dir) {
  return run_command("cd " + dir.string() + " && " + GALE_BINARY + " schedule -c s.yaml --status").out;
}
}  // namespace

TEST_CASE("cycles run only on complete input, exactly once across a restart") {
  const auto dir = setup("once", kCommand);
  arrive(dir, "2001010100", true);
  arrive(dir, "2001010106", true);
  arrive(dir, "2001010112", false);  // still arriving: no .done marker
  REQUIRE(schedule(dir, "2001-01-01T00", "2001-01-01T15") == 0);
  CHECK(runs(dir) == std::map<std::string, int>{{"2001010100", 1}, {"2001010106", 1}});
  CHECK_THAT(ledger_text(dir), Catch::Contains("2001-01-01T12:00:00Z   waiting"));

  // Restart later: 12 completes meanwhile, 18 and 00 arrive; nothing runs twice.
  arrive(dir, "2001010112", true);
  arrive(dir, "2001010118", true);
  arrive(dir, "2001010200", true);
  REQUIRE(schedule(dir, "2001-01-01T15", "2001-01-02T03") == 0);
  CHECK(runs(dir) == std::map<std::string, int>{
                         {"2001010100", 1}, {"2001010106", 1}, {"2001010112", 1}, {"2001010118", 1}, {"2001010200", 1}});
  // A third start over the same period finds everything done.
  REQUIRE(schedule(dir, "2001-01-01T00", "2001-01-02T03") == 0);
  CHECK(runs(dir).size() == 5);
  CHECK(runs(dir).at("2001010200") == 1);
}

TEST_CASE("after downtime, missed cycles are caught up once, older ones skipped") {
  const auto dir = setup("catchup", kCommand, "  catch_up: 2\n");
  for (const char* c : {"2001010100", "2001010106", "2001010112", "2001010118", "2001010200", "2001010206"})
    arrive(dir, c, true);
  REQUIRE(schedule(dir, "2001-01-01T00", "2001-01-01T02") == 0);  // runs 00, then the daemon is down
  REQUIRE(schedule(dir, "2001-01-02T07", "2001-01-02T08") == 0);  // 06..06 next day were due
  const auto r = runs(dir);
  CHECK(r == std::map<std::string, int>{{"2001010100", 1}, {"2001010118", 1}, {"2001010200", 1}, {"2001010206", 1}});
  const auto s = ledger_text(dir);
  CHECK_THAT(s, Catch::Contains("2001-01-01T06:00:00Z   skipped") && Catch::Contains("2001-01-01T12:00:00Z   skipped"));
}

TEST_CASE("failed runs are retried a bounded number of times; a stuck run is killed") {
  const auto fail = setup("fail", "[sh, -c, \"echo {YYYYMMDDHH} >> runs.txt; exit 3\"]",
                          "  retries: 2\n  retry_delay_minutes: 30\n");
  arrive(fail, "2001010100", true);
  std::string out;
  REQUIRE(schedule(fail, "2001-01-01T00", "2001-01-01T05", &out) == 0);
  CHECK(runs(fail).at("2001010100") == 3);  // the first attempt and two retries, no more
  CHECK_THAT(ledger_text(fail), Catch::Contains("failed") && Catch::Contains("exited with 3"));

  const auto stuck = setup("stuck", "[sh, -c, \"echo {YYYYMMDDHH} >> runs.txt; echo $$ > stuck.pid; exec sleep 300\"]",
                           "  retries: 0\n  timeout_minutes: 60\n");
  arrive(stuck, "2001010100", true);
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(schedule(stuck, "2001-01-01T00", "2001-01-01T05") == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));  // not the 300 s of the run
  CHECK(runs(stuck).at("2001010100") == 1);
  CHECK_THAT(ledger_text(stuck), Catch::Contains("timed out after 60 min and was killed"));
  // The stuck run itself is gone (its pid, not a machine-wide search: other runs may sleep too).
  pid_t stuck_pid = 0;
  REQUIRE(std::ifstream(stuck / "stuck.pid") >> stuck_pid);
  CHECK(::kill(stuck_pid, 0) != 0);
}

TEST_CASE("the daemon refuses root by default, serves metrics that promtool accepts, stops on SIGTERM") {
  // The run also reports what it completed through GALE_RUN_SUMMARY, as gale forecast does.
  const auto dir = setup("metrics", "[sh, cycle.sh, \"{YYYYMMDDHH}\", \"{ISO}\"]");
  std::ofstream(dir / "cycle.sh") << "mkdir -p out/$1 && echo $2 > out/$1/p.nc && "
                                     "sha256sum out/$1/p.nc | cut -d' ' -f1 > out/$1/p.nc.sha256 && "
                                     "echo '{\"members\": 10, \"steps_completed\": 200}' > \"$GALE_RUN_SUMMARY\"\n";
  const auto refused = run_command("cd " + dir.string() + " && " + GALE_BINARY + " schedule -c s.yaml");
  if (::geteuid() == 0) {
    CHECK(refused.code == 2);
    CHECK_THAT(refused.out, Catch::Contains("refusing to run as root"));
  }
  arrive(dir, "2001010100", true);
  const int port = 20000 + ::getpid() % 20000;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::chdir(dir.c_str());
    const std::string listen = "schedule.metrics.listen=127.0.0.1:" + std::to_string(port);
    ::execl(GALE_BINARY, GALE_BINARY, "schedule", "-q", "--allow-root", "-c", "s.yaml", "--set", listen.c_str(),
            "--clock", "2001-01-01T00@21600", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string scrape;
  for (int i = 0; i < 100 && scrape.find("gale_runs_succeeded_total 1") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    scrape = run_command("curl -sf http://127.0.0.1:" + std::to_string(port) + "/metrics").out;
  }
  INFO(scrape);
  CHECK_THAT(scrape, Catch::Contains("gale_members_completed_total 10") && Catch::Contains("gale_steps_completed_total 200"));
  CHECK_THAT(scrape, Catch::Contains("gale_runs_started_total 1") && Catch::Contains("gale_run_duration_seconds_bucket") &&
                         Catch::Contains("gale_last_success_timestamp_seconds") && Catch::Contains("gale_queue_depth"));
  std::ofstream(dir / "scrape.txt") << scrape;
  if (fs::exists("/usr/bin/promtool")) {
    const auto check = run_command("promtool check metrics < " + (dir / "scrape.txt").string());
    INFO(check.out);
    CHECK(check.code == 0);
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
