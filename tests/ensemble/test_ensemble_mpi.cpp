// The ensemble engine under real MPI ranks (mpirun from CMake's FindMPI): products are
// bitwise identical for 1, 2 and 3 ranks; a run whose rank is killed resumes to the same
// bits; a NaN in one member stops the run naming member, step and variable.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>
#include <numeric>

#include <netcdf.h>

#include "core/hash.hpp"
#include "export/netcdf_writer.hpp"
#include "ingest/selection.hpp"
#include "tests/scratch_dir.hpp"

namespace fs = std::filesystem;

namespace {
// Shared with the mpirun'd gale ranks, which this process waits for: they never outlive it.
const fs::path kDir = gale::test::scratch_root() / "ensemble";

int run(const std::string& args, std::string* out = nullptr) {
  const std::string cmd = "cd " + kDir.string() + " && " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  std::string text;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) text.append(buf.data(), n);
  const int status = pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
std::string mpirun(int ranks) {
  return std::string(GALE_MPIEXEC) + " --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " " +
         GALE_BINARY;
}
void write_config(const std::string& name, const std::string& output, int members, int steps, int truncation,
                  const std::string& input = "nr/naturerun-run.nc", bool perturb = true) {
  std::ofstream(kDir / name) << "forecast:\n  input: {sources: [{path: " << input << "}], time: 2001-01-01T06}\n"
                             << "  model: {type: shallow-water, truncation: " << truncation << ", dt_minutes: 30}\n"
                             << "  members: " << members << "\n  steps: " << steps << "\n  seed: 3\n"
                             << (perturb ? "  perturbation: {type: gaussian, correlation_km: 800, amplitude: "
                                           "{z500: 100, u500: 1, v500: 1, t500: 0.5}}\n"
                                         : "")
                             << "  statistics: {percentiles: [10, 50, 90], thresholds: {ws500: [20]}}\n"
                             << "  output: " << output << "\n";
}
std::vector<std::string> stats_hashes(const std::string& run_dir, int steps) {
  std::vector<std::string> h;
  for (int k = 1; k <= steps; ++k) {
    char name[32];
    std::snprintf(name, sizeof name, "lead_%03d.nc", k);
    h.push_back(gale::sha256_file((kDir / run_dir / "stats" / name).string()));
  }
  return h;
}
struct Setup {
  Setup() {
    fs::remove_all(kDir);
    fs::create_directories(kDir);
    std::ofstream(kDir / "nr.yaml") << "naturerun:\n  model: {truncation: 21, dt_minutes: 30, seed: 7}\n"
                                       "  start: 2001-01-01T00\n  spinup_days: 10\n  length_days: 1\n  file_span: run\n";
    REQUIRE(run(std::string(GALE_BINARY) + " naturerun -q -c nr.yaml -o nr") == 0);
  }
  ~Setup() { fs::remove_all(kDir); }
};
}  // namespace

TEST_CASE("ensemble products are bitwise identical on 1, 2 and 3 ranks") {
  Setup setup;
  for (int ranks : {1, 2, 3}) {
    write_config("fc" + std::to_string(ranks) + ".yaml", "run" + std::to_string(ranks), 5, 4, 21);
    std::string out;
    INFO(out);
    REQUIRE(run(mpirun(ranks) + " forecast -q -c fc" + std::to_string(ranks) + ".yaml", &out) == 0);
  }
  const auto one = stats_hashes("run1", 4);
  CHECK(stats_hashes("run2", 4) == one);
  CHECK(stats_hashes("run3", 4) == one);
  // Statistics read back with NetCDF-C: the mean of z500 is a plausible field, the members
  // differ (perturbations of 100 m2 s-2 and stochastic forcing), percentiles are ordered.
  auto read = [&](int lead, const char* name) {
    char path[64];
    std::snprintf(path, sizeof path, "run1/stats/lead_%03d.nc", lead);
    int nc = 0, var = 0;
    REQUIRE(nc_open((kDir / path).string().c_str(), NC_NOWRITE, &nc) == NC_NOERR);
    REQUIRE(nc_inq_varid(nc, name, &var) == NC_NOERR);
    std::vector<float> v(64 * 32);
    REQUIRE(nc_get_var_float(nc, var, v.data()) == NC_NOERR);
    nc_close(nc);
    return v;
  };
  const auto mean = read(4, "z500_mean");
  for (float x : mean) REQUIRE((x > 4.5e4f && x < 6.2e4f));
  auto average = [](const std::vector<float>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); };
  CHECK(average(read(4, "z500_std")) > 20);
  const auto p10 = read(4, "z500_p10"), p90 = read(4, "z500_p90");
  for (std::size_t i = 0; i < p10.size(); ++i) REQUIRE(p10[i] <= p90[i]);
}

