#pragma once
// The ensemble engine: N members x T steps of any Stepper spread over MPI ranks, with
// streaming statistics per lead time (written as each lead completes), per-member
// checkpoints for resuming, and health checks on every step.
#include <mpi.h>

#include <map>
#include <string>
#include <vector>

#include "core/state.hpp"
#include "core/stepper.hpp"
#include "ensemble/perturbation.hpp"
#include "ensemble/statistics.hpp"

namespace gale {

struct EnsembleSpec {
  int members = 10;
  int steps = 4;
  std::uint64_t seed = 1;
  PerturbationSpec perturbation;
  std::vector<double> percentiles{10, 50, 90};
  std::map<std::string, std::vector<double>> thresholds;  // variable key -> thresholds
  bool check_ranges = true;
  // A member with NaN/Inf or out-of-range values: stop the run (false), or drop the member
  // from the statistics, report it, and go on (true). A dropped member stays dropped on resume.
  bool drop_bad_members = false;
  std::string run_dir;  // stats/lead_NNN.nc, checkpoints/member_MMM/lead_NNN.bin
};

// Members assigned to `rank` of `ranks`: a contiguous, balanced block [first, last).
std::pair<int, int> member_block(int members, int rank, int ranks);

struct EnsembleResult {
  std::vector<std::string> statistics_files;  // on rank 0: one per lead, in order
  int leads_computed = 0;                     // leads this call computed (resume skips the rest)
};

// `initial`: the analysis (1 member, the stepper's input times) or an ensemble with
// exactly `members` members (taken as they are). Collective over `comm`. With `resume`,
// leads whose statistics file exists are not recomputed: each member restarts from its
// checkpoint at the first missing lead. Throws DataError naming member, step and variable
// on NaN/Inf or out-of-range values (on every rank, so no rank hangs).
EnsembleResult run_ensemble(MPI_Comm comm, Stepper& stepper, const State& initial, const EnsembleSpec& spec,
                            bool resume = false);

// Every member's trajectory of a finished run (leads 1..steps, from the per-member
// checkpoints in spec.run_dir), for products: [member, lead, variable, point]. Dropped
// members are left out (their indices in `dropped`). Reads files only (no MPI).
State load_ensemble_members(const EnsembleSpec& spec, const std::vector<Variable>& variables,
                            const std::shared_ptr<const Grid>& grid, TimePoint analysis_time, Duration step,
                            std::vector<int>* dropped = nullptr);

}  // namespace gale
