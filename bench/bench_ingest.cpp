// bench_ingest: times Gale's full ingest of each file: open_reader (framing + header
// scan), Selection over every usable variable of the file (all times, all members), and
// Selection::load() (decode, canonical orientation, unit conversion, range checks, copy
// into one State). Each repetition starts from scratch (a fresh reader); the clock stops
// when load() has returned the State, before the State is destroyed.
//
//   bench_ingest FILE... [--repeat N] [--tsv] [--print-means]
//
// Default output: one human line per file (median and min wall seconds, median seconds in
// open_reader alone, fields/s, MB/s of file).
// --tsv: instead, "RESULT<TAB>file<TAB>fields<TAB>bytes<TAB>median_s<TAB>min_s<TAB>checks=on|off
//   <TAB>median_open_s" lines.
// One untimed ingest per file comes first (warms the page cache; detects range-check
// failures, after which the file is timed with check_ranges=false and a NOTE on stderr).
// --print-means: also one JSON line per file ("MEANS {...}") with the first field of the
//   State (source name, key, level, valid time, member) and its mean, plus the mean and
//   count of every finite value of the State, for cross-checking against other decoders.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "core/log.hpp"
#include "ingest/field.hpp"
#include "ingest/selection.hpp"

namespace {

using namespace gale;
using Clock = std::chrono::steady_clock;

struct Planned {
  Request request;
  std::vector<std::string> source_names;  // per requested variable, as the file names it
  int first_member = 0;                   // ensemble number of the State's member 0
};

// Every usable variable of the file, in file order (first appearance).
Planned every_usable_variable(const Reader& reader) {
  Planned p;
  for (const auto& h : reader.headers()) {
    if (!h.variable) continue;
    const bool seen = std::any_of(p.request.variables.begin(), p.request.variables.end(),
                                  [&](const Variable& v) { return v.same_field(*h.variable); });
    if (seen) continue;
    p.request.variables.push_back(*h.variable);
    p.source_names.push_back(h.source_name);
  }
  return p;
}

struct Run {
  double seconds = 0;
  double open_seconds = 0;  // of which open_reader (framing + header scan)
  std::size_t fields = 0;
};

// One complete ingest of `path`. `keep` receives the State when not null.
Run ingest_once(const std::string& path, bool check_ranges, State* keep, Planned* planned_out) {
  const auto t0 = Clock::now();
  auto reader = open_reader(path);
  const auto t_open = Clock::now();
  Planned planned = every_usable_variable(*reader);
  planned.request.check_ranges = check_ranges;
  if (planned.request.variables.empty())
    throw DataError(fmt::format("{}: no usable field", path));
  std::vector<std::unique_ptr<Reader>> readers;
  readers.push_back(std::move(reader));
  const Selection selection(std::move(readers), planned.request);
  if (!selection.report().ok()) throw DataError(selection.report().text());
  State state = selection.load();
  const auto t1 = Clock::now();
  Run run{std::chrono::duration<double>(t1 - t0).count(),
          std::chrono::duration<double>(t_open - t0).count(), selection.report().selected};
  planned.first_member = selection.members().front();
  if (keep) *keep = std::move(state);
  if (planned_out) *planned_out = std::move(planned);
  return run;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

nlohmann::json means(const std::string& path, const State& state, const Planned& planned) {
  const std::size_t points = state.points();
  auto mean_of = [](const float* x, std::size_t n, std::size_t& count) {
    double s = 0;
    count = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (std::isfinite(x[i])) s += x[i], ++count;
    return count ? s / double(count) : NAN;
  };
  std::size_t first_count = 0, all_count = 0;
  const double first_mean = mean_of(state.field(0, 0, 0), points, first_count);
  const double all_mean = mean_of(state.data().data(), state.data().size(), all_count);
  const Variable& v = state.variables().front();
  // A few points of the first field with their coordinates: catches orientation errors
  // that a mean cannot (a flipped grid has the same mean).
  nlohmann::json probes = nlohmann::json::array();
  const auto& lat = state.grid()->lat();
  const auto& lon = state.grid()->lon();
  for (const std::size_t p : {std::size_t(0), points / 3, points / 2, points - 1})
    probes.push_back({{"lat", lat[p]}, {"lon", lon[p]}, {"value", state.field(0, 0, 0)[p]}});
  return {
      {"file", std::filesystem::path(path).filename().string()},
      {"first_field",
       {{"source_name", planned.source_names.front()},
        {"key", v.key()},
        {"level_kind", to_string(v.level_kind)},
        {"level", v.level},
        {"units", v.units},
        {"valid_time", iso8601(state.valid_times().front())},
        {"member", planned.first_member},
        {"mean", first_mean},
        {"count", first_count},
        {"probes", probes}}},
      {"all", {{"mean", all_mean}, {"count", all_count}}},
      {"shape", {state.members(), state.times(), state.variable_count(), points}},
  };
}

int usage() {
  std::cerr << "usage: bench_ingest FILE... [--repeat N] [--tsv] [--print-means]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  int repeat = 5;
  bool tsv = false, print_means = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
      if (repeat < 1) return usage();
    } else if (a == "--tsv") {
      tsv = true;
    } else if (a == "--print-means") {
      print_means = true;
    } else if (a == "-h" || a == "--help") {
      return usage();
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "bench_ingest: unknown option " << a << "\n";
      return usage();
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) return usage();
  setup_logging(Verbosity::quiet);

  if (!tsv)
    std::cout << fmt::format("{:<28} {:>7} {:>10} {:>10} {:>10} {:>12} {:>9}\n", "file", "fields",
                             "median s", "min s", "open s", "fields/s", "MB/s");
  int status = 0;
  for (const auto& file : files) {
    try {
      const auto bytes = std::filesystem::file_size(file);
      std::vector<double> times, open_times;
      std::size_t fields = 0;
      State state;
      Planned planned;
      // Range checks on, as `gale ingest` does by default. If the file fails them (real
      // data slightly outside the lexicon's physical range), say so once and time the
      // ingest with checks off, so the decode is still measured.
      bool check_ranges = true;
      try {
        ingest_once(file, true, nullptr, nullptr);  // untimed probe (also warms the page cache)
      } catch (const DataError& e) {
        if (std::string(e.what()).find("out of physical range") == std::string::npos) throw;
        check_ranges = false;
        const std::string msg = e.what();
        std::cerr << "bench_ingest: NOTE " << file << ": range check fails ("
                  << msg.substr(0, msg.find('\n')) << "); timing with check_ranges=false\n";
      }
      for (int r = 0; r < repeat; ++r) {
        const bool last = r + 1 == repeat;
        const Run run = ingest_once(file, check_ranges, last && print_means ? &state : nullptr,
                                    last && print_means ? &planned : nullptr);
        times.push_back(run.seconds);
        open_times.push_back(run.open_seconds);
        fields = run.fields;
      }
      const double med = median(times);
      const double best = *std::min_element(times.begin(), times.end());
      const double open_med = median(open_times);
      const std::string name = std::filesystem::path(file).filename().string();
      if (tsv)
        std::cout << fmt::format("RESULT\t{}\t{}\t{}\t{:.6f}\t{:.6f}\t{}\t{:.6f}\n", name, fields,
                                 bytes, med, best, check_ranges ? "checks=on" : "checks=off",
                                 open_med);
      else
        std::cout << fmt::format("{:<28} {:>7} {:>10.5f} {:>10.5f} {:>10.5f} {:>12.0f} {:>9.1f}{}\n",
                                 name, fields, med, best, open_med, double(fields) / med,
                                 double(bytes) / 1e6 / med,
                                 check_ranges ? "" : "  (range checks off)");
      if (print_means) std::cout << "MEANS " << means(file, state, planned).dump() << "\n";
      std::cout << std::flush;
    } catch (const gale::Error& e) {
      std::cerr << "bench_ingest: " << file << ": " << e.what() << "\n";
      status = std::max(status, e.exit_code());
    } catch (const std::exception& e) {
      std::cerr << "bench_ingest: " << file << ": " << e.what() << "\n";
      status = std::max(status, 70);
    }
  }
  return status;
}