TEST_CASE("a run whose rank is killed resumes to identical products") {
  Setup setup;
  // Long enough (8 members x 16 steps) that the kill lands mid-run.
  write_config("killed.yaml", "killed", 8, 16, 21);
  write_config("full.yaml", "full", 8, 16, 21);
  REQUIRE(run(mpirun(2) + " forecast -q -c full.yaml") == 0);
  // Start the same run, kill one rank with SIGKILL once lead 2 is written.
  const pid_t child = fork();
  if (child == 0) {
    ::execl("/bin/sh", "sh", "-c",
            ("cd " + kDir.string() + " && exec " + mpirun(2) + " forecast -q -c killed.yaml > killed.log 2>&1").c_str(),
            (char*)nullptr);
    _exit(127);
  }
  const auto lead2 = kDir / "killed" / "stats" / "lead_002.nc";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(lead2) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(fs::exists(lead2));
  std::string pids;
  run("pgrep -f '^" + std::string(GALE_BINARY) + " forecast -q -c killed.yaml' | head -1", &pids);
  REQUIRE(!pids.empty());
  ::kill(pid_t(std::stol(pids)), SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  const bool finished = fs::exists(kDir / "killed" / "stats" / "lead_016.nc");
  WARN("killed after lead 2; the run had " << (finished ? "already finished" : "not finished"));
  // No partial file under a final name: every statistics file present is complete.
  std::string out;
  REQUIRE(run(mpirun(2) + " forecast -q --resume -c killed.yaml", &out) == 0);
  INFO(out);
  CHECK_FALSE(finished);
  CHECK(stats_hashes("killed", 16) == stats_hashes("full", 16));
}

TEST_CASE("a NaN in one member stops the run naming member, step and variable") {
  Setup setup;
  // Three members from the nature run, member 2 with a NaN hole.
  std::vector<std::unique_ptr<gale::Reader>> readers;
  readers.push_back(gale::open_reader((kDir / "nr" / "naturerun-run.nc").string()));
  gale::Request request;
  for (const char* k : {"z500", "u500", "v500", "t500"}) request.variables.push_back(gale::parse_variable_key(k));
  request.times = {gale::parse_iso8601("2001-01-01T06")};
  const auto one = gale::Selection(std::move(readers), request).load();
  gale::State three(3, one.valid_times(), one.variables(), one.grid(), one.reference_time());
  for (std::size_t m = 0; m < 3; ++m)
    for (std::size_t v = 0; v < 4; ++v) std::copy_n(one.field(0, 0, v), one.points(), three.field(m, 0, v));
  three.field(2, 0, 2)[100] = NAN;
  gale::write_state_netcdf(three, (kDir / "members.nc").string());
  write_config("nan.yaml", "nan", 3, 2, 21, "members.nc", false);
  std::string out;
  CHECK(run(mpirun(2) + " forecast -q -c nan.yaml", &out) == 4);
  CHECK_THAT(out, Catch::Contains("member 2, step 1, variable"));
  CHECK_FALSE(fs::exists(kDir / "nan" / "stats" / "lead_001.nc"));

  // Configured to drop: the run goes on with the two good members and reports the third.
  std::ofstream(kDir / "drop.yaml") << "forecast:\n  input: {sources: [{path: members.nc}], time: 2001-01-01T06}\n"
                                       "  model: {type: shallow-water, truncation: 21, dt_minutes: 30}\n"
                                       "  members: 3\n  steps: 2\n  on_bad_member: drop\n  output: drop\n";
  out.clear();
  CHECK(run(mpirun(2) + " forecast -c drop.yaml", &out) == 0);
  CHECK_THAT(out, Catch::Contains("dropping member 2, step 1") && Catch::Contains("statistics from 2 of 3 members"));
  CHECK(fs::exists(kDir / "drop" / "stats" / "lead_002.nc"));
  CHECK(fs::exists(kDir / "drop" / "checkpoints" / "member_002" / "dropped"));
}
