#pragma once
#include <memory>
#include <string>

#include "ingest/field.hpp"

namespace gale {
// NetCDF (classic, 64-bit offset, NetCDF-4/HDF5) through the NetCDF-C library, root group
// only. Every variable whose last two dimensions are 1-D latitude and longitude axes, and
// whose other dimensions are time, pressure level, ensemble member or climatological month
// axes, yields one FieldHeader per 2-D slice, in file order. Packed data is unpacked
// (scale_factor, add_offset), _FillValue / missing_value become NaN, times are decoded
// from CF "<unit> since <date>" units (Gregorian calendars only), and the grid is put in
// canonical orientation (north -> south, longitudes ascending in [0, 360)).
//
// The file is scanned at open and reopened by read(); NetCDF-C is not thread-safe, so all
// library calls are serialised by one process-wide mutex.
std::unique_ptr<Reader> make_netcdf_reader(const std::string& path);
}  // namespace gale
