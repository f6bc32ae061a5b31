#pragma once
// Small vector geometry on the unit sphere (double precision).
#include <array>
#include <cmath>

namespace gale {

using Vec3 = std::array<double, 3>;

inline Vec3 operator+(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
inline Vec3 operator-(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
inline Vec3 operator*(double s, const Vec3& a) { return {s * a[0], s * a[1], s * a[2]}; }
inline double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
inline Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
inline double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }
inline Vec3 normalised(const Vec3& a) { return (1.0 / norm(a)) * a; }

inline constexpr double kDegToRad = M_PI / 180.0;

inline Vec3 lat_lon_to_xyz(double lat_deg, double lon_deg) {
  const double lat = lat_deg * kDegToRad, lon = lon_deg * kDegToRad;
  return {std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)};
}

// Latitude in [-90, 90] and longitude in [0, 360), degrees.
inline void xyz_to_lat_lon(const Vec3& p, double& lat_deg, double& lon_deg) {
  lat_deg = std::atan2(p[2], std::hypot(p[0], p[1])) / kDegToRad;
  lon_deg = std::atan2(p[1], p[0]) / kDegToRad;
  if (lon_deg < 0) lon_deg += 360.0;
  if (lon_deg >= 360.0) lon_deg -= 360.0;
}

// Area of the spherical triangle abc on the unit sphere (Van Oosterom & Strackee).
inline double spherical_triangle_area(const Vec3& a, const Vec3& b, const Vec3& c) {
  const double numerator = std::abs(dot(a, cross(b, c)));
  const double denominator = 1 + dot(a, b) + dot(b, c) + dot(c, a);
  return 2 * std::atan2(numerator, denominator);
}

}  // namespace gale
