#include "products/energy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/errors.hpp"

namespace gale {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kZeroCelsius = 273.15;

void require_positive(double value, const std::string& what) {
  if (!(value > 0) || !std::isfinite(value))
    throw ConfigError(fmt::format("{} must be a positive number of metres, got {}", what, value));
}

// Index of the level nearest the hub in ln z (heights are where the profile is
// logarithmic-ish, so 100 m is nearer 150 m than 10 m is by any sensible measure).
std::size_t nearest_level(const std::vector<WindLevel>& levels, double hub_height) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < levels.size(); ++i) {
    const double d = std::abs(std::log(levels[i].height / hub_height));
    const double b = std::abs(std::log(levels[best].height / hub_height));
    // Ties go to the higher level: it is less disturbed by the surface.
    if (d < b || (d == b && levels[i].height > levels[best].height)) best = i;
  }
  return best;
}

// The level nearest the hub other than `first` (the second point of a fitted profile).
std::size_t second_level(const std::vector<WindLevel>& levels, double hub_height, std::size_t first) {
  std::size_t best = first == 0 ? 1 : 0;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (i == first) continue;
    if (std::abs(std::log(levels[i].height / hub_height)) <
        std::abs(std::log(levels[best].height / hub_height)))
      best = i;
  }
  return best;
}

void check_levels(const std::vector<WindLevel>& levels, double hub_height) {
  if (levels.empty()) throw ConfigError("hub-height wind: no reference wind level given");
  require_positive(hub_height, "hub-height wind: hub height");
  for (std::size_t i = 0; i < levels.size(); ++i) {
    require_positive(levels[i].height, fmt::format("hub-height wind: reference level {} height", i));
    if (!levels[i].speed)
      throw ConfigError(fmt::format("hub-height wind: level {} m has no data", levels[i].height));
    for (std::size_t j = 0; j < i; ++j)
      if (levels[j].height == levels[i].height)
        throw ConfigError(fmt::format("hub-height wind: level {} m given twice", levels[i].height));
  }
}

double table_fraction(const std::vector<std::pair<double, double>>& table, double speed) {
  if (speed <= table.front().first) return table.front().second;
  if (speed >= table.back().first) return table.back().second;
  const auto hi = std::upper_bound(table.begin(), table.end(), speed,
                                   [](double s, const auto& p) { return s < p.first; });
  const auto lo = hi - 1;
  const double w = (speed - lo->first) / (hi->first - lo->first);
  return lo->second + w * (hi->second - lo->second);
}

std::string upper(std::string s) {
  for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Longitude in [0, 360).
double wrap360(double lon) {
  double l = std::fmod(lon, 360.0);
  if (l < 0) l += 360.0;
  return l >= 360.0 ? 0.0 : l;
}

}  // namespace

// --- hub-height wind -------------------------------------------------------------------

double power_law_wind(double speed_ref, double z_ref, double z, double alpha) {
  return speed_ref * std::pow(z / z_ref, alpha);
}

double log_law_wind(double speed_ref, double z_ref, double z, double roughness) {
  return speed_ref * std::log(z / roughness) / std::log(z_ref / roughness);
}

double shear_exponent(double speed1, double z1, double speed2, double z2) {
  return std::log(speed2 / speed1) / std::log(z2 / z1);
}

void HubHeightOptions::validate() const {
  if (!std::isfinite(alpha) || alpha < 0 || alpha > 1)
    throw ConfigError(fmt::format("hub-height wind: alpha {} is outside 0..1", alpha));
  require_positive(roughness, "hub-height wind: roughness length z0");
  if (!(alpha_min <= alpha_max))
    throw ConfigError(fmt::format("hub-height wind: alpha_min {} is above alpha_max {}", alpha_min,
                                  alpha_max));
  if (!(min_speed_for_fit > 0))
    throw ConfigError(fmt::format("hub-height wind: min_speed_for_fit {} must be positive",
                                  min_speed_for_fit));
}

