#pragma once
// Vortex tracking per ensemble member, tropical-cyclone style: follow the minimum of a
// pressure-like field (msl, or z at 850/1000 hPa) from step to step, searching within a
// maximum displacement of the previous (or linearly extrapolated) position, refining the
// centre by a quadratic fit over the 3x3 neighbourhood, and stopping when the minimum is no
// longer closed (it filled) or leaves the domain. Optionally the relative-vorticity maximum
// near the centre must stay above a threshold. Regular lat-lon and regular Gaussian grids.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"

namespace gale {

class State;

struct TrackPoint {
  TimePoint time{};
  double lat = 0, lon = 0;  // degrees; lon in [0, 360)
  double value = 0;         // the minimum field at the centre (quadratic fit), its units
  double vorticity = 0;     // cyclonic vorticity maximum near the centre (s-1); NaN if unused
};

struct Track {
  int member = 0;  // index into the State's members
  std::vector<TrackPoint> points;
  std::string end_reason;  // why it stopped: "filled: ...", "left the domain", "end of forecast"
};

struct TrackerOptions {
  std::string field = "msl";  // the minimum field: "msl", "z1000", "z850"
  // Optional relative vorticity from these wind components ("u850", "v850"): the cyclonic
  // maximum (sign flipped south of the equator) within vorticity_radius_km of the centre
  // must reach min_vorticity, or the track stops.
  std::string vorticity_u, vorticity_v;
  double vorticity_radius_km = 300;
  double min_vorticity = 5e-5;  // s-1

  // Where to start: a first guess searched within start_radius_km at the first time, or,
  // unset, the deepest closed minimum inside the box.
  std::optional<std::pair<double, double>> start;  // lat, lon (degrees)
  double start_radius_km = 300;
  double box_lat_min = -90, box_lat_max = 90, box_lon_min = 0, box_lon_max = 360;

  // Search radius: max_displacement_km per `displacement_period` (scaled by the actual
  // step), around the linear extrapolation of the last two centres when `extrapolate`.
  double max_displacement_km = 500;
  Duration displacement_period = std::chrono::hours(6);
  bool extrapolate = true;

  // Closed minimum: the field rises by at least min_depth (field units: Pa for msl, m2 s-2
  // for z) on every path leaving the centre within closed_radius_km (TempestExtremes' closed
  // contour test); otherwise the low has filled and the track stops.
  double min_depth = 200;
  double closed_radius_km = 600;
};

// One track per member of `state` (which holds options.field and the wind components when
// vorticity is used, over its valid times). Throws DataError naming the missing variable,
// UnsupportedError for grids other than regular lat-lon / Gaussian, ConfigError for
// invalid options.
std::vector<Track> track_vortices(const State& state, const TrackerOptions& options);

// Relative vorticity (s-1) on a regular grid from u and v (m s-1), centred differences in
// spherical coordinates: zeta = (dv/dlambda - d(u cos phi)/dphi) / (a cos phi). One-sided
// at the domain edges (and at non-global longitude edges); 0 at the poles.
std::vector<float> relative_vorticity(const Grid& grid, const float* u, const float* v);

}  // namespace gale
