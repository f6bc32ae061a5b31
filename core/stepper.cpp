#include "core/stepper.hpp"

namespace gale {

std::uint64_t StepKey::hash() const {
  // splitmix64 over the three fields in turn.
  auto mix = [](std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  return mix(mix(mix(run_seed) ^ std::uint64_t(std::uint32_t(member))) ^ std::uint64_t(std::uint32_t(step)));
}

}  // namespace gale
