#include "export/statistics_writer.hpp"

#include <fmt/format.h>
#include <netcdf.h>

#include <cmath>

#include "core/errors.hpp"
#include "export/atomic_file.hpp"
#include "export/cf_axes.hpp"
#include "export/nc_writer.hpp"

namespace gale {

void write_statistics_netcdf(const std::string& path, const Grid& grid, TimePoint reference, TimePoint valid,
                             int members, const std::vector<StatisticsField>& fields, const std::vector<float>& data) {
  if (data.size() != fields.size() * grid.size())
    throw InternalError("write_statistics_netcdf: data size does not match fields x points");
  AtomicOutput output(path);
  {
    std::lock_guard lock(netcdf_write_mutex());
    NcWriter nc(path, output.temp_path());
    // No history line: the file must not depend on when it was written (ranks compare checksums).
    put_cf_globals(nc, path, CfGlobals{"Gale ensemble statistics", "", "", "", "", {}, {}});
    const int ensemble_size = members;
    nc.check(nc_put_att_int(nc.id(), NC_GLOBAL, "ensemble_members", NC_INT, 1, &ensemble_size), "attributes");
    const auto time_axes = define_time_axes(nc, reference, 1);
    const auto horizontal = define_horizontal_axes(nc, grid);
    std::vector<int> dims{time_axes.dim};
    for (const int d : horizontal.dims()) dims.push_back(d);
    std::vector<int> ids;
    const float fill = NAN;
    for (const auto& f : fields) {
      const int id = nc.var(f.name, NC_FLOAT, dims);
      nc.check(nc_def_var_fill(nc.id(), id, 0, &fill), f.name);
      nc.check(nc_def_var_deflate(nc.id(), id, 1, 1, 1), f.name);
      nc.text(id, "units", f.units);
      nc.text(id, "long_name", f.long_name);
      nc.text(id, "coordinates", horizontal.auxiliary() + (horizontal.structured ? "" : " ") +
                                     "forecast_reference_time forecast_period");
      ids.push_back(id);
    }
    nc.check(nc_enddef(nc.id()), "header");
    put_time_axes(nc, time_axes, reference, {valid});
    put_horizontal_axes(nc, horizontal, grid);
    std::vector<float> buffer;
    for (std::size_t i = 0; i < ids.size(); ++i)
      nc.check(nc_put_var_float(nc.id(), ids[i], horizontal.file_order(grid, data.data() + i * grid.size(), buffer)),
               fields[i].name);
    nc.close();
  }
  output.commit();
}

}  // namespace gale