std::vector<float> hub_height_wind(const std::vector<WindLevel>& levels, std::size_t points,
                                   double hub_height, const HubHeightOptions& options) {
  options.validate();
  check_levels(levels, hub_height);
  const auto& ref = levels[nearest_level(levels, hub_height)];
  if (options.method == HubHeightMethod::log_law && !(options.roughness < std::min(hub_height, ref.height)))
    throw ConfigError(fmt::format("hub-height wind: roughness length {} m must be below the hub ({} m) "
                                  "and the reference level ({} m)",
                                  options.roughness, hub_height, ref.height));
  const bool fit = options.method == HubHeightMethod::fitted_power_law && levels.size() > 1;
  const auto& other = fit ? levels[second_level(levels, hub_height, std::size_t(&ref - levels.data()))] : ref;

  std::vector<float> out(points);
  for (std::size_t p = 0; p < points; ++p) {
    const double u = ref.speed[p];
    double alpha = options.alpha;
    if (fit) {
      const double u2 = other.speed[p];
      if (std::isnan(u2)) {
        out[p] = NAN;
        continue;
      }
      if (u >= options.min_speed_for_fit && u2 >= options.min_speed_for_fit)
        alpha = std::clamp(shear_exponent(u, ref.height, u2, other.height), options.alpha_min,
                           options.alpha_max);
    }
    out[p] = float(options.method == HubHeightMethod::log_law
                       ? log_law_wind(u, ref.height, hub_height, options.roughness)
                       : power_law_wind(u, ref.height, hub_height, alpha));
  }
  return out;
}

// --- power curves ----------------------------------------------------------------------

void PowerCurve::validate(const std::string& where) const {
  const auto fail = [&](const std::string& why) {
    throw ConfigError(fmt::format("{} '{}': {}", where, name, why));
  };
  if (!std::isfinite(cut_in) || cut_in < 0) fail(fmt::format("cut_in {} m/s must be >= 0", cut_in));
  if (!(cut_in < rated)) fail(fmt::format("cut_in {} m/s must be below rated {} m/s", cut_in, rated));
  if (!(rated < cut_out) || !std::isfinite(cut_out))
    fail(fmt::format("rated {} m/s must be below cut_out {} m/s", rated, cut_out));
  if (table.empty()) return;
  if (table.size() < 2) fail("a tabulated curve needs at least 2 points");
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto [s, f] = table[i];
    if (!std::isfinite(s) || s < 0) fail(fmt::format("table point {}: speed {} must be >= 0", i + 1, s));
    if (!(f >= 0 && f <= 1))
      fail(fmt::format("table point {} ({} m/s): fraction of rated {} is outside 0..1", i + 1, s, f));
    if (i > 0 && !(s > table[i - 1].first))
      fail(fmt::format("table point {}: speed {} m/s is not above the previous {} m/s", i + 1, s,
                       table[i - 1].first));
  }
}

double PowerCurve::capacity_factor(double speed) const {
  if (std::isnan(speed)) return kNaN;
  if (speed < cut_in || speed >= cut_out) return 0;
  if (!table.empty()) return table_fraction(table, speed);
  if (speed >= rated) return 1;
  const double in3 = cut_in * cut_in * cut_in;
  return (speed * speed * speed - in3) / (rated * rated * rated - in3);
}

std::vector<std::string> iec_power_curve_names() { return {"iec-I", "iec-II", "iec-III"}; }

PowerCurve iec_power_curve(const std::string& name) {
  auto key = upper(name);
  if (key.rfind("IEC-", 0) == 0) key = key.substr(4);
  // Generic speeds per class: see energy.hpp for why these and what they assume.
  if (key == "I") return {"iec-I", 3.5, 13.0, 25.0, {}};
  if (key == "II") return {"iec-II", 3.0, 12.0, 25.0, {}};
  if (key == "III") return {"iec-III", 3.0, 10.5, 22.0, {}};
  throw ConfigError(fmt::format("unknown power curve '{}': known presets are {}", name,
                                fmt::join(iec_power_curve_names(), ", ")));
}

