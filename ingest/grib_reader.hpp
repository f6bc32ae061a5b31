#pragma once
#include <memory>
#include <string>

#include "ingest/field.hpp"

namespace gale {
// GRIB editions 1 and 2 through ecCodes: regular lat-lon (every scanning mode), regular
// and reduced Gaussian grids. The whole file is framed and checked at open: bytes that
// belong to no message (a truncated tail, garbage between messages) are an error, so a
// message count can never silently shrink.
std::unique_ptr<Reader> make_grib_reader(const std::string& path);
}  // namespace gale
