#pragma once
// `gale verify`: scores forecasts against truth (and baselines) and writes a score NetCDF,
// a CSV of scores, PNG figures (cairo) and a table on stdout. Every output is written
// atomically (with a `.sha256` beside it). Figures in the output directory:
//   score_<variable>_<region>.png       rmse (and persistence, climatology, spread) vs lead
//   rank_histogram_<variable>_<lead>h.png   global rank histogram, ensembles only
//   scorecard.png                       global variable x score x lead table, coloured by
//                                       skill against `reference` (else rmse against
//                                       persistence)
//
// verify:
//   forecasts:                      # one entry per case (a forecast run: members x leads)
//     - sources: [{path: run1/forecast.nc}]
//   truth: {sources: [{path: era5.grib}], member: 0}
//   climatology: {sources: [{path: clim.nc}]}    # optional: ACC and the climatology baseline
//   variables: [z500, t850]
//   regions: [global, tropics, northern_extratropics, southern_extratropics]   # optional
//   thresholds: {t850: [273.15]}    # optional: Brier scores
//   reference: baseline/scores.csv  # optional: another run's scores.csv (relative to this
//                                   # config) that colours the scorecard
//   output: verify-out              # directory for scores.nc, scores.csv and the PNGs
#include <string>
#include <vector>

#include "core/config.hpp"
#include "verify/verification.hpp"

namespace gale {

struct VerifyOutputs {
  std::string netcdf, csv, table;
  std::vector<std::string> plots;  // PNG paths
};

VerifyOutputs run_verify_command(const Config& config);

// The pieces, for runs that verify their own forecast (gale forecast's verify section):
// one case, truth (and climatology) remapped onto the forecast's grid; then scores.nc,
// scores.csv, the table and the figures in out_dir.
void add_verification_case(Verification& verification, const State& forecast, const State& truth_native,
                           const State* climatology);
VerifyOutputs write_verification(const Verification& verification, const std::string& out_dir,
                                 const std::vector<ScoreRow>* reference = nullptr);

}  // namespace gale