std::vector<float> wind_capacity_factor(const PowerCurve& curve, const float* hub_speed,
                                        std::size_t points) {
  curve.validate();
  std::vector<float> out(points);
  for (std::size_t p = 0; p < points; ++p) out[p] = float(curve.capacity_factor(hub_speed[p]));
  return out;
}

// --- regions ---------------------------------------------------------------------------

void SupplyRegion::validate() const {
  const auto fail = [&](const std::string& why) {
    throw ConfigError(fmt::format("region '{}': {}", name, why));
  };
  if (!(lat_south >= -90 && lat_south <= 90)) fail(fmt::format("lat_south {} is outside -90..90", lat_south));
  if (!(lat_north >= -90 && lat_north <= 90)) fail(fmt::format("lat_north {} is outside -90..90", lat_north));
  if (!(lat_south <= lat_north)) fail(fmt::format("lat_south {} is north of lat_north {}", lat_south, lat_north));
  if (!(lon_west >= -180 && lon_west <= 360)) fail(fmt::format("lon_west {} is outside -180..360", lon_west));
  if (!(lon_east >= -180 && lon_east <= 360)) fail(fmt::format("lon_east {} is outside -180..360", lon_east));
}

bool SupplyRegion::contains(double lat, double lon) const {
  if (lat < lat_south || lat > lat_north) return false;
  if (lon_east - lon_west >= 360) return true;
  const double w = wrap360(lon_west), e = wrap360(lon_east), l = wrap360(lon);
  // West above east after wrapping: the box runs through 0 E (350 -> 2 covers 350..360, 0..2).
  return w <= e ? (l >= w && l <= e) : (l >= w || l <= e);
}

RegionalMean regional_mean(const std::vector<double>& lat, const std::vector<double>& lon,
                           const float* values, const float* capacity, const SupplyRegion& region) {
  region.validate();
  if (lat.size() != lon.size())
    throw InternalError(fmt::format("regional_mean: {} latitudes for {} longitudes", lat.size(), lon.size()));
  RegionalMean r;
  double weighted = 0;
  for (std::size_t p = 0; p < lat.size(); ++p) {
    if (!region.contains(lat[p], lon[p])) continue;
    const double c = capacity ? double(capacity[p]) : 1.0;
    // Zero capacity is "no farm here": its (possibly NaN) value must not count.
    if (!(c > 0)) continue;
    weighted += c * double(values[p]);
    r.capacity += c;
    ++r.points;
  }
  if (r.points == 0)
    throw DataError(fmt::format("region '{}' ({}..{} N, {}..{} E) holds no installed capacity among {} points",
                                region.name, region.lat_south, region.lat_north, region.lon_west,
                                region.lon_east, lat.size()));
  r.value = weighted / r.capacity;
  return r;
}

// --- solar -----------------------------------------------------------------------------

double solar_capacity_factor(double t2m_kelvin, double irradiance_w_m2) {
  if (std::isnan(t2m_kelvin) || std::isnan(irradiance_w_m2)) return kNaN;
  const double cf = 0.9 * (1 - 0.00042 * (t2m_kelvin - 298.15)) * irradiance_w_m2 / 1000.0;
  return std::clamp(cf, 0.0, 1.0);
}

double mean_irradiance(double accumulated_j_m2, double period_seconds) {
  if (!(period_seconds > 0))
    throw DataError(fmt::format("mean irradiance: accumulation period {} s must be positive", period_seconds));
  if (std::isnan(accumulated_j_m2)) return kNaN;
  return std::max(0.0, accumulated_j_m2 / period_seconds);
}

