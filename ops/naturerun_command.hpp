#pragma once
// `gale naturerun`: runs the shallow-water nature run and writes ERA5-like CF NetCDF files
// (grouped per month, day or whole run) and, when configured, a GRIB2 file of perturbed
// initial states.
#include <string>
#include <vector>

#include "core/config.hpp"

namespace gale {

struct NatureRunOutputs {
  std::vector<std::string> netcdf_files;
  std::string ensemble_grib;  // empty when no ensemble was configured
};

NatureRunOutputs run_naturerun_command(const Config& config, const std::string& out_dir, bool show_progress);

}  // namespace gale
