#pragma once
// Disaster products (shared/CONVENTIONS.md, "Disaster products"): the Extreme Forecast Index
// against a model climate, and tropical-cyclone strike probability from member tracks
// (products/vortex_tracker.hpp makes the tracks).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"
#include "products/model_climate.hpp"
#include "products/vortex_tracker.hpp"

namespace gale {

class State;

// EFI = (2/pi) integral_0^1 (p - F_f(p)) / sqrt(p (1 - p)) dp, F_f(p) the fraction of members
// strictly below the climate p-quantile Q_c(p). Q_c is the piecewise-linear interpolation
// of the climate quantiles `climate` at `probabilities` (0..1, strictly ascending; constant
// beyond the first and last: give 0 and 1 so the climate has its minimum and maximum). F_f
// is then a step function of p that changes only at the knots and where Q_c crosses a
// member, so the integral is a sum of closed forms (antiderivatives of 1/sqrt(p(1-p)) and
// p/sqrt(p(1-p)): arcsin(2p-1) and -sqrt(p(1-p)) + arcsin(2p-1)/2), exact up to rounding.
// +1: every member above the climate maximum; -1: every member below the minimum; 0: the
// ensemble distributed like the climate. NaN when a member or a climate quantile is NaN.
double extreme_forecast_index(const std::vector<double>& probabilities, const double* climate,
                              const double* members, std::size_t member_count);

// Per point: `members` is member_count x points (member-major), `climate` is
// percentiles.size() x points (percentile-major, percentiles 0..100). Returns points values.
std::vector<float> extreme_forecast_index(const float* members, std::size_t member_count, std::size_t points,
                                          const std::vector<double>& percentiles, const float* climate);

// EFI of one variable at one valid time of a forecast (all its members). Throws DataError
// when the grids differ or either side lacks the variable (naming the file and variable).
std::vector<float> extreme_forecast_index(const State& forecast, std::size_t time, const std::string& key,
                                          const ModelClimate& climate);

struct StrikeOptions {
  double radius_km = 120;
  // Forecast window; a track segment crossing a bound is cut there (positions interpolated
  // along the great circle). Unset: the whole track.
  std::optional<TimePoint> begin, end;
};

// Fraction of `tracks` (one per member, empty tracks included: a member without a cyclone
// does not strike) passing within radius_km of each grid point: great-circle distance from
// the point to each segment between consecutive track points (a one-point track counts as
// its point). Returns grid.size() values in 0..1.
std::vector<float> strike_probability(const std::vector<Track>& tracks, const Grid& grid,
                                      const StrikeOptions& options = {});

// Great-circle helpers (spherical Earth, radius 6371.0088 km; angles in degrees).
double great_circle_km(double lat1, double lon1, double lat2, double lon2);
// Shortest distance from a point to the great-circle arc from A to B (shorter arc).
double distance_to_arc_km(double lat, double lon, double lat_a, double lon_a, double lat_b, double lon_b);

}  // namespace gale
