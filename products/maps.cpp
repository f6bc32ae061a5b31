#include "products/maps.hpp"

#include <cairo.h>
#include <fmt/format.h>
#include <shapefil.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "core/errors.hpp"
#include "export/png_figure.hpp"

#ifndef GALE_COASTLINE_DIR
#define GALE_COASTLINE_DIR "/usr/share/magics"
#endif

namespace gale {

std::string default_coastline_dir() { return GALE_COASTLINE_DIR; }

namespace {

const Rgb kSeaGrey{0.88, 0.88, 0.88}, kLandGrey{0.76, 0.76, 0.76}, kCoast{0.08, 0.08, 0.08};

// ---------------------------------------------------------------------------------------
// Colour scales.

Rgb rgb255(int r, int g, int b) { return {r / 255.0, g / 255.0, b / 255.0}; }

Rgb ramp(const std::vector<Rgb>& anchors, double t) {
  t = std::clamp(t, 0.0, 1.0) * double(anchors.size() - 1);
  const std::size_t i = std::min(anchors.size() - 2, std::size_t(t));
  const double f = t - double(i);
  const auto &a = anchors[i], &b = anchors[i + 1];
  return {a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f};
}

const std::vector<Rgb>& viridis() {
  static const std::vector<Rgb> a{rgb255(68, 1, 84),    rgb255(71, 44, 122),  rgb255(59, 81, 139),
                                  rgb255(44, 113, 142), rgb255(33, 144, 141), rgb255(39, 173, 129),
                                  rgb255(92, 200, 99),  rgb255(170, 220, 50), rgb255(253, 231, 37)};
  return a;
}
const std::vector<Rgb>& white_yellow_red() {
  static const std::vector<Rgb> a{rgb255(255, 255, 255), rgb255(255, 237, 160), rgb255(254, 217, 118),
                                  rgb255(254, 178, 76),  rgb255(253, 141, 60),  rgb255(252, 78, 42),
                                  rgb255(227, 26, 28),   rgb255(189, 0, 38),    rgb255(128, 0, 38)};
  return a;
}
const std::vector<Rgb>& blue_white_red() {
  static const std::vector<Rgb> a{rgb255(5, 48, 97),     rgb255(33, 102, 172),  rgb255(67, 147, 195),
                                  rgb255(146, 197, 222), rgb255(209, 229, 240), rgb255(247, 247, 247),
                                  rgb255(253, 219, 199), rgb255(244, 165, 130), rgb255(214, 96, 77),
                                  rgb255(178, 24, 43),   rgb255(103, 0, 31)};
  return a;
}
// Probability bins [0, 0.1), [0.1, 0.2), ... [0.9, 1]: white, then light to dark.
const std::vector<Rgb>& probability_bins() {
  static const std::vector<Rgb> a{rgb255(255, 255, 255), rgb255(198, 219, 239), rgb255(158, 202, 225),
                                  rgb255(107, 174, 214), rgb255(66, 146, 198),  rgb255(33, 113, 181),
                                  rgb255(8, 81, 156),    rgb255(84, 39, 143),   rgb255(122, 1, 119),
                                  rgb255(73, 0, 106)};
  return a;
}

std::uint32_t pack(const Rgb& c) {
  const auto b = [](double v) { return std::uint32_t(std::lround(std::clamp(v, 0.0, 1.0) * 255)); };
  return 0xff000000u | (b(c[0]) << 16) | (b(c[1]) << 8) | b(c[2]);
}

// ---------------------------------------------------------------------------------------
// Extent.

double wrap360(double lon) {
  double l = std::fmod(lon, 360.0);
  if (l < 0) l += 360;
  return l >= 360 ? 0 : l;
}

// Normalises a box: south < north within [-90, 90], west in [-180, 180), west < east <= west + 360.
MapBox normalise_box(MapBox b) {
  if (!std::isfinite(b.lat_south) || !std::isfinite(b.lat_north) || !std::isfinite(b.lon_west) ||
      !std::isfinite(b.lon_east) || b.lat_south < -90 || b.lat_north > 90 || !(b.lat_south < b.lat_north))
    throw ConfigError(fmt::format("map box: invalid latitudes {}..{} (need -90 <= south < north <= 90)",
                                  b.lat_south, b.lat_north));
  const double span = b.lon_east - b.lon_west;
  if (span > 360 + 1e-9)
    throw ConfigError(fmt::format("map box: longitudes {}..{} span more than 360 degrees", b.lon_west, b.lon_east));
  double east = b.lon_east;
  while (east <= b.lon_west) east += 360;
  double west = wrap360(b.lon_west);
  if (west >= 180) west -= 360;
  b.lon_east = west + (east - b.lon_west);
  b.lon_west = west;
  return b;
}

// Largest empty interval of sorted longitudes in [0, 360): returns (west, east) of the
// occupied arc, east > west, and the smallest spacing.
struct LonExtent {
  double west, east, spacing;
};
LonExtent lon_extent(std::vector<double> lons) {
  std::sort(lons.begin(), lons.end());
  lons.erase(std::unique(lons.begin(), lons.end()), lons.end());
  if (lons.empty()) return {-180, 180, 1};
  if (lons.size() == 1) return {lons[0], lons[0], 1};
  double best_gap = lons.front() + 360 - lons.back(), spacing = best_gap;
  std::size_t after = 0;  // index of the first longitude after the largest gap
  for (std::size_t i = 1; i < lons.size(); ++i) {
    const double gap = lons[i] - lons[i - 1];
    if (gap > 1e-9) spacing = std::min(spacing, gap);
    if (gap > best_gap) best_gap = gap, after = i;
  }
  const double west = lons[after];
  double east = lons[after == 0 ? lons.size() - 1 : after - 1];
  if (east < west) east += 360;
  return {west, east, spacing};
}

MapBox resolve_box(const Grid& grid, const MapStyle& style) {
  if (style.box) return normalise_box(*style.box);
  if (grid.size() == 0 || grid.kind() == GridKind::reduced_gaussian) return MapBox{};
  double lat_lo, lat_hi, half_lat, half_lon;
  LonExtent le;
  if (grid.kind() == GridKind::mesh) {
    const auto [lo, hi] = std::minmax_element(grid.lat().begin(), grid.lat().end());
    lat_lo = *lo, lat_hi = *hi;
    le = lon_extent(grid.lon());
    const double area = std::max(1e-6, (lat_hi - lat_lo + 1e-3) * (le.east - le.west + 1e-3) *
                                           std::cos((lat_lo + lat_hi) / 2 * M_PI / 180));
    half_lat = half_lon = 0.5 * std::sqrt(area / double(grid.size()));
  } else {
    const auto& rl = grid.row_latitudes();
    lat_hi = rl.front(), lat_lo = rl.back();
    half_lat = rl.size() > 1 ? 0.5 * (rl[0] - rl[1]) : 0.5;
    le = lon_extent(grid.longitudes());
    half_lon = 0.5 * le.spacing;
    if (grid.global_in_longitude()) le = {-180, 180, le.spacing}, half_lon = 0;
  }
  MapBox b;
  if (le.east - le.west + 2 * half_lon < 300) {
    b.lon_west = le.west - half_lon;
    b.lon_east = le.east + half_lon;
  }
  if (!(b.lon_east - b.lon_west >= 300 && lat_hi - lat_lo >= 120)) {
    b.lat_south = std::max(-90.0, lat_lo - half_lat);
    b.lat_north = std::min(90.0, lat_hi + half_lat);
    if (!(b.lat_north > b.lat_south)) b.lat_south -= 0.5, b.lat_north += 0.5;
  }
  return normalise_box(b);
}

// ---------------------------------------------------------------------------------------
// Coastlines: Natural Earth land polygons, loaded once per process and file.

struct Ring {
  std::vector<float> lon, lat;
  float lon_min, lon_max, lat_min, lat_max;
};
using Coastline = std::vector<Ring>;

std::shared_ptr<const Coastline> load_coastline(const std::string& file) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Coastline>> cache;
  std::lock_guard lock(mutex);
  if (const auto it = cache.find(file); it != cache.end()) return it->second;
  if (!std::filesystem::exists(file))
    throw InputError(fmt::format(
        "{}: Natural Earth coastline shapefile not found (install Debian's libmagics++-data, which provides "
        "/usr/share/magics/{{10m,50m,110m}}/ne_*_land.shp, or set the map style's coastline directory)",
        file));
  SHPHandle shp = SHPOpen(file.c_str(), "rb");
  if (!shp) throw InputError(fmt::format("{}: cannot open the coastline shapefile (or its .shx)", file));
  auto coast = std::make_shared<Coastline>();
  int entities = 0, type = 0;
  SHPGetInfo(shp, &entities, &type, nullptr, nullptr);
  for (int e = 0; e < entities; ++e) {
    SHPObject* obj = SHPReadObject(shp, e);
    if (!obj) continue;
    for (int p = 0; p < obj->nParts; ++p) {
      const int begin = obj->panPartStart[p], end = p + 1 < obj->nParts ? obj->panPartStart[p + 1] : obj->nVertices;
      if (end - begin < 2) continue;
      Ring r;
      r.lon.reserve(std::size_t(end - begin));
      r.lat.reserve(std::size_t(end - begin));
      for (int v = begin; v < end; ++v) {
        r.lon.push_back(float(obj->padfX[v]));
        r.lat.push_back(float(obj->padfY[v]));
      }
      r.lon_min = *std::min_element(r.lon.begin(), r.lon.end());
      r.lon_max = *std::max_element(r.lon.begin(), r.lon.end());
      r.lat_min = *std::min_element(r.lat.begin(), r.lat.end());
      r.lat_max = *std::max_element(r.lat.begin(), r.lat.end());
      coast->push_back(std::move(r));
    }
    SHPDestroyObject(obj);
  }
  SHPClose(shp);
  if (coast->empty()) throw InputError(fmt::format("{}: the coastline shapefile has no polygons", file));
  cache.emplace(file, coast);
  return coast;
}

std::string coastline_file(const MapStyle& style, const MapBox& box) {
  std::string res = style.coastline_resolution;
  if (res == "none") return "";
  if (res == "auto" || res.empty()) {
    const double extent = std::max(box.lon_east - box.lon_west, box.lat_north - box.lat_south);
    res = extent >= 40 ? "110m" : "50m";
  } else if (res != "110m" && res != "50m" && res != "10m") {
    throw ConfigError(fmt::format("map coastline resolution '{}': expected auto, 110m, 50m, 10m or none", res));
  }
  return fmt::format("{}/{}/ne_{}_land.shp", style.coastline_dir, res, res);
}

// ---------------------------------------------------------------------------------------
// Field raster: for each map pixel, the grid point whose cell contains it (or -1).

// Row of a structured grid containing latitude `lat` (rows north -> south), or -1.
long row_of(const std::vector<double>& rl, double lat) {
  const std::size_t n = rl.size();
  if (n == 0) return -1;
  // First row with latitude <= lat (descending order).
  const auto it = std::lower_bound(rl.begin(), rl.end(), lat, [](double a, double v) { return a > v; });
  std::size_t r;
  if (it == rl.begin())
    r = 0;
  else if (it == rl.end())
    r = n - 1;
  else {
    const std::size_t below = std::size_t(it - rl.begin());
    r = (rl[below - 1] - lat) <= (lat - rl[below]) ? below - 1 : below;
  }
  const double half_n = n > 1 ? 0.5 * (rl[0] - rl[1]) : 0.5, half_s = n > 1 ? 0.5 * (rl[n - 2] - rl[n - 1]) : 0.5;
  if (r == 0 && lat > rl[0] + half_n + 1e-9) return -1;
  if (r == n - 1 && lat < rl[n - 1] - half_s - 1e-9) return -1;
  return long(r);
}

// Column of a regular grid's sorted distinct longitudes nearest to `lon` (periodic),
// or -1 when farther than half a spacing.
long column_of(const std::vector<double>& lons, double spacing, double lon) {
  if (lons.empty()) return -1;
  const double l = wrap360(lon);
  const auto it = std::lower_bound(lons.begin(), lons.end(), l);
  long best = -1;
  double best_d = 1e300;
  auto consider = [&](std::size_t i) {
    double d = std::abs(lons[i] - l);
    d = std::min(d, 360 - d);
    if (d < best_d) best_d = d, best = long(i);
  };
  const std::size_t i = std::size_t(it - lons.begin());
  if (i < lons.size()) consider(i);
  if (i > 0) consider(i - 1);
  consider(0);
  consider(lons.size() - 1);
  return best_d <= 0.5 * spacing + 1e-9 ? best : -1;
}

// Nearest-point search for meshes over lat/lon buckets.
class PointIndex {
 public:
  explicit PointIndex(const Grid& grid) : lat_(grid.lat()), lon_(grid.lon()) {
    const std::size_t n = lat_.size();
    const auto [lo, hi] = std::minmax_element(lat_.begin(), lat_.end());
    const auto le = lon_extent(lon_);
    const double span_lat = *hi - *lo + 1e-3, span_lon = std::min(360.0, le.east - le.west + 1e-3);
    const double area = span_lat * span_lon * std::max(0.05, std::cos((*lo + *hi) / 2 * M_PI / 180));
    spacing_ = std::sqrt(area / double(std::max<std::size_t>(n, 1)));
    max_radius_ = std::max(3 * spacing_, 1e-3);
    bucket_ = std::clamp(1.5 * spacing_, 0.25, 20.0);
    nlat_ = std::size_t(std::ceil(180 / bucket_)) + 1;
    nlon_ = std::size_t(std::ceil(360 / bucket_));
    offsets_.assign(nlat_ * nlon_ + 1, 0);
    std::vector<std::size_t> key(n);
    for (std::size_t p = 0; p < n; ++p) {
      key[p] = bucket_index(lat_bucket(lat_[p]), lon_bucket(lon_[p]));
      ++offsets_[key[p] + 1];
    }
    for (std::size_t b = 0; b < nlat_ * nlon_; ++b) offsets_[b + 1] += offsets_[b];
    points_.resize(n);
    auto fill = offsets_;
    for (std::size_t p = 0; p < n; ++p) points_[fill[key[p]]++] = std::uint32_t(p);
  }

