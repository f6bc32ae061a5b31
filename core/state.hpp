#pragma once
// State: the atmosphere at one or more valid times for one or more members.
// Data is float32 [member, time, variable, point] in CPU memory owned by xtensor; missing
// values are NaN (State::missing_mask() gives the mask). The grid is shared and immutable.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "core/grid.hpp"
#include "core/time.hpp"
#include "core/variable.hpp"

namespace gale {

class State {
 public:
  using Tensor = xt::xtensor<float, 4>;

  State() = default;
  // Allocates data filled with NaN (nothing read yet means missing).
  State(std::size_t members, std::vector<TimePoint> valid_times, std::vector<Variable> variables,
        std::shared_ptr<const Grid> grid, TimePoint reference_time);

  std::size_t members() const { return data_.shape()[0]; }
  std::size_t times() const { return data_.shape()[1]; }
  std::size_t variable_count() const { return data_.shape()[2]; }
  std::size_t points() const { return data_.shape()[3]; }

  Tensor& data() { return data_; }
  const Tensor& data() const { return data_; }
  const std::vector<Variable>& variables() const { return variables_; }
  const std::shared_ptr<const Grid>& grid() const { return grid_; }
  const std::vector<TimePoint>& valid_times() const { return valid_times_; }
  TimePoint reference_time() const { return reference_time_; }
  std::map<std::string, std::string>& metadata() { return metadata_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Index of a variable by key ("z500", "2t"); throws DataError listing the keys present.
  std::size_t index_of(const std::string& key) const;
  bool has(const std::string& key) const;

  // Pointer to the contiguous values of one field (member, time, variable).
  float* field(std::size_t member, std::size_t time, std::size_t variable);
  const float* field(std::size_t member, std::size_t time, std::size_t variable) const;

  xt::xtensor<bool, 4> missing_mask() const;

  // Internal consistency: shapes agree with variables/times/grid, times ascending,
  // variable keys unique, units canonical. Throws InternalError naming the mismatch.
  void check() const;

  // Handshake for a component that needs particular inputs: every key present (in any
  // order), the grid the same, at least `min_times` times. Throws DataError naming the
  // component, the variable/dimension, what was expected and what came.
  void expect(const std::string& component, const std::vector<std::string>& keys,
              const Grid* grid = nullptr, std::size_t min_times = 1) const;

 private:
  Tensor data_;
  std::vector<Variable> variables_;
  std::shared_ptr<const Grid> grid_;
  std::vector<TimePoint> valid_times_;
  TimePoint reference_time_{};
  std::map<std::string, std::string> metadata_;
};

}  // namespace gale
