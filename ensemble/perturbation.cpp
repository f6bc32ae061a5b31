#include "ensemble/perturbation.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <random>

#include "core/errors.hpp"
#include "core/stepper.hpp"

namespace gale {

namespace {
constexpr double kEarthRadiusKm = 6371.0;
constexpr int kFeatures = 256;

// A stationary Gaussian random field on the unit sphere with correlation
// exp(-d^2 / (2 L^2)) in chord distance d: random Fourier features of the squared-
// exponential kernel in 3-D, restricted to the sphere (any grid, no transform needed).
std::vector<float> correlated_field(const Grid& grid, double length, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0 / length);
  std::uniform_real_distribution<double> phase(0, 2 * M_PI);
  std::vector<std::array<double, 4>> features(kFeatures);
  for (auto& f : features) f = {normal(rng), normal(rng), normal(rng), phase(rng)};
  std::vector<float> out(grid.size());
  const double norm = std::sqrt(2.0 / kFeatures);
  for (std::size_t p = 0; p < grid.size(); ++p) {
    const double lat = grid.lat()[p] * M_PI / 180, lon = grid.lon()[p] * M_PI / 180;
    const double x = std::cos(lat) * std::cos(lon), y = std::cos(lat) * std::sin(lon), z = std::sin(lat);
    double s = 0;
    for (const auto& f : features) s += std::cos(f[0] * x + f[1] * y + f[2] * z + f[3]);
    out[p] = float(norm * s);
  }
  return out;
}
}  // namespace

void perturb(State& state, std::size_t slot, int member, const PerturbationSpec& spec, std::uint64_t run_seed) {
  if (spec.type == "none" || member == 0) return;
  if (spec.type != "gaussian") throw ConfigError(fmt::format("unknown perturbation '{}' (known: none, gaussian)", spec.type));
  const double length = spec.correlation_km / kEarthRadiusKm;
  for (const auto& [key, amplitude] : spec.amplitude) {
    const std::size_t v = state.index_of(key);
    // One field per (member, variable): the key's step slot carries the variable index.
    const StepKey k{run_seed, member, -1 - int(v)};
    const auto field = correlated_field(*state.grid(), length, k.hash());
    for (std::size_t t = 0; t < state.times(); ++t) {
      float* x = state.field(slot, t, v);
      for (std::size_t p = 0; p < state.points(); ++p) x[p] += float(amplitude) * field[p];
    }
  }
}

}  // namespace gale
