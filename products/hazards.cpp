#include "products/hazards.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "core/errors.hpp"
#include "core/state.hpp"

namespace gale {

namespace {

constexpr double kEarthRadiusKm = 6371.0088;  // IUGG mean radius
constexpr double kDeg = std::numbers::pi / 180;

// Antiderivative of (p - c) / sqrt(p (1 - p)): -sqrt(p(1-p)) + (1/2 - c) arcsin(2p - 1).
double efi_antiderivative(double p, double c) {
  return -std::sqrt(std::max(0.0, p * (1 - p))) + (0.5 - c) * std::asin(std::clamp(2 * p - 1, -1.0, 1.0));
}

// Q_c(p): linear between the knots, constant outside them.
double climate_quantile(const std::vector<double>& prob, const double* q, double p) {
  const std::size_t n = prob.size();
  if (p <= prob.front()) return q[0];
  if (p >= prob.back()) return q[n - 1];
  const auto k = std::size_t(std::upper_bound(prob.begin(), prob.end(), p) - prob.begin()) - 1;
  const double w = (p - prob[k]) / (prob[k + 1] - prob[k]);
  return q[k] + w * (q[k + 1] - q[k]);
}

// Where F_f can jump: the knots, 0 and 1, and each p at which Q_c crosses a member inside a
// rising interval (on a flat interval Q_c(p) = x throughout, so F_f jumps only at its end).
std::vector<double> efi_breakpoints(const std::vector<double>& prob, const double* q, const double* x,
                                    std::size_t m) {
  std::vector<double> cuts{0.0, 1.0};
  cuts.insert(cuts.end(), prob.begin(), prob.end());
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t k = 0; k + 1 < prob.size(); ++k)
      if (q[k] < x[i] && x[i] < q[k + 1])
        cuts.push_back(prob[k] + (x[i] - q[k]) / (q[k + 1] - q[k]) * (prob[k + 1] - prob[k]));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

void check_probabilities(const std::vector<double>& prob) {
  if (prob.empty()) throw ConfigError("EFI: the model climate has no quantiles");
  for (std::size_t k = 0; k < prob.size(); ++k) {
    if (!(prob[k] >= 0 && prob[k] <= 1))
      throw ConfigError(fmt::format("EFI: climate probability {} is outside 0..1", prob[k]));
    if (k > 0 && !(prob[k] > prob[k - 1]))
      throw ConfigError(fmt::format("EFI: climate probabilities must ascend strictly ({} after {})", prob[k],
                                    prob[k - 1]));
  }
}

// Unit vector of a (lat, lon) in degrees.
std::array<double, 3> unit(double lat, double lon) {
  const double f = lat * kDeg, l = lon * kDeg;
  return {std::cos(f) * std::cos(l), std::cos(f) * std::sin(l), std::sin(f)};
}
double dot(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
std::array<double, 3> cross(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
// Angle between unit vectors, accurate for small and large angles (atan2 of |cross|, dot).
double angle(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  const auto c = cross(a, b);
  return std::atan2(std::sqrt(dot(c, c)), dot(a, b));
}

// Great-circle interpolation between two track points at fraction w (slerp).
std::pair<double, double> interpolate(const TrackPoint& a, const TrackPoint& b, double w) {
  const auto ua = unit(a.lat, a.lon), ub = unit(b.lat, b.lon);
  const double omega = angle(ua, ub);
  std::array<double, 3> u{};
  if (omega < 1e-12) {
    u = ua;
  } else {
    const double sa = std::sin((1 - w) * omega) / std::sin(omega), sb = std::sin(w * omega) / std::sin(omega);
    for (int i = 0; i < 3; ++i) u[std::size_t(i)] = sa * ua[std::size_t(i)] + sb * ub[std::size_t(i)];
  }
  const double lat = std::atan2(u[2], std::hypot(u[0], u[1])) / kDeg;
  double lon = std::atan2(u[1], u[0]) / kDeg;
  if (lon < 0) lon += 360;
  return {lat, lon};
}

struct Segment {
  double lat_a, lon_a, lat_b, lon_b;
};

// The track's segments inside the window, cut at its bounds (a single point is a segment
// of length 0).
std::vector<Segment> window_segments(const Track& track, const StrikeOptions& options) {
  std::vector<Segment> out;
  const auto& pts = track.points;
  auto inside = [&](TimePoint t) {
    return (!options.begin || t >= *options.begin) && (!options.end || t <= *options.end);
  };
  if (pts.size() == 1 && inside(pts[0].time)) out.push_back({pts[0].lat, pts[0].lon, pts[0].lat, pts[0].lon});
  for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
    const double t0 = double(pts[i].time.time_since_epoch().count());
    const double t1 = double(pts[i + 1].time.time_since_epoch().count());
    double w0 = 0, w1 = 1;
    if (options.begin && t1 > t0) w0 = std::max(w0, (double(options.begin->time_since_epoch().count()) - t0) / (t1 - t0));
    if (options.end && t1 > t0) w1 = std::min(w1, (double(options.end->time_since_epoch().count()) - t0) / (t1 - t0));
    if (w0 > w1) continue;
    const auto [la, lo] = interpolate(pts[i], pts[i + 1], w0);
    const auto [lb, lob] = interpolate(pts[i], pts[i + 1], w1);
    out.push_back({la, lo, lb, lob});
  }
  return out;
}

// Marks the points within radius of one segment. Only rows whose latitude can be within
// reach are visited: every point of the arc is within half its length of the midpoint.
void mark_segment(const Segment& s, const Grid& grid, double radius_km, std::vector<char>& hit) {
  const double half_km = great_circle_km(s.lat_a, s.lon_a, s.lat_b, s.lon_b) / 2;
  const double mid_lat =
      interpolate(TrackPoint{{}, s.lat_a, s.lon_a, 0, 0}, TrackPoint{{}, s.lat_b, s.lon_b, 0, 0}, 0.5).first;
  const double reach_deg = (half_km + radius_km) / kEarthRadiusKm / kDeg + 1e-9;
  const auto& lat = grid.lat();
  const auto& lon = grid.lon();
  auto visit = [&](std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p)
      if (!hit[p] && distance_to_arc_km(lat[p], lon[p], s.lat_a, s.lon_a, s.lat_b, s.lon_b) <= radius_km) hit[p] = 1;
  };
  if (grid.rows() == 0) return visit(0, grid.size());
  const auto& offsets = grid.row_offsets();
  for (std::size_t r = 0; r < grid.rows(); ++r)
    if (std::abs(grid.row_latitudes()[r] - mid_lat) <= reach_deg) visit(offsets[r], offsets[r + 1]);
}

}  // namespace

double great_circle_km(double lat1, double lon1, double lat2, double lon2) {
  return kEarthRadiusKm * angle(unit(lat1, lon1), unit(lat2, lon2));
}

double distance_to_arc_km(double lat, double lon, double lat_a, double lon_a, double lat_b, double lon_b) {
  const auto p = unit(lat, lon), a = unit(lat_a, lon_a), b = unit(lat_b, lon_b);
  auto n = cross(a, b);
  const double len = std::sqrt(dot(n, n));
  const double to_ends = std::min(angle(p, a), angle(p, b));
  if (len < 1e-12) return kEarthRadiusKm * to_ends;  // A == B (or antipodal: no unique arc)
  for (auto& c : n) c /= len;
  // The foot P' of the perpendicular onto the great circle lies on the arc when it is
  // between A and B: both A x P' and P' x B then point along n. Otherwise an end is nearest.
  const double s = dot(p, n);
  std::array<double, 3> foot{p[0] - s * n[0], p[1] - s * n[1], p[2] - s * n[2]};
  if (dot(cross(a, foot), n) >= 0 && dot(cross(foot, b), n) >= 0)
    return kEarthRadiusKm * std::asin(std::min(1.0, std::abs(s)));
  return kEarthRadiusKm * to_ends;
}

double extreme_forecast_index(const std::vector<double>& prob, const double* q, const double* members,
                              std::size_t m) {
  check_probabilities(prob);
  if (m == 0) throw InternalError("EFI: an ensemble without members");
  for (std::size_t k = 0; k < prob.size(); ++k)
    if (!std::isfinite(q[k])) return NAN;
  std::vector<double> x(members, members + m);
  for (double v : x)
    if (!std::isfinite(v)) return NAN;
  std::sort(x.begin(), x.end());
  const auto cuts = efi_breakpoints(prob, q, x.data(), m);
  double sum = 0;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    // F_f is constant inside (cuts[i], cuts[i+1]): take it at the midpoint.
    const double qc = climate_quantile(prob, q, 0.5 * (cuts[i] + cuts[i + 1]));
    const double f = double(std::lower_bound(x.begin(), x.end(), qc) - x.begin()) / double(m);
    sum += efi_antiderivative(cuts[i + 1], f) - efi_antiderivative(cuts[i], f);
  }
  return 2 / std::numbers::pi * sum;
}