  long nearest(double lat, double lon) const {
    lon = wrap360(lon);
    const double coslat = std::cos(lat * M_PI / 180);  // local metric: the pixel's latitude
    long best = -1;
    double best_d2 = 1e300;
    for (double r = bucket_;; r += bucket_) {
      const double c = std::cos(std::min(89.9, std::abs(lat) + r) * M_PI / 180);
      const long i0 = lat_bucket(std::max(-90.0, lat - r)), i1 = lat_bucket(std::min(90.0, lat + r));
      const double lon_r = r / std::max(c, 1e-3);
      const long jn = long(std::ceil(lon_r / bucket_));
      const long j_center = lon_bucket(lon);
      const bool all = 2 * jn + 1 >= long(nlon_);
      for (long i = i0; i <= i1; ++i)
        for (long dj = all ? 0 : -jn; dj <= (all ? long(nlon_) - 1 : jn); ++dj) {
          const long j = all ? dj : ((j_center + dj) % long(nlon_) + long(nlon_)) % long(nlon_);
          const std::size_t b = bucket_index(i, j);
          for (std::size_t k = offsets_[b]; k < offsets_[b + 1]; ++k) {
            const std::uint32_t p = points_[k];
            const double dlat = lat_[p] - lat;
            double dlon = std::abs(lon_[p] - lon);
            dlon = std::min(dlon, 360 - dlon) * coslat;
            const double d2 = dlat * dlat + dlon * dlon;
            if (d2 < best_d2) best_d2 = d2, best = long(p);
          }
        }
      // Every point within (metric) distance r has been examined.
      if (best >= 0 && best_d2 <= r * r) break;
      if (r >= max_radius_ || all) break;
    }
    return best >= 0 && best_d2 <= max_radius_ * max_radius_ ? best : -1;
  }

