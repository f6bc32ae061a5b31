#pragma once
// PNG maps of a field on any Grid (plate carrée, coastlines from Natural Earth land
// polygons read with shapelib) and per-site plume / meteogram figures, drawn with cairo
// and written atomically (AtomicOutput: temp file, rename, `<path>.sha256`). Every
// function throws InputError naming the path when the PNG cannot be written; no partial
// PNG ever appears under the final name.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"

namespace gale {

// The directory holding Natural Earth's {10m,50m,110m}/ne_*_land.shp (Debian's
// libmagics++-data installs them under /usr/share/magics); the build's GALE_COASTLINE_DIR.
std::string default_coastline_dir();

// Colour scales by product kind.
//  sequential:  means, percentiles (viridis); range automatic or fixed.
//  spread:      standard deviations (white -> yellow -> red -> purple), always from 0.
//  probability: fixed 0..1 in ten discrete steps of 0.1, white below 0.1.
//  diverging:   anomalies, EFI (blue - white - red), symmetric about 0 when automatic.
enum class ColourScale { sequential, spread, probability, diverging };

// A lat/lon box. lon_west < lon_east after adding 360 to lon_east when it is not greater
// (so 350..2 and -10..2 are the same box); longitudes may be given in either convention.
struct MapBox {
  double lat_south = -90, lat_north = 90, lon_west = -180, lon_east = 180;
};

struct MapStyle {
  std::string title;     // bold, first line
  std::string subtitle;  // e.g. "reference 2019-03-01T00Z, +24 h"; empty: none
  std::string units;     // shown next to the colour bar
  ColourScale scale = ColourScale::sequential;
  // Fixed range; either unset: automatic (robust: the 1st / 99th percentile of the finite
  // values). Ignored for probability (always 0..1); spread always starts at 0.
  std::optional<double> min, max;
  // Extent. Unset: global (-180..180, -90..90) for global grids, the grid's own extent
  // (half a cell beyond its outer points) for regional ones.
  std::optional<MapBox> box;
  std::string coastline_dir = default_coastline_dir();
  // "auto" (110m for global maps and boxes >= 40 deg, 50m below), "110m", "50m", "10m",
  // or "none" (no coastlines, no shapefile needed).
  std::string coastline_resolution = "auto";
  int width = 1200;       // figure width, pixels
  int max_map_height = 800;  // the map shrinks (keeping plate carrée) to stay below this
};

// Pixel geometry of a map figure, for callers and tests that locate a lat/lon.
struct MapLayout {
  int width = 0, height = 0;          // figure, pixels
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // map frame [x0, x1) x [y0, y1)
  double lon_west = -180, lon_east = 180, lat_south = -90, lat_north = 90;
  // Pixel coordinates (continuous) of a longitude (any 360 shift: brought into
  // [lon_west, lon_west + 360)) and of a latitude.
  double x(double lon) const;
  double y(double lat) const;
};
MapLayout map_layout(const Grid& grid, const MapStyle& style);

// The colour range the map uses for `values` (grid.size() of them): lo < hi always.
std::pair<double, double> map_range(const MapStyle& style, const float* values, std::size_t n);
// The colour (r, g, b in 0..1) of value `v` on `scale` over [lo, hi] (clamped at the
// ends). NaN: the no-data grey.
std::array<double, 3> map_colour(ColourScale scale, double lo, double hi, double v);

// A map of `values` (grid.size() floats, NaN where missing) on `grid`: regular and
// regular Gaussian grids as filled cells, reduced Gaussian grids as cells along each row,
// meshes as a nearest-point raster; NaN cells transparent over a grey land/sea
// background; coastlines; a graticule with labels; a colour bar with ticks and units;
// title and subtitle. Throws InputError naming the shapefile when it is missing (hint:
// install libmagics++-data) and naming `path` when the PNG cannot be written;
// ConfigError for an invalid box.
void plot_map(const Grid& grid, const float* values, const MapStyle& style, const std::string& path);

// Per-site plume (meteogram) of one variable.
struct PlumeStyle {
  std::string site;      // title: "<site>: <variable>"
  std::string variable;  // e.g. "2 m temperature"
  std::string units;     // y-axis label "<variable> (<units>)"
  std::string subtitle;  // e.g. "51.5N 0.1W, ensemble of 50"; empty: none
  // Set: the x axis shows valid times (day/hour UTC) below the lead-time ticks.
  std::optional<TimePoint> reference_time;
  bool show_mean = true;  // the ensemble mean, dashed
  int width = 960, height = 560;
};

// x: lead time (h); a thin line per member (distinct colours, broken at NaN), the shaded
// P10-P90 band, the P50 line and, optionally, the ensemble mean dashed, with a legend.
// `members[m][i]` is member m at `lead_hours[i]`; every member has lead_hours.size()
// values (InternalError otherwise). Percentiles ignore NaN members.
void plot_site_plume(const std::vector<double>& lead_hours, const std::vector<std::vector<float>>& members,
                     const PlumeStyle& style, const std::string& path);

// The colours (r, g, b in 0..1) of the plume's elements, for tests and legends elsewhere.
inline constexpr std::array<double, 3> kPlumeBandColour{0.78, 0.86, 0.95};
inline constexpr std::array<double, 3> kPlumeMedianColour{0.03, 0.19, 0.42};

}  // namespace gale
