#include "core/state.hpp"

#include <fmt/format.h>

#include <limits>
#include <set>
#include <xtensor/xmath.hpp>

#include "core/errors.hpp"
#include "core/lexicon.hpp"

namespace gale {

State::State(std::size_t members, std::vector<TimePoint> valid_times,
             std::vector<Variable> variables, std::shared_ptr<const Grid> grid,
             TimePoint reference_time)
    : variables_(std::move(variables)),
      grid_(std::move(grid)),
      valid_times_(std::move(valid_times)),
      reference_time_(reference_time) {
  if (!grid_) throw InternalError("State: no grid");
  data_ = Tensor::from_shape({members, valid_times_.size(), variables_.size(), grid_->size()});
  data_.fill(std::numeric_limits<float>::quiet_NaN());
}

static std::string keys_of(const std::vector<Variable>& vars) {
  std::string out;
  for (const auto& v : vars) out += (out.empty() ? "" : ", ") + v.key();
  return out.empty() ? "(none)" : out;
}

bool State::has(const std::string& key) const {
  for (const auto& v : variables_)
    if (v.key() == key) return true;
  return false;
}

std::size_t State::index_of(const std::string& key) const {
  for (std::size_t i = 0; i < variables_.size(); ++i)
    if (variables_[i].key() == key) return i;
  throw DataError(
      fmt::format("variable '{}' is not in the state (it holds: {})", key, keys_of(variables_)));
}

float* State::field(std::size_t m, std::size_t t, std::size_t v) {
  return data_.data() + ((m * times() + t) * variable_count() + v) * points();
}

const float* State::field(std::size_t m, std::size_t t, std::size_t v) const {
  return data_.data() + ((m * times() + t) * variable_count() + v) * points();
}

xt::xtensor<bool, 4> State::missing_mask() const { return xt::isnan(data_); }

void State::check() const {
  if (!grid_) throw InternalError("State::check: no grid");
  const auto& s = data_.shape();
  auto mismatch = [&](const char* dim, std::size_t expected, std::size_t got) {
    if (expected != got)
      throw InternalError(fmt::format("State::check: dimension '{}' has {} entries but {} {}", dim,
                                      got, expected, "are described"));
  };
  mismatch("time", valid_times_.size(), s[1]);
  mismatch("variable", variables_.size(), s[2]);
  mismatch("point", grid_->size(), s[3]);
  if (s[0] == 0) throw InternalError("State::check: no members");
  for (std::size_t t = 1; t < valid_times_.size(); ++t)
    if (!(valid_times_[t] > valid_times_[t - 1]))
      throw InternalError(fmt::format("State::check: valid times not ascending at index {} ({} after {})",
                                      t, iso8601(valid_times_[t]), iso8601(valid_times_[t - 1])));
  std::set<std::string> seen;
  for (const auto& v : variables_) {
    if (!seen.insert(v.key()).second)
      throw InternalError(fmt::format("State::check: variable '{}' appears twice", v.key()));
    const auto& entry = Lexicon::instance().at(v.name);
    if (v.units != entry.units)
      throw InternalError(fmt::format("State::check: variable '{}' has units '{}', canonical is '{}'",
                                      v.key(), v.units, entry.units));
  }
}

void State::expect(const std::string& component, const std::vector<std::string>& keys,
                   const Grid* grid, std::size_t min_times) const {
  for (const auto& k : keys)
    if (!has(k))
      throw DataError(fmt::format("{}: needs variable '{}' but the state holds: {}", component, k,
                                  keys_of(variables_)));
  if (grid && !grid->same_as(*grid_))
    throw DataError(fmt::format("{}: expects grid '{}' but the state is on '{}'", component,
                                grid->describe(), grid_->describe()));
  if (times() < min_times)
    throw DataError(fmt::format("{}: needs at least {} time(s) but the state has {}", component,
                                min_times, times()));
}

}  // namespace gale
