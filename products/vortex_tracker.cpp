#include "products/vortex_tracker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <numbers>
#include <optional>
#include <variant>

#include "core/errors.hpp"
#include "core/state.hpp"
#include "products/hazards.hpp"

namespace gale {

namespace {

constexpr double kEarthRadiusM = 6371008.8;
constexpr double kDeg = std::numbers::pi / 180;
constexpr double kKmPerDeg = 6371.0088 * kDeg;

// Index arithmetic on a regular grid (rows north -> south, longitudes ascending).
struct Mesh {
  const Grid& grid;
  std::size_t ny, nx;
  bool wrap;  // global in longitude: column 0 neighbours column nx-1
  double dlon;

  explicit Mesh(const Grid& g)
      : grid(g), ny(g.rows()), nx(g.longitudes().size()), wrap(g.global_in_longitude()),
        dlon(nx > 1 ? g.longitudes()[1] - g.longitudes()[0] : 0) {}
  std::size_t at(std::size_t j, std::size_t i) const { return j * nx + i; }
  // Column i + di, or nullopt off a non-global domain.
  std::optional<std::size_t> column(std::size_t i, int di) const {
    const long c = long(i) + di;
    if (c >= 0 && c < long(nx)) return std::size_t(c);
    if (!wrap) return std::nullopt;
    return std::size_t((c + long(nx)) % long(nx));
  }
  // On the boundary: a centre there cannot be shown to be a closed minimum.
  bool on_edge(std::size_t p) const {
    const std::size_t j = p / nx, i = p % nx;
    return j == 0 || j + 1 == ny || (!wrap && (i == 0 || i + 1 == nx));
  }
};

void check_grid(const Grid& grid) {
  if (grid.kind() != GridKind::regular_ll && grid.kind() != GridKind::regular_gaussian)
    throw UnsupportedError(fmt::format("vortex tracking needs a regular lat-lon or Gaussian grid, not {}",
                                       grid.describe()));
  if (grid.rows() < 3 || grid.longitudes().size() < 3)
    throw UnsupportedError(fmt::format("vortex tracking needs at least 3x3 points, not {}", grid.describe()));
}

void check_options(const TrackerOptions& o) {
  auto positive = [](double v, const char* name) {
    if (!(v > 0)) throw ConfigError(fmt::format("vortex tracking: {} must be positive (got {})", name, v));
  };
  positive(o.max_displacement_km, "max_displacement_km");
  positive(o.closed_radius_km, "closed_radius_km");
  positive(o.start_radius_km, "start_radius_km");
  positive(double(o.displacement_period.count()), "displacement_period");
  if (o.min_depth < 0) throw ConfigError(fmt::format("vortex tracking: min_depth {} is negative", o.min_depth));
  if (o.vorticity_u.empty() != o.vorticity_v.empty())
    throw ConfigError("vortex tracking: give both vorticity_u and vorticity_v, or neither");
}

// Grid points within radius_km of (lat, lon), visiting only rows that can be in reach.
template <class F>
void for_points_within(const Mesh& m, double lat, double lon, double radius_km, F&& f) {
  const double reach = radius_km / kKmPerDeg + 1e-9;
  const auto& rows = m.grid.row_latitudes();
  const auto& lons = m.grid.longitudes();
  for (std::size_t j = 0; j < m.ny; ++j) {
    if (std::abs(rows[j] - lat) > reach) continue;
    for (std::size_t i = 0; i < m.nx; ++i)
      if (great_circle_km(rows[j], lons[i], lat, lon) <= radius_km) f(m.at(j, i));
  }
}

std::optional<std::size_t> minimum_within(const Mesh& m, const float* field, double lat, double lon, double radius_km) {
  std::optional<std::size_t> best;
  for_points_within(m, lat, lon, radius_km, [&](std::size_t p) {
    if (std::isfinite(field[p]) && (!best || field[p] < field[*best])) best = p;
  });
  return best;
}

std::optional<std::array<double, 9>> neighbourhood(const Mesh& m, const float* field, std::size_t p);
bool is_local_minimum(const std::array<double, 9>& f);

// The deepest local minimum of the box (lon range may wrap through 0).
std::optional<std::size_t> minimum_in_box(const Mesh& m, const float* field, const TrackerOptions& o) {
  std::optional<std::size_t> best;
  const auto& g = m.grid;
  for (std::size_t p = 0; p < g.size(); ++p) {
    const double lat = g.lat()[p], lon = g.lon()[p];
    const bool in_lon = o.box_lon_min <= o.box_lon_max ? (lon >= o.box_lon_min && lon <= o.box_lon_max)
                                                       : (lon >= o.box_lon_min || lon <= o.box_lon_max);
    if (lat < o.box_lat_min || lat > o.box_lat_max || !in_lon || !std::isfinite(field[p])) continue;
    if (best && field[p] >= field[*best]) continue;
    // Local minima only: the lowest point of a box is often on its side, in a gradient.
    if (const auto f = neighbourhood(m, field, p); f && is_local_minimum(*f)) best = p;
  }
  return best;
}

// The 3x3 neighbourhood, dx and dy in -1..1 (dy > 0 southwards); nullopt where off the grid.
std::optional<std::array<double, 9>> neighbourhood(const Mesh& m, const float* field, std::size_t p) {
  const std::size_t j = p / m.nx, i = p % m.nx;
  if (j == 0 || j + 1 == m.ny) return std::nullopt;
  std::array<double, 9> f{};
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) {
      const auto c = m.column(i, dx);
      if (!c) return std::nullopt;
      f[std::size_t((dy + 1) * 3 + dx + 1)] = field[m.at(std::size_t(long(j) + dy), *c)];
    }
  return f;
}

bool is_local_minimum(const std::array<double, 9>& f) {
  return std::all_of(f.begin(), f.end(), [&](double v) { return std::isfinite(v) && v >= f[4]; });
}

// TempestExtremes' closed contour test: flood the region below centre + depth from the
// centre; the minimum is closed when that region stays within radius and off the edges.
bool closed_minimum(const Mesh& m, const float* field, std::size_t centre, double depth, double radius_km) {
  const double limit = double(field[centre]) + depth;
  const auto& g = m.grid;
  std::vector<char> seen(g.size(), 0);
  std::deque<std::size_t> queue{centre};
  seen[centre] = 1;
  while (!queue.empty()) {
    const std::size_t p = queue.front();
    queue.pop_front();
    if (m.on_edge(p) || great_circle_km(g.lat()[p], g.lon()[p], g.lat()[centre], g.lon()[centre]) > radius_km)
      return false;
    const std::size_t j = p / m.nx, i = p % m.nx;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const auto c = m.column(i, dx);
        const std::size_t q = m.at(std::size_t(long(j) + dy), *c);  // not on an edge: neighbours exist
        if (!seen[q] && std::isfinite(field[q]) && field[q] < limit) {
          seen[q] = 1;
          queue.push_back(q);
        }
      }
  }
  return true;
}