std::vector<std::vector<float>> irradiance_from_accumulations(const std::vector<const float*>& fields,
                                                              const std::vector<TimePoint>& times,
                                                              std::size_t points, TimePoint start) {
  if (fields.size() != times.size())
    throw InternalError(fmt::format("irradiance: {} fields for {} times", fields.size(), times.size()));
  std::vector<std::vector<float>> out(times.size(), std::vector<float>(points));
  for (std::size_t k = 0; k < times.size(); ++k) {
    const TimePoint from = k == 0 ? start : times[k - 1];
    if (times[k] <= from)
      throw DataError(fmt::format("irradiance: valid time {} is not after {}", iso8601(times[k]), iso8601(from)));
    const double seconds = double((times[k] - from).count());
    for (std::size_t p = 0; p < points; ++p) {
      const double before = k == 0 ? 0.0 : double(fields[k - 1][p]);
      out[k][p] = float(mean_irradiance(double(fields[k][p]) - before, seconds));
    }
  }
  return out;
}

// --- degree days -----------------------------------------------------------------------

DegreeDays degree_days(double tmax, double tmin, double base_kelvin) {
  const double mean = (tmax + tmin) / 2;
  if (std::isnan(mean)) return {kNaN, kNaN};
  return {std::max(0.0, base_kelvin - mean), std::max(0.0, mean - base_kelvin)};
}

namespace {

constexpr std::int64_t kDay = 86400;

std::int64_t day_of(TimePoint t) {
  const auto s = t.time_since_epoch().count();
  return s >= 0 ? s / kDay : -((-s + kDay - 1) / kDay);  // floor, also before 1970
}

// The sampling step: the smallest interval between consecutive times (a gap is a
// missing sample, never a coarser step).
std::int64_t sampling_step(const std::vector<TimePoint>& times) {
  std::int64_t step = 0;
  for (std::size_t k = 1; k < times.size(); ++k) {
    const auto d = (times[k] - times[k - 1]).count();
    if (d <= 0)
      throw DataError(fmt::format("degree days: valid times not strictly ascending at {} (after {})",
                                  iso8601(times[k]), iso8601(times[k - 1])));
    if (step == 0 || d < step) step = d;
  }
  return step;
}

}  // namespace

DailyDegreeDays daily_degree_days(const std::vector<const float*>& fields,
                                  const std::vector<TimePoint>& times, std::size_t points,
                                  const DegreeDayOptions& options) {
  if (fields.size() != times.size())
    throw InternalError(fmt::format("degree days: {} fields for {} times", fields.size(), times.size()));
  DailyDegreeDays out;
  if (times.empty()) return out;
  // A single sample cannot tell its step: call it hourly, so its day is incomplete.
  std::int64_t step = times.size() > 1 ? sampling_step(times) : 3600;
  if (kDay % step != 0)
    throw DataError(fmt::format("degree days: sampling step {} s does not divide a day", step));
  const auto expected = std::size_t(kDay / step);
  const double base = options.base_celsius + kZeroCelsius;

  std::size_t k = 0;
  while (k < times.size()) {
    const auto day = day_of(times[k]);
    std::vector<double> tmax(points, -INFINITY), tmin(points, INFINITY);
    std::vector<bool> nan(points, false);
    std::size_t n = 0;
    bool on_grid = true;  // every sample on the 00:00 + i * step clock
    for (; k < times.size() && day_of(times[k]) == day; ++k, ++n) {
      on_grid &= (times[k].time_since_epoch().count() - day * kDay) % step == 0;
      for (std::size_t p = 0; p < points; ++p) {
        const double t = fields[k][p];
        if (std::isnan(t)) nan[p] = true;
        tmax[p] = std::max(tmax[p], t);
        tmin[p] = std::min(tmin[p], t);
      }
    }
    const bool complete = on_grid && n == expected;
    out.days.push_back(TimePoint(std::chrono::seconds(day * kDay)));
    out.complete.push_back(complete);
    out.samples.push_back(n);
    std::vector<float> hdd(points, NAN), cdd(points, NAN);
    if (complete)
      for (std::size_t p = 0; p < points; ++p) {
        if (nan[p]) continue;
        const auto dd = degree_days(tmax[p], tmin[p], base);
        hdd[p] = float(dd.hdd), cdd[p] = float(dd.cdd);
      }
    out.hdd.push_back(std::move(hdd));
    out.cdd.push_back(std::move(cdd));
  }
  return out;
}

}  // namespace gale
