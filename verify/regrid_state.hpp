#pragma once
#include "core/state.hpp"

namespace gale {
// The State conservatively remapped onto `target` (both regular and global in longitude),
// for verifying on one grid. Returns a copy when the grids are already the same.
State regrid_state_conservative(const State& state, const std::shared_ptr<const Grid>& target);
}  // namespace gale