struct Centre {
  double lat, lon, value;
};

// Quadratic f = a + b x + c y + d (x^2 - 2/3) + e (y^2 - 2/3) + h x y fitted by least squares
// over the 3x3 points (x, y in -1..1; the terms are orthogonal there, so each coefficient is
// one projection), then its stationary point. Falls back to the grid point when the fit has
// no minimum inside the neighbourhood (a flat or saddle-shaped field).
Centre refine(const Mesh& m, std::size_t p, const std::array<double, 9>& f) {
  double a = 0, b = 0, c = 0, d = 0, e = 0, h = 0;
  for (int y = -1; y <= 1; ++y)
    for (int x = -1; x <= 1; ++x) {
      const double v = f[std::size_t((y + 1) * 3 + x + 1)];
      a += v / 9;
      b += v * x / 6;
      c += v * y / 6;
      d += v * (x * x - 2.0 / 3) / 2;
      e += v * (y * y - 2.0 / 3) / 2;
      h += v * x * y / 4;
    }
  // Gradient zero: [2d h; h 2e] [x; y] = -[b; c].
  const double det = 4 * d * e - h * h;
  double x = 0, y = 0;
  if (d > 0 && det > 0) {
    x = (-b * 2 * e + c * h) / det;
    y = (-c * 2 * d + b * h) / det;
    if (std::abs(x) > 1 || std::abs(y) > 1) x = y = 0;
  }
  const double value = a + b * x + c * y + d * (x * x - 2.0 / 3) + e * (y * y - 2.0 / 3) + h * x * y;
  const std::size_t j = p / m.nx, i = p % m.nx;
  const auto& rows = m.grid.row_latitudes();
  const double lat = rows[j] + std::abs(y) * (rows[y > 0 ? j + 1 : j - 1] - rows[j]);
  double lon = m.grid.longitudes()[i] + x * m.dlon;
  lon = std::fmod(lon + 360, 360);
  return {lat, lon, value};
}

