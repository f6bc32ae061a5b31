#pragma once
// The CF pieces every gridded NetCDF product shares (see shared/CONVENTIONS.md): global
// attributes, the time axes (time, forecast_reference_time, forecast_period) and the
// horizontal axes (1-D latitude/longitude on regular grids, auxiliary latitude(values),
// longitude(values) otherwise). Define in define mode, put after nc_enddef.
#include <map>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"
#include "export/nc_writer.hpp"

namespace gale {

struct CfGlobals {
  std::string title, institution, source, comment, references;
  // Oldest first; a line without a leading ISO 8601 timestamp gets the current UTC time.
  // None: no history attribute (reproducible products carry provenance attributes instead).
  std::vector<std::string> history;
  // Further attributes (provenance); names made NetCDF-safe. The names above are reserved:
  // ConfigError when one is used here.
  std::map<std::string, std::string> attributes;
};
// Conventions, title, institution, source, history, references, comment.
bool is_reserved_attribute(const std::string& name);
void put_cf_globals(NcWriter& nc, const std::string& path, const CfGlobals& globals);

struct TimeAxes {
  int dim = -1, time = -1, reference = -1, period = -1;
};
// time(time) in "hours since <reference>", scalar forecast_reference_time, forecast_period(time).
TimeAxes define_time_axes(NcWriter& nc, TimePoint reference, std::size_t times);
void put_time_axes(NcWriter& nc, const TimeAxes& axes, TimePoint reference, const std::vector<TimePoint>& valid);

// time_bnds(time, bnds) for quantities over an interval (accumulations, daily values):
// `time:bounds = "time_bnds"`; pair each data variable with a `cell_methods` "time: ...".
int define_time_bounds(NcWriter& nc, const TimeAxes& axes);
void put_time_bounds(NcWriter& nc, int bounds, TimePoint reference,
                     const std::vector<std::pair<TimePoint, TimePoint>>& intervals);

struct HorizontalAxes {
  bool structured = false;  // latitude x longitude (regular lat-lon, regular Gaussian)
  int lat_dim = -1, lon_dim = -1, values_dim = -1, lat = -1, lon = -1;
  // First grid column of the file's longitude axis (see monotonic_longitude_start); 0 keeps
  // the grid's own column order.
  std::size_t lon_start = 0;
  std::vector<int> dims() const;                            // (latitude, longitude) or (values)
  std::vector<std::size_t> shape(const Grid& grid) const;  // their lengths
  // What a data variable's `coordinates` attribute names besides the scalar coordinates.
  std::string auxiliary() const { return structured ? "" : "latitude longitude"; }
  // The file-order longitude axis values (structured grids).
  std::vector<double> file_longitudes(const Grid& grid) const;
  // One field (grid order) in file column order: `field` itself when lon_start is 0, else
  // its rows rotated into `buffer`.
  const float* file_order(const Grid& grid, const float* field, std::vector<float>& buffer) const;
};
// Gale's regular grids hold longitudes ascending in [0, 360), so a regional grid crossing
// 0 E (ERA5's UK area 10 W .. 2 E) is 0..2 then 350..359.75: a 1-D axis that is not evenly
// spaced, which Gale's NetCDF reader refuses and cdo takes for a global, circular axis.
// Such a grid is written from the column after its widest gap, the columns before 0 E as
// negative longitudes (-10..2 E, as ERA5 NetCDF from the CDS has it): this returns that
// column, or 0 when the grid's own order is already the right axis (global grids, grids
// not crossing 0 E, meshes).
std::size_t monotonic_longitude_start(const Grid& grid);
// The longitude axis starts at monotonic_longitude_start, so every field must be written
// through HorizontalAxes::file_order.
HorizontalAxes define_horizontal_axes(NcWriter& nc, const Grid& grid);
void put_horizontal_axes(NcWriter& nc, const HorizontalAxes& axes, const Grid& grid);

// Scalar pressure coordinate `name` (hPa, positive down) for a single-level slice of an
// upper-air variable.
int define_scalar_pressure(NcWriter& nc, const std::string& name);

// "2017-01-01T00:00:00Z" -> "2017-01-01 00:00:00" (UDUNITS/cftime-friendly; UTC).
std::string cf_time_origin(TimePoint t);

}  // namespace gale
