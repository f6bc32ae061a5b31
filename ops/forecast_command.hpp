#pragma once
// `gale forecast` (and `mpirun -np R gale forecast`): an ensemble run of a Stepper from
// GRIB/NetCDF initial conditions, with statistics per lead time in the run directory.
//
// forecast:
//   input:                            # initial conditions (members taken when the input has them)
//     sources: [{path: naturerun/naturerun-2000-01.nc}]
//     time: 2000-01-15T00             # the analysis time (last input time)
//   model: {type: shallow-water, truncation: 42, dt_minutes: 15, step_hours: 6}
//   members: 10
//   steps: 20
//   seed: 1
//   perturbation: {type: gaussian, correlation_km: 500, amplitude: {z500: 100, u500: 1, v500: 1, t500: 0.5}}
//   statistics: {percentiles: [10, 50, 90], thresholds: {ws500: [20, 30]}}
//   check_ranges: true
//   on_bad_member: fail               # or drop: leave a NaN/out-of-range member out, report it, go on
//   products: {...}                   # optional: as `gale products` (ops/products_command.hpp)
//                                     # without members/output; written to <run>/products
//                                     # from every member's trajectory when the run ends
//   verify:                           # optional: scores against a truth in <run>/verification
//     truth: [{path: ../naturerun/naturerun-2000-12.nc}]
//     variables: [z500, t500]
//     regions: [global]
//   metrics: {pushgateway: http://127.0.0.1:9091, job: gale_forecast}  # optional (ops/run_metrics.hpp)
//   output: runs/2000011500          # run directory (relative to the config): config.yaml,
//                                     # provenance.json, stats/, checkpoints/, products/
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/stepper.hpp"
#include "ops/products_command.hpp"
#include "ops/verify_command.hpp"

namespace gale {

struct ForecastOutputs {
  std::string run_dir;
  int leads = 0, computed = 0;
  ProductsOutputs products;    // on rank 0, when the config has a products section
  VerifyOutputs verification;  // on rank 0, when the config has a verify section
};

// Learned models (LibTorch) are linked only into gale-ml, which registers their factory;
// the plain gale hands a forecast with `model: {type: gnn}` over to gale-ml.
// `sampler`: the model section's `sampler:` override of a diffusion checkpoint's sampler.
using LearnedStepperFactory = std::unique_ptr<Stepper> (*)(const std::string& checkpoint, int threads,
                                                           const std::optional<ConfigNode>& sampler);
void set_learned_stepper_factory(LearnedStepperFactory factory);
bool forecast_uses_learned_model(const Config& config);

// Collective: every rank calls it (MPI already initialised).
ForecastOutputs run_forecast_command(const Config& config, bool resume);

}  // namespace gale