double cyclonic_vorticity_max(const Mesh& m, const std::vector<float>& zeta, const Centre& c, double radius_km) {
  const double sign = c.lat >= 0 ? 1 : -1;  // cyclones turn clockwise in the south
  double best = -std::numeric_limits<double>::infinity();
  for_points_within(m, c.lat, c.lon, radius_km, [&](std::size_t p) {
    if (std::isfinite(zeta[p])) best = std::max(best, sign * zeta[p]);
  });
  return best;
}

// Where to look at the next time: the last centre, or the linear extrapolation of the
// last two (scaled by the ratio of the steps; longitudes unwrapped through the date line).
std::pair<double, double> first_guess(const Track& track, TimePoint next, bool extrapolate) {
  const auto& pts = track.points;
  const auto& last = pts.back();
  if (!extrapolate || pts.size() < 2) return {last.lat, last.lon};
  const auto& prev = pts[pts.size() - 2];
  const double ratio = double((next - last.time).count()) / double((last.time - prev.time).count());
  double dlon = last.lon - prev.lon;
  dlon -= 360 * std::round(dlon / 360);
  const double lat = std::clamp(last.lat + ratio * (last.lat - prev.lat), -90.0, 90.0);
  return {lat, std::fmod(last.lon + ratio * dlon + 720, 360)};
}

struct Fields {
  const float* minimum;
  std::vector<float> vorticity;  // empty when unused
};

// A candidate becomes a track point, or the reason the track stops.
std::variant<TrackPoint, std::string> accept(const Mesh& m, const Fields& fields, std::optional<std::size_t> p,
                                             TimePoint time, const TrackerOptions& o) {
  if (!p) return std::string("left the domain (no grid point within the search radius)");
  if (m.on_edge(*p)) return std::string("left the domain (minimum on the domain edge)");
  const auto f = neighbourhood(m, fields.minimum, *p);
  if (!f || !is_local_minimum(*f))
    return fmt::format("filled: no local minimum of {} within the search radius", o.field);
  if (!closed_minimum(m, fields.minimum, *p, o.min_depth, o.closed_radius_km))
    return fmt::format("filled: the minimum of {} is not closed by {:g} within {:g} km", o.field, o.min_depth,
                       o.closed_radius_km);
  const Centre c = refine(m, *p, *f);
  TrackPoint tp{time, c.lat, c.lon, c.value, NAN};
  if (!fields.vorticity.empty()) {
    tp.vorticity = cyclonic_vorticity_max(m, fields.vorticity, c, o.vorticity_radius_km);
    if (!(tp.vorticity >= o.min_vorticity))
      return fmt::format("filled: cyclonic vorticity maximum {:.3g} s-1 below {:.3g} s-1", tp.vorticity,
                         o.min_vorticity);
  }
  return tp;
}

