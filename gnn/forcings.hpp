#pragma once
// Inputs that do not come from the state: static per-point features and time forcings
// (GraphCast's "local time of day", "year progress" and top-of-atmosphere insolation,
// computed here rather than read from files so any initial time works).
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"

namespace gale {

constexpr int kStaticFeatures = 4;  // cos lat, sin lat, cos lon, sin lon
constexpr int kTimeForcings = 5;    // TOA insolation / S0, sin/cos local time, sin/cos year progress

// [point][kStaticFeatures]
std::vector<float> static_features(const Grid& grid);
// [point][kTimeForcings] at valid time t.
std::vector<float> time_forcings(const Grid& grid, TimePoint t);

// Instantaneous top-of-atmosphere solar irradiance on a horizontal surface, W m-2, from the
// solar declination and equation of time (NOAA's low-precision formulae, ~0.01 deg) and the
// Earth-Sun distance; zero at night.
double toa_insolation(double lat_deg, double lon_deg, TimePoint t);
constexpr double kSolarConstant = 1361.0;  // W m-2 (Kopp and Lean 2011)

}  // namespace gale