std::vector<float> extreme_forecast_index(const float* members, std::size_t member_count, std::size_t points,
                                          const std::vector<double>& percentiles, const float* climate) {
  std::vector<double> prob(percentiles.size());
  for (std::size_t k = 0; k < prob.size(); ++k) prob[k] = percentiles[k] / 100;
  check_probabilities(prob);
  std::vector<float> out(points);
#pragma omp parallel
  {
    std::vector<double> x(member_count), q(prob.size());
#pragma omp for schedule(static)
    for (std::size_t p = 0; p < points; ++p) {
      for (std::size_t i = 0; i < member_count; ++i) x[i] = members[i * points + p];
      for (std::size_t k = 0; k < q.size(); ++k) q[k] = climate[k * points + p];
      out[p] = float(extreme_forecast_index(prob, q.data(), x.data(), member_count));
    }
  }
  return out;
}

std::vector<float> extreme_forecast_index(const State& forecast, std::size_t time, const std::string& key,
                                          const ModelClimate& climate) {
  climate.expect_grid(*forecast.grid(), "the forecast");
  const float* q = climate.quantiles(key);
  const std::size_t v = forecast.index_of(key);
  if (time >= forecast.times())
    throw InternalError(fmt::format("EFI: time index {} of a forecast with {} times", time, forecast.times()));
  const std::size_t m = forecast.members(), n = forecast.points();
  std::vector<float> members(m * n);
  for (std::size_t i = 0; i < m; ++i) std::copy_n(forecast.field(i, time, v), n, members.begin() + std::ptrdiff_t(i * n));
  return extreme_forecast_index(members.data(), m, n, climate.percentiles, q);
}

std::vector<float> strike_probability(const std::vector<Track>& tracks, const Grid& grid,
                                      const StrikeOptions& options) {
  if (!(options.radius_km > 0))
    throw ConfigError(fmt::format("strike probability: radius {} km must be positive", options.radius_km));
  std::vector<float> out(grid.size(), 0.0f);
  if (tracks.empty()) return out;
  std::vector<double> count(grid.size(), 0.0);
  std::vector<char> hit(grid.size());
  for (const auto& track : tracks) {
    std::fill(hit.begin(), hit.end(), 0);
    for (const auto& s : window_segments(track, options)) mark_segment(s, grid, options.radius_km, hit);
    for (std::size_t p = 0; p < hit.size(); ++p) count[p] += hit[p];
  }
  for (std::size_t p = 0; p < out.size(); ++p) out[p] = float(count[p] / double(tracks.size()));
  return out;
}

}  // namespace gale
