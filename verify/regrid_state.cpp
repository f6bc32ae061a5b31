#include "verify/regrid_state.hpp"

#include "grids/regrid.hpp"

namespace gale {

State regrid_state_conservative(const State& state, const std::shared_ptr<const Grid>& target) {
  if (state.grid()->same_as(*target)) return state;
  const auto weights = RegridCache().get("conservative", *state.grid(), *target, "",
                                         [&] { return conservative_weights(*state.grid(), *target); });
  State out(state.members(), state.valid_times(), state.variables(), target, state.reference_time());
  out.metadata() = state.metadata();
  for (std::size_t m = 0; m < state.members(); ++m)
    for (std::size_t t = 0; t < state.times(); ++t)
      for (std::size_t v = 0; v < state.variable_count(); ++v) weights.apply(state.field(m, t, v), out.field(m, t, v));
  return out;
}

}  // namespace gale
