#pragma once
// Initial-condition perturbations of one analysis: Gaussian random fields on the sphere
// with a spatial correlation length, per-variable amplitudes, seeded by (run seed,
// member). Member 0 (the control) is never perturbed.
#include <cstdint>
#include <map>
#include <string>

#include "core/state.hpp"

namespace gale {

struct PerturbationSpec {
  std::string type = "none";                 // none | gaussian
  double correlation_km = 500;               // e-folding length of the correlation
  std::map<std::string, double> amplitude;   // variable key -> standard deviation (canonical units)
};

// Adds the perturbation for `member` to member `slot` of `state` (all times).
void perturb(State& state, std::size_t slot, int member, const PerturbationSpec& spec, std::uint64_t run_seed);

}  // namespace gale