 private:
  long lat_bucket(double lat) const { return std::clamp(long((lat + 90) / bucket_), 0L, long(nlat_) - 1); }
  long lon_bucket(double lon) const { return std::clamp(long(wrap360(lon) / bucket_), 0L, long(nlon_) - 1); }
  std::size_t bucket_index(long i, long j) const { return std::size_t(i) * nlon_ + std::size_t(j); }
  const std::vector<double>& lat_;
  const std::vector<double>& lon_;
  double spacing_, max_radius_, bucket_;
  std::size_t nlat_, nlon_;
  std::vector<std::size_t> offsets_;
  std::vector<std::uint32_t> points_;
};

// Paints the field into an ARGB32 surface of the map's size (NaN / no data transparent).
cairo_surface_t* field_raster(const Grid& grid, const std::vector<std::uint32_t>& colour, const MapLayout& L) {
  const int w = L.x1 - L.x0, h = L.y1 - L.y0;
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_surface_flush(img);
  unsigned char* data = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  const double lon_span = L.lon_east - L.lon_west, lat_span = L.lat_north - L.lat_south;
  std::vector<double> pix_lon(static_cast<std::size_t>(w)), pix_lat(static_cast<std::size_t>(h));
  for (int i = 0; i < w; ++i) pix_lon[std::size_t(i)] = L.lon_west + (i + 0.5) / w * lon_span;
  for (int j = 0; j < h; ++j) pix_lat[std::size_t(j)] = L.lat_north - (j + 0.5) / h * lat_span;
  auto put = [&](int i, int j, long p) {
    auto* px = reinterpret_cast<std::uint32_t*>(data + std::size_t(j) * std::size_t(stride)) + i;
    *px = p < 0 ? 0u : colour[std::size_t(p)];
  };
  const auto& rl = grid.row_latitudes();
  const auto& offsets = grid.row_offsets();
  std::vector<long> rows(static_cast<std::size_t>(h), -1);
  if (grid.kind() != GridKind::mesh)
    for (int j = 0; j < h; ++j) rows[std::size_t(j)] = row_of(rl, pix_lat[std::size_t(j)]);
  if (grid.kind() == GridKind::regular_ll || grid.kind() == GridKind::regular_gaussian) {
    const auto& lons = grid.longitudes();
    const double spacing = lon_extent(lons).spacing;
    std::vector<long> cols(static_cast<std::size_t>(w));
    for (int i = 0; i < w; ++i) cols[std::size_t(i)] = column_of(lons, spacing, pix_lon[std::size_t(i)]);
    for (int j = 0; j < h; ++j)
      for (int i = 0; i < w; ++i) {
        const long r = rows[std::size_t(j)], c = cols[std::size_t(i)];
        put(i, j, r < 0 || c < 0 ? -1 : long(offsets[std::size_t(r)]) + c);
      }
  } else if (grid.kind() == GridKind::reduced_gaussian) {
    std::vector<double> lon360(static_cast<std::size_t>(w));
    for (int i = 0; i < w; ++i) lon360[std::size_t(i)] = wrap360(pix_lon[std::size_t(i)]);
    for (int j = 0; j < h; ++j) {
      const long r = rows[std::size_t(j)];
      if (r < 0) {
        for (int i = 0; i < w; ++i) put(i, j, -1);
        continue;
      }
      const long begin = long(offsets[std::size_t(r)]), pl = long(offsets[std::size_t(r) + 1]) - begin;
      for (int i = 0; i < w; ++i) {
        const long c = pl > 0 ? long(std::lround(lon360[std::size_t(i)] / (360.0 / double(pl)))) % pl : -1;
        put(i, j, c < 0 ? -1 : begin + c);
      }
    }
  } else {
    const PointIndex index(grid);
#pragma omp parallel for schedule(dynamic, 8)
    for (int j = 0; j < h; ++j)
      for (int i = 0; i < w; ++i) put(i, j, index.nearest(pix_lat[std::size_t(j)], pix_lon[std::size_t(i)]));
  }
  cairo_surface_mark_dirty(img);
  return img;
}

// ---------------------------------------------------------------------------------------
// Map decorations.

// Appends the ring to the path, shifted by `shift` degrees of longitude. With `outline`,
// segments along the +-180 meridian or the south pole (polygon closures, not coasts) are skipped.
void ring_path(cairo_t* cr, const Ring& r, double shift, const MapLayout& L, bool outline) {
  const double sx = double(L.x1 - L.x0) / (L.lon_east - L.lon_west),
               sy = double(L.y1 - L.y0) / (L.lat_north - L.lat_south);
  auto px = [&](std::size_t k) { return L.x0 + (r.lon[k] + shift - L.lon_west) * sx; };
  auto py = [&](std::size_t k) { return L.y0 + (L.lat_north - r.lat[k]) * sy; };
  const std::size_t n = r.lon.size();
  if (!outline) {
    cairo_move_to(cr, px(0), py(0));
    for (std::size_t k = 1; k < n; ++k) cairo_line_to(cr, px(k), py(k));
    cairo_close_path(cr);
    return;
  }
  auto artificial = [&](std::size_t a, std::size_t b) {
    return (std::abs(r.lon[a]) >= 179.999f && std::abs(r.lon[b]) >= 179.999f) ||
           (r.lat[a] <= -89.9f && r.lat[b] <= -89.9f);
  };
  bool pen = false;
  for (std::size_t k = 1; k < n; ++k) {
    if (artificial(k - 1, k)) {
      pen = false;
      continue;
    }
    if (!pen) cairo_move_to(cr, px(k - 1), py(k - 1));
    cairo_line_to(cr, px(k), py(k));
    pen = true;
  }
}

template <class F>
void for_each_visible(const Coastline& coast, const MapLayout& L, F f) {
  for (const auto& r : coast)
    for (double shift : {-360.0, 0.0, 360.0})
      if (r.lon_max + shift >= L.lon_west && r.lon_min + shift <= L.lon_east && r.lat_max >= L.lat_south &&
          r.lat_min <= L.lat_north)
        f(r, shift);
}

double graticule_step(const MapLayout& L) {
  const double span = std::max(L.lon_east - L.lon_west, L.lat_north - L.lat_south);
  for (double s : {0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0})
    if (span / s <= 8) return s;
  return 30;
}

std::string degrees(double v, int decimals) { return fmt::format("{:.{}f}°", std::abs(v), decimals); }

std::string lon_label(double lon, int decimals) {
  double l = std::fmod(lon, 360.0);
  if (l > 180 + 1e-9) l -= 360;
  if (l <= -180 + 1e-9) l += 360;
  if (std::abs(l) < 1e-9 || std::abs(std::abs(l) - 180) < 1e-9) return degrees(l, decimals);
  return degrees(l, decimals) + (l < 0 ? "W" : "E");
}

std::string lat_label(double lat, int decimals) {
  if (std::abs(lat) < 1e-9) return degrees(0, decimals);
  return degrees(lat, decimals) + (lat < 0 ? "S" : "N");
}

void draw_colour_bar(cairo_t* cr, const MapStyle& style, double lo, double hi, const MapLayout& L) {
  const int cb_w = int(std::lround(std::min(L.width * 0.6, std::max(320.0, (L.x1 - L.x0) * 0.9))));
  const double bx0 = std::round((L.width - cb_w) / 2.0), bx1 = bx0 + cb_w, by = L.y1 + 36, bh = 16;
  if (style.scale == ColourScale::probability) {
    for (int k = 0; k < 10; ++k) {
      set_color(cr, probability_bins()[std::size_t(k)]);
      cairo_rectangle(cr, bx0 + cb_w * k / 10.0, by, cb_w / 10.0 + 0.5, bh);
      cairo_fill(cr);
    }
  } else {
    const int n = 256;
    for (int k = 0; k < n; ++k) {
      set_color(cr, map_colour(style.scale, lo, hi, lo + (hi - lo) * (k + 0.5) / n));
      cairo_rectangle(cr, bx0 + cb_w * double(k) / n, by, cb_w / double(n) + 0.6, bh);
      cairo_fill(cr);
    }
  }
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, bx0 + 0.5, by + 0.5, cb_w - 1, bh - 1);
  cairo_stroke(cr);
  std::vector<double> ticks;
  int decimals = 1;
  if (style.scale == ColourScale::probability) {
    for (int k = 0; k <= 10; ++k) ticks.push_back(k / 10.0);
  } else {
    const double step = nice_number((hi - lo) / 8, true);
    decimals = decimals_for(step);
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
      ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  for (double v : ticks) {
    const double x = std::round(bx0 + (v - lo) / (hi - lo) * cb_w) + 0.5;
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, x, by + bh);
    cairo_line_to(cr, x, by + bh + 4);
    cairo_stroke(cr);
    set_color(cr, {0, 0, 0});
    text(cr, fmt::format("{:.{}f}", v, decimals), x, by + bh + 5, 12, 0.5, 0);
  }
  if (!style.units.empty()) {
    set_color(cr, {0, 0, 0});
    text(cr, style.units, bx1 + 10, by + bh / 2, 13, 0, 0.5);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------

double MapLayout::x(double lon) const {
  double l = lon;
  while (l < lon_west) l += 360;
  while (l >= lon_west + 360) l -= 360;
  return x0 + (l - lon_west) / (lon_east - lon_west) * (x1 - x0);
}

double MapLayout::y(double lat) const { return y0 + (lat_north - lat) / (lat_north - lat_south) * (y1 - y0); }

MapLayout map_layout(const Grid& grid, const MapStyle& style) {
  const MapBox b = resolve_box(grid, style);
  MapLayout L;
  L.lon_west = b.lon_west, L.lon_east = b.lon_east, L.lat_south = b.lat_south, L.lat_north = b.lat_north;
  L.width = std::max(style.width, 400);
  const int left = 64, right = 40;
  const int max_w = L.width - left - right;
  const double lon_span = b.lon_east - b.lon_west, lat_span = b.lat_north - b.lat_south;
  int map_w = max_w, map_h = int(std::lround(max_w * lat_span / lon_span));
  const int max_h = std::max(style.max_map_height, 100);
  if (map_h > max_h) {
    map_h = max_h;
    map_w = std::max(50, int(std::lround(max_h * lon_span / lat_span)));
  }
  map_h = std::max(map_h, 20);
  L.x0 = left + (max_w - map_w) / 2;
  L.x1 = L.x0 + map_w;
  L.y0 = style.subtitle.empty() ? 52 : 72;
  L.y1 = L.y0 + map_h;
  L.height = L.y1 + 36 + 16 + 30;
  return L;
}

std::pair<double, double> map_range(const MapStyle& style, const float* values, std::size_t n) {
  if (style.scale == ColourScale::probability) return {0.0, 1.0};
  double lo = NAN, hi = NAN;
  if (!style.min || !style.max) {
    std::vector<float> finite;
    finite.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      if (std::isfinite(values[i])) finite.push_back(values[i]);
    if (!finite.empty()) {
      const auto at = [&](double q) {
        const std::size_t k = std::min(finite.size() - 1, std::size_t(q * double(finite.size() - 1) + 0.5));
        std::nth_element(finite.begin(), finite.begin() + long(k), finite.end());
        return double(finite[k]);
      };
      lo = at(0.01), hi = at(0.99);
    }
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (style.scale == ColourScale::spread) lo = 0;
  if (style.scale == ColourScale::diverging) {
    const double m = std::max(std::abs(lo), std::abs(hi));
    lo = -m, hi = m;
  }
  if (style.min) lo = *style.min;
  if (style.max) hi = *style.max;
  if (!(hi > lo)) {
    const double pad = std::max(1e-6, std::abs(lo) * 0.05 + (lo == 0 ? 1 : 0));
    if (style.min && !style.max)
      hi = lo + pad;
    else if (style.max && !style.min)
      lo = hi - pad;
    else
      lo -= pad, hi += pad;
  }
  return {lo, hi};
}

std::array<double, 3> map_colour(ColourScale scale, double lo, double hi, double v) {
  if (!std::isfinite(v)) return kSeaGrey;
  const double t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  switch (scale) {
    case ColourScale::sequential: return ramp(viridis(), t);
    case ColourScale::spread: return ramp(white_yellow_red(), t);
    case ColourScale::diverging: return ramp(blue_white_red(), t);
    case ColourScale::probability: {
      const int k = std::clamp(int(std::floor(std::clamp(t, 0.0, 1.0) * 10 + 1e-9)), 0, 9);
      return probability_bins()[std::size_t(k)];
    }
  }
  return kSeaGrey;
}

void plot_map(const Grid& grid, const float* values, const MapStyle& style, const std::string& path) {
  const MapLayout L = map_layout(grid, style);
  // Coastlines first: a missing shapefile is reported before any drawing.
  const MapBox box{L.lat_south, L.lat_north, L.lon_west, L.lon_east};
  const std::string coast_file = coastline_file(style, box);
  std::shared_ptr<const Coastline> coast = coast_file.empty() ? nullptr : load_coastline(coast_file);

  const auto [lo, hi] = map_range(style, values, grid.size());
  std::vector<std::uint32_t> colour(grid.size());
  for (std::size_t p = 0; p < grid.size(); ++p)
    colour[p] = std::isfinite(values[p]) ? pack(map_colour(style.scale, lo, hi, values[p])) : 0u;

  Canvas canvas(L.width, L.height);
  cairo_t* cr = canvas.cr();
  set_color(cr, {0, 0, 0});
  text(cr, style.title, L.width / 2.0, 12, 20, 0.5, 0, true);
  if (!style.subtitle.empty()) {
    set_color(cr, {0.3, 0.3, 0.3});
    text(cr, style.subtitle, L.width / 2.0, 42, 14, 0.5, 0);
  }

  cairo_save(cr);
  cairo_rectangle(cr, L.x0, L.y0, L.x1 - L.x0, L.y1 - L.y0);
  cairo_clip(cr);
  // Background: sea and land greys, visible where the field is NaN or absent.
  set_color(cr, kSeaGrey);
  cairo_paint(cr);
  if (coast) {
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
    for_each_visible(*coast, L, [&](const Ring& r, double shift) { ring_path(cr, r, shift, L, false); });
    set_color(cr, kLandGrey);
    cairo_fill(cr);
  }
  // The field.
  cairo_surface_t* img = field_raster(grid, colour, L);
  cairo_set_source_surface(cr, img, L.x0, L.y0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_surface_destroy(img);
  // Graticule.
  const double step = graticule_step(L);
  const int gdec = step < 1 ? 2 : 0;
  cairo_set_source_rgba(cr, 0.25, 0.25, 0.25, 0.4);
  cairo_set_line_width(cr, 0.8);
  const double dash[] = {3, 3};
  cairo_set_dash(cr, dash, 2, 0);
  std::vector<double> glons, glats;
  for (double v = std::ceil(L.lon_west / step - 1e-9) * step; v <= L.lon_east + 1e-9; v += step) glons.push_back(v);
  for (double v = std::ceil(L.lat_south / step - 1e-9) * step; v <= L.lat_north + 1e-9; v += step) glats.push_back(v);
  for (double v : glons) {
    const double x = std::round(L.x0 + (v - L.lon_west) / (L.lon_east - L.lon_west) * (L.x1 - L.x0)) + 0.5;
    cairo_move_to(cr, x, L.y0);
    cairo_line_to(cr, x, L.y1);
  }
  for (double v : glats) {
    const double y = std::round(L.y(v)) + 0.5;
    cairo_move_to(cr, L.x0, y);
    cairo_line_to(cr, L.x1, y);
  }
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
  // Coastlines.
  if (coast) {
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_width(cr, L.lon_east - L.lon_west >= 40 ? 1.2 : 1.4);
    for_each_visible(*coast, L, [&](const Ring& r, double shift) { ring_path(cr, r, shift, L, true); });
    set_color(cr, kCoast);
    cairo_stroke(cr);
  }
  cairo_restore(cr);

  // Frame, graticule labels.
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, L.x0 - 0.5, L.y0 - 0.5, L.x1 - L.x0 + 1, L.y1 - L.y0 + 1);
  cairo_stroke(cr);
  set_color(cr, {0.15, 0.15, 0.15});
  for (double v : glons)
    text(cr, lon_label(v, gdec), L.x0 + (v - L.lon_west) / (L.lon_east - L.lon_west) * (L.x1 - L.x0), L.y1 + 5,
         12, 0.5, 0);
  for (double v : glats) text(cr, lat_label(v, gdec), L.x0 - 6, L.y(v), 12, 1, 0.5);

  draw_colour_bar(cr, style, lo, hi, L);
  set_color(cr, {0.55, 0.55, 0.55});
  if (coast) text(cr, "coastlines: Natural Earth", L.width - 6.0, L.height - 4.0, 10, 1, 1);
  canvas.write(path);
}

// ---------------------------------------------------------------------------------------
// Plumes.

namespace {

// Percentile q (0..1) of sorted values, linear interpolation between order statistics.
double percentile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return NAN;
  const double h = q * double(v.size() - 1);
  const std::size_t i = std::size_t(std::floor(h));
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (h - double(i)) * (v[i + 1] - v[i]);
}

const std::vector<Rgb>& member_palette() {
  static const std::vector<Rgb> p{rgb255(31, 119, 180), rgb255(255, 127, 14), rgb255(44, 160, 44),
                                  rgb255(214, 39, 40),  rgb255(148, 103, 189), rgb255(140, 86, 75),
                                  rgb255(227, 119, 194), rgb255(188, 189, 34), rgb255(23, 190, 207),
                                  rgb255(127, 127, 127)};
  return p;
}

std::string valid_label(TimePoint t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto hour = duration_cast<hours>(t - day).count();
  return fmt::format("{} {} {:02d}Z", unsigned(ymd.day()), months[unsigned(ymd.month()) - 1], hour);
}

}  // namespace

void plot_site_plume(const std::vector<double>& lead_hours, const std::vector<std::vector<float>>& members,
                     const PlumeStyle& style, const std::string& path) {
  const std::size_t nt = lead_hours.size(), nm = members.size();
  for (std::size_t m = 0; m < nm; ++m)
    if (members[m].size() != nt)
      throw InternalError(fmt::format("plot_site_plume: member {} has {} values for {} lead times", m,
                                      members[m].size(), nt));
  std::vector<double> p10(nt, NAN), p50(nt, NAN), p90(nt, NAN), mean(nt, NAN);
  double lo = INFINITY, hi = -INFINITY;
  std::vector<double> v;
  for (std::size_t i = 0; i < nt; ++i) {
    v.clear();
    for (const auto& mem : members)
      if (std::isfinite(mem[i])) v.push_back(mem[i]);
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    p10[i] = percentile_sorted(v, 0.1), p50[i] = percentile_sorted(v, 0.5), p90[i] = percentile_sorted(v, 0.9);
    double s = 0;
    for (double x : v) s += x;
    mean[i] = s / double(v.size());
    lo = std::min(lo, v.front()), hi = std::max(hi, v.back());
  }
  double lead_lo = INFINITY, lead_hi = -INFINITY;
  for (double l : lead_hours)
    if (std::isfinite(l)) lead_lo = std::min(lead_lo, l), lead_hi = std::max(lead_hi, l);
  if (!std::isfinite(lead_lo)) lead_lo = 0, lead_hi = 24;
  if (std::isfinite(lo)) {
    const double pad = (hi - lo) * 0.05;
    lo -= pad, hi += pad;
  }

  const int W = std::max(style.width, 480), H = std::max(style.height, 320);
  Canvas canvas(W, H);
  cairo_t* cr = canvas.cr();
  const bool valid = style.reference_time.has_value();
  const double top = style.subtitle.empty() ? 56 : 74;
  struct {
    double x0, y0, x1, y1;
  } f{90, top, W - 190.0, H - (valid ? 84.0 : 64.0)};
  const TickAxis xa = lead_axis(lead_lo, lead_hi), ya = value_axis(lo, hi);
  auto X = [&](double lead) { return f.x0 + xa.frac(lead) * (f.x1 - f.x0); };
  auto Y = [&](double val) { return f.y1 - ya.frac(val) * (f.y1 - f.y0); };

  set_color(cr, {0, 0, 0});
  const std::string title = style.variable.empty() ? style.site : style.site + ": " + style.variable;
  text(cr, title, (f.x0 + f.x1) / 2, 14, 20, 0.5, 0, true);
  if (!style.subtitle.empty()) {
    set_color(cr, {0.3, 0.3, 0.3});
    text(cr, style.subtitle, (f.x0 + f.x1) / 2, 44, 14, 0.5, 0);
  }
  // Axes: grid lines, ticks and labels.
  cairo_set_line_width(cr, 1);
  for (double val : ya.ticks()) {
    const double y = std::round(Y(val)) + 0.5;
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, f.x0, y);
    cairo_line_to(cr, f.x1, y);
    cairo_stroke(cr);
    set_color(cr, {0.2, 0.2, 0.2});
    cairo_move_to(cr, f.x0 - 5, y);
    cairo_line_to(cr, f.x0, y);
    cairo_stroke(cr);
    text(cr, ya.label(val), f.x0 - 8, y, 13, 1, 0.5);
  }
  for (double lead : xa.ticks()) {
    const double x = std::round(X(lead)) + 0.5;
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, x, f.y0);
    cairo_line_to(cr, x, f.y1);
    cairo_stroke(cr);
    set_color(cr, {0.2, 0.2, 0.2});
    cairo_move_to(cr, x, f.y1);
    cairo_line_to(cr, x, f.y1 + 5);
    cairo_stroke(cr);
    text(cr, xa.label(lead), x, f.y1 + 8, 13, 0.5, 0);
    if (valid) {
      set_color(cr, {0.35, 0.35, 0.35});
      const auto t = *style.reference_time + std::chrono::seconds(std::llround(lead * 3600));
      text(cr, valid_label(t), x, f.y1 + 26, 11, 0.5, 0);
    }
  }
  set_color(cr, {0, 0, 0});
  text(cr, valid ? "lead time (h) / valid time (UTC)" : "lead time (h)", (f.x0 + f.x1) / 2, H - 24.0, 14, 0.5, 0);
  const std::string ylabel = style.units.empty() ? style.variable : style.variable + " (" + style.units + ")";
  vertical_text(cr, ylabel, 24, (f.y0 + f.y1) / 2, 14);

