// Verification benchmark (issue 10): scoring a 10-member, 40-lead ensemble on the default
// (nature-run T42, 128 x 64 Gaussian) grid. Writes the inputs for the numpy peer
// (bench/verify_numpy.py) and prints the time and the global scores as JSON lines.
// Usage: bench_verify OUT_DIR [repeats=5]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>

#include "grids/cells.hpp"
#include "grids/gaussian.hpp"
#include "verify/verification.hpp"

using namespace gale;

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_verify OUT_DIR [repeats]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  const int members = 10, leads = 40;
  std::vector<double> lons;
  for (int i = 0; i < 128; ++i) lons.push_back(360.0 * i / 128);
  const auto grid = Grid::regular(GridKind::regular_gaussian, gaussian_latitudes(32).latitudes_deg, lons);
  const TimePoint t0 = parse_iso8601("2000-01-01T00");
  std::vector<TimePoint> valid, truth_times{t0};
  for (int l = 1; l <= leads; ++l) {
    valid.push_back(t0 + std::chrono::hours(6 * l));
    truth_times.push_back(valid.back());
  }
  const auto var = parse_variable_key("t850");
  State forecast(members, valid, {var}, grid, t0), truth(1, truth_times, {var}, grid, t0);
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  for (std::size_t p = 0; p < grid->size(); ++p) {
    const float base = 250 + 30 * float(std::cos(grid->lat()[p] * M_PI / 180));
    truth.field(0, 0, 0)[p] = base;
    for (int l = 0; l < leads; ++l) {
      const float sigma = 0.5f + 0.1f * float(l);
      const float centre = base + sigma * g(rng);
      truth.field(0, std::size_t(l + 1), 0)[p] = centre + sigma * g(rng);
      for (int m = 0; m < members; ++m) forecast.field(std::size_t(m), std::size_t(l), 0)[p] = centre + sigma * g(rng);
    }
  }
  std::ofstream(dir + "/forecast.f32", std::ios::binary)
      .write(reinterpret_cast<const char*>(forecast.data().data()), std::streamsize(forecast.data().size() * 4));
  std::ofstream(dir + "/truth.f32", std::ios::binary)
      .write(reinterpret_cast<const char*>(truth.data().data()), std::streamsize(truth.data().size() * 4));
  const auto w = latitude_weights(*grid);
  std::ofstream(dir + "/weights.f64", std::ios::binary)
      .write(reinterpret_cast<const char*>(w.data()), std::streamsize(w.size() * 8));

  std::vector<double> times;
  std::vector<ScoreRow> rows;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    VerifyOptions options;
    options.regions = {"global"};
    Verification v(options);
    v.add_case(forecast, truth, nullptr);
    rows = v.rows();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  fmt::print("{{\"tool\": \"gale\", \"seconds\": {:.6f}, \"points\": {}, \"members\": {}, \"leads\": {}}}\n",
             times[times.size() / 2], grid->size(), members, leads);
  for (const auto& r : rows)
    if (r.score == "rmse" || r.score == "crps" || r.score == "spread" || r.score == "rmse_persistence" || r.score == "bias")
      fmt::print("{{\"lead\": {:g}, \"score\": \"{}\", \"value\": {:.12g}}}\n", r.lead_hours, r.score, r.value);
}
