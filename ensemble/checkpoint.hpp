#pragma once
// A member's State at one lead, saved for resuming: a small binary file (magic, shape,
// times, variable keys, float32 data, then a SHA-256 of all of it), written atomically.
#include <string>

#include "core/state.hpp"

namespace gale {
void save_member_checkpoint(const State& state, const std::string& path);
// Reads a checkpoint written for the same variables and grid; throws InputError naming the
// file when it is missing, truncated, damaged (hash) or for other variables.
State load_member_checkpoint(const std::string& path, const std::vector<Variable>& variables,
                             const std::shared_ptr<const Grid>& grid);
}  // namespace gale
