#pragma once
// A Stepper maps a State at its input times to the State one time step later. Models,
// their wrappers (normalisation, residual, rollout, samplers) and physics (the nature-run
// dynamics) all implement it, so the ensemble runner never knows which one it drives.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/state.hpp"

namespace gale {

// Every random draw of a step derives from this key, so member m's trajectory is the
// same whatever rank computes it and whatever else runs.
struct StepKey {
  std::uint64_t run_seed = 0;
  int member = 0;
  int step = 0;
  std::uint64_t hash() const;  // a well-mixed 64-bit seed from the three
};

class Stepper {
 public:
  virtual ~Stepper() = default;
  virtual std::string name() const = 0;
  // Variables and grid the stepper reads and writes (its State handshake).
  virtual std::vector<Variable> variables() const = 0;
  virtual std::shared_ptr<const Grid> grid() const = 0;
  virtual std::size_t input_times() const = 0;  // 1 for a Markov model, 2 for GraphCast-style
  virtual Duration time_step() const = 0;
  // inputs: one member, input_times() times (oldest first), variables() on grid().
  // Returns one member at the last input time + time_step().
  virtual State step(const State& inputs, const StepKey& key) = 0;
};

}  // namespace gale
