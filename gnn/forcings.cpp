#include "gnn/forcings.hpp"

#include <chrono>
#include <cmath>

namespace gale {

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180;

// Days since 2000-01-01T12Z (J2000), and the fraction of the UTC day.
double days_since_j2000(TimePoint t) {
  return double(t.time_since_epoch().count()) / 86400.0 - 10957.5;
}
double utc_hours(TimePoint t) {
  const auto s = t.time_since_epoch().count() % 86400;
  return double(s < 0 ? s + 86400 : s) / 3600.0;
}
// Fraction of the tropical year since the vernal equinox of 2000 is not needed: the
// "year progress" feature is the phase of the calendar year, which is what the data know.
double year_progress(TimePoint t) {
  constexpr double year_days = 365.2425;
  const double d = double(t.time_since_epoch().count()) / 86400.0;
  return std::fmod(d, year_days) / year_days;
}
}  // namespace

double toa_insolation(double lat_deg, double lon_deg, TimePoint t) {
  // Fractional year (radians) as in NOAA's General Solar Position Calculations.
  const double d = days_since_j2000(t);
  const double g = 2 * kPi / 365.2422 * std::fmod(d + 365.2422 * 100, 365.2422);
  const double decl = 0.006918 - 0.399912 * std::cos(g) + 0.070257 * std::sin(g) - 0.006758 * std::cos(2 * g) +
                      0.000907 * std::sin(2 * g) - 0.002697 * std::cos(3 * g) + 0.00148 * std::sin(3 * g);
  const double eqtime_min = 229.18 * (0.000075 + 0.001868 * std::cos(g) - 0.032077 * std::sin(g) -
                                      0.014615 * std::cos(2 * g) - 0.040849 * std::sin(2 * g));
  const double distance_factor = 1.000110 + 0.034221 * std::cos(g) + 0.001280 * std::sin(g) +
                                 0.000719 * std::cos(2 * g) + 0.000077 * std::sin(2 * g);
  const double solar_minutes = utc_hours(t) * 60 + eqtime_min + 4 * lon_deg;
  const double hour_angle = (solar_minutes / 4 - 180) * kDeg;
  const double lat = lat_deg * kDeg;
  const double cos_zenith = std::sin(lat) * std::sin(decl) + std::cos(lat) * std::cos(decl) * std::cos(hour_angle);
  return cos_zenith > 0 ? kSolarConstant * distance_factor * cos_zenith : 0.0;
}

std::vector<float> static_features(const Grid& grid) {
  std::vector<float> out;
  out.reserve(grid.size() * kStaticFeatures);
  for (std::size_t p = 0; p < grid.size(); ++p) {
    const double lat = grid.lat()[p] * kDeg, lon = grid.lon()[p] * kDeg;
    out.insert(out.end(), {float(std::cos(lat)), float(std::sin(lat)), float(std::cos(lon)), float(std::sin(lon))});
  }
  return out;
}

std::vector<float> time_forcings(const Grid& grid, TimePoint t) {
  const double year = 2 * kPi * year_progress(t);
  const float sin_year = float(std::sin(year)), cos_year = float(std::cos(year));
  std::vector<float> out;
  out.reserve(grid.size() * kTimeForcings);
  for (std::size_t p = 0; p < grid.size(); ++p) {
    const double local_hours = std::fmod(utc_hours(t) + grid.lon()[p] / 15.0, 24.0);
    const double day = 2 * kPi * local_hours / 24;
    out.insert(out.end(), {float(toa_insolation(grid.lat()[p], grid.lon()[p], t) / kSolarConstant),
                           float(std::sin(day)), float(std::cos(day)), sin_year, cos_year});
  }
  return out;
}

}  // namespace gale
