// Batch runs push their metrics to a Pushgateway (ops/run_metrics.hpp): a real
// prometheus-pushgateway on a free local port receives a small shallow-water forecast's
// metrics (members, leads, member-steps, product bytes, success, last success timestamp),
// their exposition passes `promtool check metrics`, a failed run pushes success 0 and keeps
// the earlier success timestamp, an unreachable or silent Pushgateway is one warning and
// exit 0, and a bad URL is a configuration error naming the key.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "../run_command.hpp"
#include "../scratch_dir.hpp"

namespace fs = std::filesystem;
using gale::test::run_command;

namespace {

const fs::path kDir = gale::test::scratch_root() / "pushgateway";

// A port nobody listens on right now (bound to 0, read back, closed).
int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t n = sizeof a;
  REQUIRE(getsockname(s, reinterpret_cast<sockaddr*>(&a), &n) == 0);
  close(s);
  return ntohs(a.sin_port);
}

// prometheus-pushgateway as a child process (in memory only), stopped and reaped at scope exit.
struct Pushgateway {
  pid_t pid = -1;
  int port = 0;
  std::string url;
  Pushgateway() {
    REQUIRE(run_command("command -v prometheus-pushgateway").code == 0);  // scripts/setup installs it
    port = free_port();
    url = "http://127.0.0.1:" + std::to_string(port);
    const auto listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    const auto log = (kDir / "pushgateway.log").string();
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execlp("prometheus-pushgateway", "prometheus-pushgateway", listen.c_str(), "--persistence.file=",
             "--log.level=warn", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100; ++i) {  // up to 10 s
      if (run_command("curl -sf -o /dev/null " + url + "/-/ready").code == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("the Pushgateway did not start on " << url);
  }
  ~Pushgateway() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
  }
  std::string scrape() const { return run_command("curl -sf " + url + "/metrics").out; }
};

// The value of `name` in the group {instance="ci", job=<job>} of a scrape.
std::optional<double> value(const std::string& scrape, const std::string& name, const std::string& job = "gale_test") {
  std::istringstream in(scrape);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + "{", 0) != 0) continue;
    if (line.find("job=\"" + job + "\"") == std::string::npos || line.find("instance=\"ci\"") == std::string::npos)
      continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

void write_forecast(const std::string& name, const std::string& time, const std::string& metrics) {
  std::ofstream(kDir / name) << "forecast:\n  input: {sources: [{path: nr/naturerun-run.nc}], time: " << time << "}\n"
                             << "  model: {type: shallow-water, truncation: 21, dt_minutes: 30}\n"
                             << "  members: 3\n  steps: 2\n  seed: 3\n"
                             << "  products: {percentiles: [10, 50, 90]}\n"
                             << "  output: run-" << name << "\n"
                             << "  metrics: " << metrics << "\n";
}