Fields fields_at(const State& s, std::size_t member, std::size_t t, const TrackerOptions& o, std::size_t v_min) {
  Fields f{s.field(member, t, v_min), {}};
  if (!o.vorticity_u.empty())
    f.vorticity = relative_vorticity(*s.grid(), s.field(member, t, s.index_of(o.vorticity_u)),
                                     s.field(member, t, s.index_of(o.vorticity_v)));
  return f;
}

Track track_member(const State& s, std::size_t member, const TrackerOptions& o, std::size_t v_min) {
  const Mesh m(*s.grid());
  Track track;
  track.member = int(member);
  const auto& times = s.valid_times();
  for (std::size_t t = 0; t < times.size(); ++t) {
    const Fields fields = fields_at(s, member, t, o, v_min);
    std::optional<std::size_t> p;
    if (t == 0) {
      p = o.start ? minimum_within(m, fields.minimum, o.start->first, o.start->second, o.start_radius_km)
                  : minimum_in_box(m, fields.minimum, o);
    } else {
      const auto [lat, lon] = first_guess(track, times[t], o.extrapolate);
      const double radius = o.max_displacement_km * double((times[t] - times[t - 1]).count()) /
                            double(o.displacement_period.count());
      p = minimum_within(m, fields.minimum, lat, lon, radius);
    }
    auto result = accept(m, fields, p, times[t], o);
    if (auto* reason = std::get_if<std::string>(&result)) {
      track.end_reason = (t == 0 ? "no cyclone at the start: " : "") + *reason;
      return track;
    }
    track.points.push_back(std::get<TrackPoint>(result));
  }
  track.end_reason = "end of forecast";
  return track;
}

}  // namespace

std::vector<float> relative_vorticity(const Grid& grid, const float* u, const float* v) {
  check_grid(grid);
  const Mesh m(grid);
  const auto& rows = grid.row_latitudes();
  std::vector<float> zeta(grid.size());
  for (std::size_t j = 0; j < m.ny; ++j) {
    const double cosphi = std::cos(rows[j] * kDeg);
    // Rows north -> south: j-1 is north. One-sided at the first and last rows.
    const std::size_t jn = j == 0 ? 0 : j - 1, js = j + 1 == m.ny ? j : j + 1;
    const double dphi = (rows[jn] - rows[js]) * kDeg;
    for (std::size_t i = 0; i < m.nx; ++i) {
      const std::size_t p = m.at(j, i);
      if (cosphi < 1e-6) {
        zeta[p] = 0;
        continue;
      }
      const auto ie = m.column(i, 1).value_or(i), iw = m.column(i, -1).value_or(i);
      const double dlam = double((long(ie) - long(iw) + long(m.nx)) % long(m.nx)) * m.dlon * kDeg;
      const double dv = double(v[m.at(j, ie)]) - double(v[m.at(j, iw)]);
      const double ducos = double(u[m.at(jn, i)]) * std::cos(rows[jn] * kDeg) -
                           double(u[m.at(js, i)]) * std::cos(rows[js] * kDeg);
      zeta[p] = float((dv / dlam - ducos / dphi) / (kEarthRadiusM * cosphi));
    }
  }
  return zeta;
}

std::vector<Track> track_vortices(const State& state, const TrackerOptions& options) {
  check_options(options);
  check_grid(*state.grid());
  std::vector<std::string> keys{options.field};
  if (!options.vorticity_u.empty()) keys.insert(keys.end(), {options.vorticity_u, options.vorticity_v});
  state.expect("vortex tracking", keys);
  const std::size_t v_min = state.index_of(options.field);
  std::vector<Track> tracks(state.members());
#pragma omp parallel for schedule(dynamic)
  for (std::size_t member = 0; member < state.members(); ++member)
    tracks[member] = track_member(state, member, options, v_min);
  return tracks;
}

}  // namespace gale
