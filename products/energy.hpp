#pragma once
// Energy products from ensemble fields (shared/CONVENTIONS.md, "Energy products"): wind at
// hub height, turbine capacity factors, capacity-weighted regional means, solar PV capacity
// factor and heating/cooling degree days. Plain formulas on numbers and arrays, in
// Gale's canonical SI units (m s-1, m, K, W m-2, J m-2); no State in the interfaces, so any
// member/time loop can call them.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"

namespace gale {

// ---------------------------------------------------------------------------------------
// Hub-height wind

// Power law u(z) = u(z_ref) (z / z_ref)^alpha; alpha about 1/7 over land, neutral air.
double power_law_wind(double speed_ref, double z_ref, double z, double alpha = 1.0 / 7.0);
// Log law v(h) = v(h0) ln(h / z0) / ln(h0 / z0) for roughness length z0 (< h0, h).
double log_law_wind(double speed_ref, double z_ref, double z, double roughness);
// The shear exponent through two levels: alpha = ln(u2 / u1) / ln(z2 / z1).
double shear_exponent(double speed1, double z1, double speed2, double z2);

enum class HubHeightMethod {
  power_law,         // fixed alpha from the level nearest the hub
  log_law,           // roughness z0 from the level nearest the hub
  fitted_power_law,  // alpha fitted per point through the two levels nearest the hub
};

struct HubHeightOptions {
  HubHeightMethod method = HubHeightMethod::fitted_power_law;
  double alpha = 1.0 / 7.0;  // power_law, and fitted_power_law's fallback
  double roughness = 0.03;   // m; log_law (0.03 m: open farmland, WMO class "open")
  // fitted_power_law: below this speed at either level the ratio u2/u1 is noise, so the
  // fixed alpha is used; a fitted alpha is clamped to [alpha_min, alpha_max] because
  // extrapolating a local jet or a calm layer with its own exponent explodes.
  double min_speed_for_fit = 1.0;
  double alpha_min = 0.0, alpha_max = 0.6;
  void validate() const;  // ConfigError naming the field
};

// Wind speed (m s-1) at one reference height for `points` points.
struct WindLevel {
  double height = 10;  // m above ground
  const float* speed = nullptr;
};

// Wind speed at `hub_height` at every point from the levels available (10 m and 100 m
// winds, say). The level nearest the hub (in ln z: 100 m is nearer 150 m than 10 m is)
// is the reference, so a hub at a level returns that level's wind unchanged.
// fitted_power_law with one level behaves as power_law. NaN in gives NaN out.
// Throws ConfigError for no levels, duplicate or non-positive heights, bad options.
std::vector<float> hub_height_wind(const std::vector<WindLevel>& levels, std::size_t points,
                                   double hub_height, const HubHeightOptions& options = {});

// ---------------------------------------------------------------------------------------
// Turbine power curves

// Power as a fraction of rated power (the capacity factor of one turbine):
//   0 below cut_in and at or above cut_out;
//   parametric: (u^3 - cut_in^3) / (rated^3 - cut_in^3) between cut_in and rated, 1 from
//   rated to cut_out;
//   tabulated (when `table` is given): linear interpolation between the (speed, fraction)
//   points inside [cut_in, cut_out), the end values held beyond the table's first and
//   last speeds.
struct PowerCurve {
  std::string name = "custom";
  double cut_in = 3, rated = 12, cut_out = 25;  // m s-1
  std::vector<std::pair<double, double>> table;  // (speed m s-1, fraction of rated 0..1)