gale::test::CommandResult gale_in_dir(const std::string& args) {
  return run_command("cd " + kDir.string() + " && " + GALE_BINARY + " " + args);
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("forecasts push their metrics to a Pushgateway, and a push failure never fails the run") {
  fs::remove_all(kDir);
  fs::create_directories(kDir);
  setenv("no_proxy", "127.0.0.1,localhost", 1);  // gale's libcurl and curl here talk to the local gateway directly
  std::ofstream(kDir / "nr.yaml") << "naturerun:\n  model: {truncation: 21, dt_minutes: 30, seed: 7}\n"
                                     "  start: 2001-01-01T00\n  spinup_days: 10\n  length_days: 1\n  file_span: run\n";
  REQUIRE(gale_in_dir("naturerun -q -c nr.yaml -o nr").code == 0);

  {
    Pushgateway gateway;
    const std::string metrics = "{pushgateway: " + gateway.url + ", job: gale_test, instance: ci}";

    // A successful run: every series of the group, with the run's numbers.
    write_forecast("ok.yaml", "2001-01-01T06", metrics);
    const double before = now_seconds();
    auto r = gale_in_dir("forecast -c ok.yaml");
    INFO(r.out);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, !Catch::Contains("could not push"));
    const auto scrape = gateway.scrape();
    INFO(scrape);
    CHECK(value(scrape, "gale_forecast_members") == 3.0);
    CHECK(value(scrape, "gale_forecast_leads_completed_total") == 2.0);
    CHECK(value(scrape, "gale_forecast_steps_completed_total") == 6.0);
    CHECK(value(scrape, "gale_forecast_success") == 1.0);
    const auto duration = value(scrape, "gale_forecast_duration_seconds");
    REQUIRE(duration);
    CHECK(*duration > 0);
    CHECK(*duration < now_seconds() - before + 1);
    std::uintmax_t product_bytes = 0;  // at least the NetCDF products' sizes
    for (const auto& e : fs::recursive_directory_iterator(kDir / "run-ok.yaml" / "products"))
      if (e.path().extension() == ".nc") product_bytes += e.file_size();
    REQUIRE(product_bytes > 0);
    const auto bytes = value(scrape, "gale_forecast_product_bytes");
    REQUIRE(bytes);
    CHECK(*bytes >= double(product_bytes));
    const auto last_success = value(scrape, "gale_last_success_timestamp_seconds");
    REQUIRE(last_success);
    CHECK(*last_success >= before - 1);
    CHECK(*last_success <= now_seconds() + 1);
    CHECK_THAT(scrape, Catch::Contains("# TYPE gale_forecast_steps_completed_total counter"));
    CHECK_THAT(scrape, Catch::Contains("# TYPE gale_forecast_members gauge"));

    // The pushed families pass promtool's checks (the Pushgateway's own metrics left out).
    std::ofstream(kDir / "pushed.prom") << [&] {
      std::istringstream in(scrape);
      std::string out;
      for (std::string line; std::getline(in, line);)
        if (line.rfind("gale_", 0) == 0 || line.rfind("# HELP gale_", 0) == 0 || line.rfind("# TYPE gale_", 0) == 0)
          out += line + "\n";
      return out;
    }();
    const auto lint = run_command("promtool check metrics < " + (kDir / "pushed.prom").string());
    INFO(lint.out);
    CHECK(lint.code == 0);
    CHECK(lint.out.find_first_not_of(" \n") == std::string::npos);

    // A failed run (no initial conditions at that time) pushes success 0 and leaves the last
    // success timestamp of the earlier run in place.
    write_forecast("fail.yaml", "2001-03-01T00", metrics);
    r = gale_in_dir("forecast -q -c fail.yaml");
    INFO(r.out);
    CHECK(r.code != 0);
    const auto after_failure = gateway.scrape();
    INFO(after_failure);
    CHECK(value(after_failure, "gale_forecast_success") == 0.0);
    CHECK(value(after_failure, "gale_last_success_timestamp_seconds") == last_success);

    // A bad URL is a configuration error naming the key, before any work.
    write_forecast("bad.yaml", "2001-01-01T06", "{pushgateway: \"127.0.0.1:9091\"}");
    r = gale_in_dir("forecast -q -c bad.yaml");
    INFO(r.out);
    CHECK(r.code == 2);
    CHECK_THAT(r.out, Catch::Contains("forecast.metrics.pushgateway"));
  }

  // Nobody listening: one warning, and the forecast succeeds with its products.
  const int closed = free_port();
  write_forecast("closed.yaml", "2001-01-01T06",
                 "{pushgateway: http://127.0.0.1:" + std::to_string(closed) + ", job: gale_test, instance: ci}");
  const auto r = gale_in_dir("forecast -q -c closed.yaml");
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("could not push to the Pushgateway at http://127.0.0.1:" + std::to_string(closed)));
  CHECK(r.out.find("could not push") == r.out.rfind("could not push"));
  CHECK(fs::exists(kDir / "run-closed.yaml" / "products" / "manifest.json"));

  // A gateway that accepts the connection and never answers: abandoned after timeout_ms.
  {
    const int hung = free_port();
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(std::uint16_t(hung));
    REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(s, 4) == 0);  // never accepted: the kernel completes the handshake, nobody reads
    write_forecast("hung.yaml", "2001-01-01T06",
                   "{pushgateway: http://127.0.0.1:" + std::to_string(hung) + ", timeout_ms: 300}");
    const auto start = std::chrono::steady_clock::now();
    const auto h = gale_in_dir("forecast -q -c hung.yaml");
    close(s);
    INFO(h.out);
    CHECK(h.code == 0);
    CHECK_THAT(h.out, Catch::Contains("no answer within 300 ms"));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  }
  fs::remove_all(kDir);
}
