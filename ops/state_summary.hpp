#pragma once
#include <string>

#include "core/state.hpp"

namespace gale {
// Table of one line per (variable, time): area-weighted ensemble-mean global mean, min, max
// over members and points, area-weighted mean ensemble spread (ddof 1), missing values.
std::string summarise_state(const State& state);
}  // namespace gale
