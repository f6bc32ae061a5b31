// Nature-run benchmark (issue 4): one simulated year of the T42 shallow-water model with
// 6-hourly output (fields synthesised on the grid each time), printing simulated days per
// wall second, time per step, and the flow's statistics per 30-day window (the
// stationarity diagnostic).
// Usage: bench_naturerun [days=365] [truncation=42]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "ingest/shallow_water.hpp"

using namespace gale;

int main(int argc, char** argv) {
  const double days = argc > 1 ? std::atof(argv[1]) : 365;
  ShallowWaterConfig config;
  if (argc > 2) {
    config = shallow_water_config(std::atoi(argv[2]));
  }
  ShallowWaterModel model(config);
  model.initialise_jet();
  const long steps_per_output = std::lround(6 * 3600 / config.dt_seconds);
  const long outputs = std::lround(days * 4);
  fmt::print("T{} on {}x{} Gaussian, dt {} s, {} days with 6-hourly output\n", config.truncation, config.nlon,
             config.nlat, config.dt_seconds, days);
  fmt::print("{:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "day", "KE m2/s2", "z min", "z max", "|u| max",
             "t min", "t max");
  double window_ke = 0, zmin = 1e30, zmax = -1e30, umax = 0, tmin = 1e30, tmax = -1e30;
  int window_n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double output_seconds = 0;
  for (long k = 1; k <= outputs; ++k) {
    for (long s = 0; s < steps_per_output; ++s) model.step();
    const auto o0 = std::chrono::steady_clock::now();
    const auto f = model.fields();
    output_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - o0).count();
    window_ke += model.kinetic_energy_per_area();
    ++window_n;
    for (std::size_t p = 0; p < f.u.size(); ++p) {
      zmin = std::min(zmin, f.geopotential[p]), zmax = std::max(zmax, f.geopotential[p]);
      umax = std::max(umax, std::hypot(f.u[p], f.v[p]));
      tmin = std::min(tmin, f.tracer[p]), tmax = std::max(tmax, f.tracer[p]);
    }
    if (k % 120 == 0 || k == outputs) {
      fmt::print("{:>6.0f} {:>10.1f} {:>10.0f} {:>10.0f} {:>10.1f} {:>10.1f} {:>10.1f}\n", k / 4.0,
                 window_ke / window_n, zmin, zmax, umax, tmin, tmax);
      window_ke = 0, window_n = 0, zmin = 1e30, zmax = -1e30, umax = 0, tmin = 1e30, tmax = -1e30;
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("\nwall {:.2f} s for {} steps: {:.1f} simulated days per second, {:.3f} ms per step "
             "({:.2f} s of it in 6-hourly output synthesis); {:.0f}x faster than real time\n",
             wall, model.steps_taken(), days / wall, 1e3 * (wall - output_seconds) / double(model.steps_taken()),
             output_seconds, days * 86400 / wall);
}
