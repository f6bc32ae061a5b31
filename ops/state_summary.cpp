#include "ops/state_summary.hpp"

#include <fmt/format.h>

#include <cmath>

#include "grids/cells.hpp"

namespace gale {

std::string summarise_state(const State& state) {
  const auto& grid = *state.grid();
  const auto weights =
      grid.rows() > 0 ? latitude_weights(grid) : std::vector<double>(grid.size(), 1.0);
  std::string out = fmt::format("state: {} member(s) x {} time(s) x {} variable(s) on {}\n",
                                state.members(), state.times(), state.variable_count(),
                                grid.describe());
  out += fmt::format("reference time {}\n", iso8601(state.reference_time()));
  out += fmt::format("  {:<8} {:<22} {:<9} {:>14} {:>12} {:>12} {:>12} {:>8}\n", "variable",
                     "valid time", "units", "weighted mean", "min", "max", "spread", "missing");
  const std::size_t members = state.members(), points = state.points();
  for (std::size_t v = 0; v < state.variable_count(); ++v) {
    for (std::size_t t = 0; t < state.times(); ++t) {
      double wsum = 0, mean_acc = 0, spread_acc = 0, lo = INFINITY, hi = -INFINITY;
      std::size_t missing = 0;
      for (std::size_t p = 0; p < points; ++p) {
        double s = 0, s2 = 0;
        std::size_t n = 0;
        for (std::size_t m = 0; m < members; ++m) {
          const double x = state.field(m, t, v)[p];
          if (std::isnan(x)) {
            ++missing;
            continue;
          }
          s += x, s2 += x * x, ++n;
          lo = std::min(lo, x), hi = std::max(hi, x);
        }
        if (n == 0) continue;
        const double mean = s / double(n);
        const double var = n > 1 ? std::max(0.0, (s2 - double(n) * mean * mean) / double(n - 1)) : 0;
        mean_acc += weights[p] * mean;
        spread_acc += weights[p] * std::sqrt(var);
        wsum += weights[p];
      }
      const auto& var = state.variables()[v];
      out += fmt::format("  {:<8} {:<22} {:<9} {:>14.6g} {:>12.6g} {:>12.6g} {:>12.4g} {:>8}\n",
                         var.key(), iso8601(state.valid_times()[t]), var.units,
                         wsum > 0 ? mean_acc / wsum : NAN, lo, hi,
                         wsum > 0 ? spread_acc / wsum : NAN, missing);
    }
  }
  return out;
}

}  // namespace gale