  cairo_save(cr);
  cairo_rectangle(cr, f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  // P10-P90 band, one polygon per run of finite lead times.
  for (std::size_t i = 0; i < nt;) {
    if (!std::isfinite(p10[i]) || !std::isfinite(lead_hours[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < nt && std::isfinite(p10[j]) && std::isfinite(lead_hours[j])) ++j;
    if (j - i >= 2) {
      cairo_move_to(cr, X(lead_hours[i]), Y(p90[i]));
      for (std::size_t k = i + 1; k < j; ++k) cairo_line_to(cr, X(lead_hours[k]), Y(p90[k]));
      for (std::size_t k = j; k-- > i;) cairo_line_to(cr, X(lead_hours[k]), Y(p10[k]));
      cairo_close_path(cr);
      set_color(cr, kPlumeBandColour);
      cairo_fill(cr);
    }
    i = j;
  }
  auto polyline = [&](const auto& series) {  // breaks at NaN; dots for isolated points
    bool pen = false;
    for (std::size_t i = 0; i < nt; ++i) {
      const double val = series[i];
      if (!std::isfinite(val) || !std::isfinite(lead_hours[i])) {
        pen = false;
        continue;
      }
      const bool alone = (i == 0 || !std::isfinite(series[i - 1])) && (i + 1 >= nt || !std::isfinite(series[i + 1]));
      if (alone) {
        cairo_new_sub_path(cr);
        cairo_arc(cr, X(lead_hours[i]), Y(val), 1.5, 0, 2 * M_PI);
        pen = false;
        continue;
      }
      (pen ? cairo_line_to : cairo_move_to)(cr, X(lead_hours[i]), Y(val));
      pen = true;
    }
    cairo_stroke(cr);
  };
  cairo_set_line_width(cr, 1.3);
  for (std::size_t m = 0; m < nm; ++m) {
    const auto& c = member_palette()[m % member_palette().size()];
    cairo_set_source_rgba(cr, c[0], c[1], c[2], 0.9);
    polyline(members[m]);
  }
  set_color(cr, kPlumeMedianColour);
  cairo_set_line_width(cr, 3);
  polyline(p50);
  if (style.show_mean) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 2);
    const double dash[] = {7, 4};
    cairo_set_dash(cr, dash, 2, 0);
    polyline(mean);
    cairo_set_dash(cr, nullptr, 0, 0);
  }
  cairo_restore(cr);
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, std::round(f.x0) + 0.5, std::round(f.y0) + 0.5, std::round(f.x1 - f.x0),
                  std::round(f.y1 - f.y0));
  cairo_stroke(cr);
  if (nm == 0) {
    set_color(cr, {0.4, 0.4, 0.4});
    text(cr, "no members", (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2, 16, 0.5, 0.5);
  }

  // Legend.
  const double lx = f.x1 + 18;
  double y = f.y0 + 6;
  cairo_set_line_width(cr, 1.3);
  for (std::size_t k = 0; k < std::min<std::size_t>(3, std::max<std::size_t>(nm, 1)); ++k) {
    set_color(cr, member_palette()[k]);
    cairo_move_to(cr, lx, y + 4 + 4.0 * double(k));
    cairo_line_to(cr, lx + 34, y + 4 + 4.0 * double(k));
    cairo_stroke(cr);
  }
  set_color(cr, {0, 0, 0});
  text(cr, fmt::format("members ({})", nm), lx + 44, y + 8, 13, 0, 0.5);
  y += 28;
  set_color(cr, kPlumeBandColour);
  cairo_rectangle(cr, lx, y + 2, 34, 14);
  cairo_fill(cr);
  set_color(cr, {0, 0, 0});
  text(cr, "P10-P90", lx + 44, y + 9, 13, 0, 0.5);
  y += 28;
  set_color(cr, kPlumeMedianColour);
  cairo_set_line_width(cr, 3);
  cairo_move_to(cr, lx, y + 9);
  cairo_line_to(cr, lx + 34, y + 9);
  cairo_stroke(cr);
  set_color(cr, {0, 0, 0});
  text(cr, "median (P50)", lx + 44, y + 9, 13, 0, 0.5);
  if (style.show_mean) {
    y += 28;
    cairo_set_line_width(cr, 2);
    const double dash[] = {7, 4};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, lx, y + 9);
    cairo_line_to(cr, lx + 34, y + 9);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    text(cr, "ensemble mean", lx + 44, y + 9, 13, 0, 0.5);
  }
  canvas.write(path);
}

}  // namespace gale
