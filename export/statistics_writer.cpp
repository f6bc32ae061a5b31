#include "export/statistics_writer.hpp"

#include <fmt/format.h>
#include <netcdf.h>

#include "core/errors.hpp"
#include "export/atomic_file.hpp"
#include "export/nc_writer.hpp"

namespace gale {

void write_statistics_netcdf(const std::string& path, const Grid& grid, TimePoint reference, TimePoint valid,
                             int members, const std::vector<StatisticsField>& fields, const std::vector<float>& data) {
  if (data.size() != fields.size() * grid.size())
    throw InternalError("write_statistics_netcdf: data size does not match fields x points");
  AtomicOutput output(path);
  NcWriter nc(path, output.temp_path());
  const bool regular = grid.kind() == GridKind::regular_ll || grid.kind() == GridKind::regular_gaussian;
  int time_dim, time_var, ref_var, period_var;
  nc.check(nc_def_dim(nc.id(), "time", 1, &time_dim), "time");
  const std::string units = "hours since " + iso8601(reference).substr(0, 10) + " " + iso8601(reference).substr(11, 8);
  nc.check(nc_def_var(nc.id(), "time", NC_DOUBLE, 1, &time_dim, &time_var), "time");
  nc.text(time_var, "standard_name", "time");
  nc.text(time_var, "units", units);
  nc.text(time_var, "calendar", "proleptic_gregorian");
  nc.check(nc_def_var(nc.id(), "forecast_reference_time", NC_DOUBLE, 0, nullptr, &ref_var), "reference");
  nc.text(ref_var, "standard_name", "forecast_reference_time");
  nc.text(ref_var, "units", units);
  nc.check(nc_def_var(nc.id(), "forecast_period", NC_DOUBLE, 1, &time_dim, &period_var), "period");
  nc.text(period_var, "standard_name", "forecast_period");
  nc.text(period_var, "units", "hours");
  std::vector<int> dims{time_dim};
  int lat_var, lon_var;
  if (regular) {
    int lat_dim, lon_dim;
    nc.check(nc_def_dim(nc.id(), "latitude", grid.rows(), &lat_dim), "latitude");
    nc.check(nc_def_dim(nc.id(), "longitude", grid.longitudes().size(), &lon_dim), "longitude");
    nc.check(nc_def_var(nc.id(), "latitude", NC_DOUBLE, 1, &lat_dim, &lat_var), "latitude");
    nc.check(nc_def_var(nc.id(), "longitude", NC_DOUBLE, 1, &lon_dim, &lon_var), "longitude");
    dims.push_back(lat_dim);
    dims.push_back(lon_dim);
  } else {
    int values_dim;
    nc.check(nc_def_dim(nc.id(), "values", grid.size(), &values_dim), "values");
    nc.check(nc_def_var(nc.id(), "latitude", NC_DOUBLE, 1, &values_dim, &lat_var), "latitude");
    nc.check(nc_def_var(nc.id(), "longitude", NC_DOUBLE, 1, &values_dim, &lon_var), "longitude");
    dims.push_back(values_dim);
  }
  nc.text(lat_var, "standard_name", "latitude");
  nc.text(lat_var, "units", "degrees_north");
  nc.text(lon_var, "standard_name", "longitude");
  nc.text(lon_var, "units", "degrees_east");
  nc.text(NC_GLOBAL, "Conventions", "CF-1.10");
  nc.text(NC_GLOBAL, "title", "Gale ensemble statistics");
  const int ensemble_size = members;
  nc.check(nc_put_att_int(nc.id(), NC_GLOBAL, "ensemble_members", NC_INT, 1, &ensemble_size), "attributes");
  std::vector<int> ids;
  const float fill = NAN;
  for (const auto& f : fields) {
    int id;
    nc.check(nc_def_var(nc.id(), f.name.c_str(), NC_FLOAT, int(dims.size()), dims.data(), &id), f.name);
    nc.check(nc_def_var_fill(nc.id(), id, 0, &fill), f.name);
    nc.check(nc_def_var_deflate(nc.id(), id, 1, 1, 1), f.name);
    nc.text(id, "units", f.units);
    nc.text(id, "long_name", f.long_name);
    if (!regular) nc.text(id, "coordinates", "latitude longitude");
    ids.push_back(id);
  }
  nc.check(nc_enddef(nc.id()), "header");
  const double hours = std::chrono::duration<double>(valid - reference).count() / 3600;
  const double zero = 0;
  nc.check(nc_put_var_double(nc.id(), time_var, &hours), "time");
  nc.check(nc_put_var_double(nc.id(), ref_var, &zero), "reference");
  nc.check(nc_put_var_double(nc.id(), period_var, &hours), "period");
  if (regular) {
    nc.check(nc_put_var_double(nc.id(), lat_var, grid.row_latitudes().data()), "latitude");
    nc.check(nc_put_var_double(nc.id(), lon_var, grid.longitudes().data()), "longitude");
  } else {
    nc.check(nc_put_var_double(nc.id(), lat_var, grid.lat().data()), "latitude");
    nc.check(nc_put_var_double(nc.id(), lon_var, grid.lon().data()), "longitude");
  }
  for (std::size_t i = 0; i < ids.size(); ++i)
    nc.check(nc_put_var_float(nc.id(), ids[i], data.data() + i * grid.size()), fields[i].name);
  nc.close();
  output.commit();
}

}  // namespace gale
