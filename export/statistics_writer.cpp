#include "export/statistics_writer.hpp"

#include <fmt/format.h>
#include <netcdf.h>

#include "core/errors.hpp"
#include "export/atomic_file.hpp"

namespace gale {

namespace {
void check(int status, const std::string& path, const std::string& what) {
  if (status != NC_NOERR) throw InputError(fmt::format("{}: cannot write {}: {}", path, what, nc_strerror(status)));
}
void text_attribute(int nc, int var, const char* name, const std::string& value, const std::string& path) {
  check(nc_put_att_text(nc, var, name, value.size(), value.c_str()), path, name);
}
}  // namespace

void write_statistics_netcdf(const std::string& path, const Grid& grid, TimePoint reference, TimePoint valid,
                             int members, const std::vector<StatisticsField>& fields, const std::vector<float>& data) {
  if (data.size() != fields.size() * grid.size())
    throw InternalError("write_statistics_netcdf: data size does not match fields x points");
  AtomicOutput output(path);
  int nc = -1;
  check(nc_create(output.temp_path().c_str(), NC_CLOBBER | NC_NETCDF4, &nc), path, "file");
  struct Closer {
    int& id;
    ~Closer() {
      if (id >= 0) nc_close(id);
    }
  } closer{nc};
  const bool regular = grid.kind() == GridKind::regular_ll || grid.kind() == GridKind::regular_gaussian;
  int time_dim, time_var, ref_var, period_var;
  check(nc_def_dim(nc, "time", 1, &time_dim), path, "time");
  const std::string units = "hours since " + iso8601(reference).substr(0, 10) + " " + iso8601(reference).substr(11, 8);
  check(nc_def_var(nc, "time", NC_DOUBLE, 1, &time_dim, &time_var), path, "time");
  text_attribute(nc, time_var, "standard_name", "time", path);
  text_attribute(nc, time_var, "units", units, path);
  text_attribute(nc, time_var, "calendar", "proleptic_gregorian", path);
  check(nc_def_var(nc, "forecast_reference_time", NC_DOUBLE, 0, nullptr, &ref_var), path, "reference");
  text_attribute(nc, ref_var, "standard_name", "forecast_reference_time", path);
  text_attribute(nc, ref_var, "units", units, path);
  check(nc_def_var(nc, "forecast_period", NC_DOUBLE, 1, &time_dim, &period_var), path, "period");
  text_attribute(nc, period_var, "standard_name", "forecast_period", path);
  text_attribute(nc, period_var, "units", "hours", path);
  std::vector<int> dims{time_dim};
  int lat_var, lon_var;
  if (regular) {
    int lat_dim, lon_dim;
    check(nc_def_dim(nc, "latitude", grid.rows(), &lat_dim), path, "latitude");
    check(nc_def_dim(nc, "longitude", grid.longitudes().size(), &lon_dim), path, "longitude");
    check(nc_def_var(nc, "latitude", NC_DOUBLE, 1, &lat_dim, &lat_var), path, "latitude");
    check(nc_def_var(nc, "longitude", NC_DOUBLE, 1, &lon_dim, &lon_var), path, "longitude");
    dims.push_back(lat_dim);
    dims.push_back(lon_dim);
  } else {
    int values_dim;
    check(nc_def_dim(nc, "values", grid.size(), &values_dim), path, "values");
    check(nc_def_var(nc, "latitude", NC_DOUBLE, 1, &values_dim, &lat_var), path, "latitude");
    check(nc_def_var(nc, "longitude", NC_DOUBLE, 1, &values_dim, &lon_var), path, "longitude");
    dims.push_back(values_dim);
  }
  text_attribute(nc, lat_var, "standard_name", "latitude", path);
  text_attribute(nc, lat_var, "units", "degrees_north", path);
  text_attribute(nc, lon_var, "standard_name", "longitude", path);
  text_attribute(nc, lon_var, "units", "degrees_east", path);
  text_attribute(nc, NC_GLOBAL, "Conventions", "CF-1.10", path);
  text_attribute(nc, NC_GLOBAL, "title", "Gale ensemble statistics", path);
  const int ensemble_size = members;
  check(nc_put_att_int(nc, NC_GLOBAL, "ensemble_members", NC_INT, 1, &ensemble_size), path, "attributes");
  std::vector<int> ids;
  const float fill = NAN;
  for (const auto& f : fields) {
    int id;
    check(nc_def_var(nc, f.name.c_str(), NC_FLOAT, int(dims.size()), dims.data(), &id), path, f.name);
    check(nc_def_var_fill(nc, id, 0, &fill), path, f.name);
    check(nc_def_var_deflate(nc, id, 1, 1, 1), path, f.name);
    text_attribute(nc, id, "units", f.units, path);
    text_attribute(nc, id, "long_name", f.long_name, path);
    if (!regular) text_attribute(nc, id, "coordinates", "latitude longitude", path);
    ids.push_back(id);
  }
  check(nc_enddef(nc), path, "header");
  const double hours = std::chrono::duration<double>(valid - reference).count() / 3600;
  const double zero = 0;
  check(nc_put_var_double(nc, time_var, &hours), path, "time");
  check(nc_put_var_double(nc, ref_var, &zero), path, "reference");
  check(nc_put_var_double(nc, period_var, &hours), path, "period");
  if (regular) {
    check(nc_put_var_double(nc, lat_var, grid.row_latitudes().data()), path, "latitude");
    check(nc_put_var_double(nc, lon_var, grid.longitudes().data()), path, "longitude");
  } else {
    check(nc_put_var_double(nc, lat_var, grid.lat().data()), path, "latitude");
    check(nc_put_var_double(nc, lon_var, grid.lon().data()), path, "longitude");
  }
  for (std::size_t i = 0; i < ids.size(); ++i)
    check(nc_put_var_float(nc, ids[i], data.data() + i * grid.size()), path, fields[i].name);
  check(nc_close(nc), path, "file");
  nc = -1;
  output.commit();
}

}  // namespace gale