  // ConfigError naming `where`, the curve and the offending field (cut_in >= rated, ...).
  void validate(const std::string& where = "power curve") const;
  double capacity_factor(double speed) const;  // NaN gives NaN
};

// Generic presets for IEC 61400-1 wind classes, by name "iec-I", "iec-II", "iec-III"
// (also "I", "II", "III", any case). IEC 61400-1 defines classes by reference and annual
// mean wind speed (I: 50 / 10 m s-1, II: 42.5 / 8.5, III: 37.5 / 7.5), not by power
// curves; the speeds below are assumptions typical of manufacturer datasheets for
// turbines certified to each class:
//   I   cut-in 3.5, rated 13.0, cut-out 25 m s-1 (high-wind, smaller rotor per kW)
//   II  cut-in 3.0, rated 12.0, cut-out 25 m s-1
//   III cut-in 3.0, rated 10.5, cut-out 22 m s-1 (low-wind, large rotor reaches rated
//       early and is stopped earlier to limit loads)
// Throws ConfigError listing the names for an unknown one.
PowerCurve iec_power_curve(const std::string& name);
std::vector<std::string> iec_power_curve_names();

// Capacity factor at every point (NaN where the speed is NaN).
std::vector<float> wind_capacity_factor(const PowerCurve& curve, const float* hub_speed,
                                        std::size_t points);

// ---------------------------------------------------------------------------------------
// Capacity-weighted regional aggregation

// A named latitude/longitude box. Longitudes in any of -180..360; `lon_west` to `lon_east`
// runs eastwards, so west 350 (or -10) to east 2 crosses 0 E; east - west >= 360 is the
// whole circle. Edges are inclusive.
struct SupplyRegion {
  std::string name;
  double lat_south = -90, lat_north = 90;
  double lon_west = 0, lon_east = 360;
  void validate() const;  // ConfigError naming the region and the field
  bool contains(double lat, double lon) const;
};

struct RegionalMean {
  double value = 0;        // sum(capacity * cf) / sum(capacity); NaN if a weighted cf is NaN
  double capacity = 0;     // total capacity inside the region
  std::size_t points = 0;  // points inside the region with capacity > 0
};

// Weighted mean over the points inside `region` (grid points or sites: lat/lon per point).
// `capacity` per point (installed capacity map or site capacities); nullptr weights every
// point inside the box equally. Throws DataError when the region holds no capacity.
RegionalMean regional_mean(const std::vector<double>& lat, const std::vector<double>& lon,
                           const float* values, const float* capacity, const SupplyRegion& region);

// ---------------------------------------------------------------------------------------
// Solar PV (Bett and Thornton 2016)

// CF = 0.9 (1 - 0.00042 (T2m - 298.15 K)) G / 1000 W m-2, clipped to [0, 1]. NaN gives NaN.
double solar_capacity_factor(double t2m_kelvin, double irradiance_w_m2);
// Mean irradiance (W m-2) from an amount accumulated over `period_seconds` (ERA5 ssrd,
// J m-2). Negative amounts (packing noise at night) give 0.
double mean_irradiance(double accumulated_j_m2, double period_seconds);
// Mean irradiance between consecutive valid times from running accumulations (forecast
// ssrd accumulates from the start of the forecast): out[k] covers (times[k-1], times[k]];
// out[0] covers (start, times[0]] with accumulation 0 at `start`. `fields` holds one
// pointer per time to `points` floats. Throws DataError for times not after start/ascending.
std::vector<std::vector<float>> irradiance_from_accumulations(const std::vector<const float*>& fields,
                                                              const std::vector<TimePoint>& times,
                                                              std::size_t points, TimePoint start);

// ---------------------------------------------------------------------------------------
// Degree days

// HDD = max(0, base - Tmean), CDD = max(0, Tmean - base), Tmean = (Tmax + Tmin) / 2.
// Temperatures in K; base in K (18 C = 291.15 K). Degree days in K day (= C day).
struct DegreeDays {
  double hdd = 0, cdd = 0;
};
DegreeDays degree_days(double tmax, double tmin, double base_kelvin = 291.15);

struct DegreeDayOptions {
  double base_celsius = 18.0;
};

// Daily degree days per UTC calendar day [00:00, 24:00) from an hourly or 6-hourly
// (any step dividing 24 h) series of temperature fields, Tmax and Tmin being the largest
// and smallest sample of the day. Coverage rule: the step is the smallest interval between
// consecutive times; a day is complete only when every sample 00:00, step, ...,
// 24 h - step is present. Every day the series touches is listed; incomplete days are
// flagged and their values are NaN (never a partial-day estimate: a day missing its
// afternoon would bias HDD up). A NaN sample gives NaN at that point for that day.
// 6-hourly samples under-sample the extremes (Tmax - Tmin shrinks); callers comparing
// with station data should know.
struct DailyDegreeDays {
  std::vector<TimePoint> days;            // 00 UTC of each day
  std::vector<bool> complete;             // per day
  std::vector<std::size_t> samples;       // per day: samples found
  std::vector<std::vector<float>> hdd, cdd;  // [day][point]
};
// `fields`: one pointer per time to `points` temperatures (K). `times` strictly ascending.
// Throws DataError for unsorted times or a step that does not divide 24 h.
DailyDegreeDays daily_degree_days(const std::vector<const float*>& fields,
                                  const std::vector<TimePoint>& times, std::size_t points,
                                  const DegreeDayOptions& options = {});

}  // namespace gale
