#pragma once
// GRIB2 products from a State, one message per (member, time, variable), readable back by
// ingest's GRIB reader and by grib_ls / cfgrib.
//
// - Messages start from the ecCodes samples regular_ll_{pl,sfc}_grib2 (regular lat-lon)
//   or regular_gg_{pl,sfc}_grib2 (regular Gaussian, gridType regular_gg with N = rows/2);
//   reduced Gaussian grids and meshes are UnsupportedError.
// - paramId is the lexicon entry's first GRIB paramId (orography: 228002). Setting it
//   lets ecCodes choose the level type the parameter is defined on: isobaricInhPa + level
//   for upper-air variables, heightAboveGround 2/10/100 for 2t/10u/100u, meanSea for msl,
//   surface/entireAtmosphere for the rest. Accumulated parameters (tp, ssrd) need a time
//   range (templates 8/11) and are UnsupportedError for now, as are model levels.
// - dataDate/dataTime = reference time; step = valid - reference, in hours (minutes when
//   not whole hours); negative steps are UnsupportedError.
// - Ensembles: product definition template 1 with typeOfEnsembleForecast 0 (unperturbed
//   control) for member 0 and 3 (positively perturbed) for the others (code table 4.6;
//   Gale's members are not +/- pairs), perturbationNumber = member index,
//   numberOfForecastsInEnsemble = members, typeOfProcessedData cf/pf,
//   typeOfGeneratingProcess 4. Deterministic output: template 0, typeOfProcessedData fc.
// - Values are simple-packed with `bits_per_value` bits (error <= range / 2^bits); NaN
//   becomes a bitmap-missing point. Canonical units are GRIB's units for every lexicon
//   entry written, so values are not converted.
// - The file appears atomically (temporary name, fsync, rename) with `<path>.sha256`.
#include <string>

#include "core/state.hpp"

namespace gale {

struct GribWriteOptions {
  // Template 1 (individual ensemble forecast) when the State has more than one member, or
  // when force_ensemble is set (a single member of an ensemble). false: template 0, which
  // allows only single-member States.
  bool ensemble = true;
  bool force_ensemble = false;
  int bits_per_value = 16;  // simple packing, 1..32
};

// Writes `state` to `path`. Throws InputError naming the path when the file cannot be
// written (no partial file is left behind), UnsupportedError for grids, levels or
// parameters GRIB2 output does not handle yet, ConfigError for invalid options, and
// InternalError for an inconsistent State or an ecCodes failure while encoding.
void write_state_grib2(const State& state, const std::string& path,
                       const GribWriteOptions& options = {});

}  // namespace gale
