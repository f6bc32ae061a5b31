#include "ensemble/global_mean_fixer.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/errors.hpp"
#include "grids/cells.hpp"

namespace gale {

double weighted_mean(const float* values, const std::vector<double>& weights) {
  double sum = 0, total = 0;
  for (std::size_t p = 0; p < weights.size(); ++p) {
    sum += weights[p] * values[p];
    total += weights[p];
  }
  return sum / total;
}

GlobalMeanFixer::GlobalMeanFixer(std::unique_ptr<Stepper> inner, const std::vector<std::string>& keys)
    : inner_(std::move(inner)) {
  const auto variables = inner_->variables();
  std::vector<std::string> known;
  for (const auto& v : variables) known.push_back(v.key());
  for (const auto& key : keys) {
    const auto it = std::find(known.begin(), known.end(), key);
    if (it == known.end())
      throw ConfigError(fmt::format("the model has no variable '{}' (it has: {})", key,
                                    fmt::join(known, ", ")));
    if (it->rfind("ws", 0) == 0)  // wind speed is |(u, v)|: shifting it alone would break that
      throw ConfigError(fmt::format("{} is derived from the winds; conserve u and v instead", key));
    fixed_.push_back(key);
  }
  if (inner_->grid()->rows() == 0)
    throw UserError(fmt::format("the model's grid ({}) has no latitude rows, so its points have "
                                "no areas to weigh a global mean by",
                                inner_->grid()->describe()));
  weights_ = latitude_weights(*inner_->grid());
}

State GlobalMeanFixer::step(const State& inputs, const StepKey& key) {
  State next = inner_->step(inputs, key);
  const std::size_t last = inputs.times() - 1;
  for (const auto& key_name : fixed_) {
    const std::size_t in = inputs.index_of(key_name), v = next.index_of(key_name);
    for (std::size_t m = 0; m < next.members(); ++m) {
      const double shift = weighted_mean(inputs.field(m, last, in), weights_) - weighted_mean(next.field(m, 0, v), weights_);
      float* x = next.field(m, 0, v);
      for (std::size_t p = 0; p < next.points(); ++p) x[p] = float(x[p] + shift);
    }
  }
  return next;
}

}  // namespace gale
