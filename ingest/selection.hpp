#pragma once
// From files to a State: which fields a request needs, what is missing, duplicated or
// extra (reported for every field before any values are decoded), then decode, orient,
// convert and range-check into one State.
#include <memory>
#include <string>
#include <vector>

#include "core/state.hpp"
#include "ingest/field.hpp"

namespace gale {

struct Request {
  std::vector<Variable> variables;  // in the order the State will hold them
  std::vector<TimePoint> times;     // empty: every valid time found
  std::vector<int> members;         // empty: every member found
  bool check_ranges = true;
};

struct SelectionReport {
  std::vector<std::string> missing;     // requested, not found
  std::vector<std::string> duplicated;  // requested, found more than once
  std::vector<std::string> off_grid;    // requested, but on another grid than the first
  std::vector<std::string> unusable;    // fields no reader could map (with the reason)
  std::size_t extra = 0;                // usable fields not requested
  std::size_t selected = 0;
  bool ok() const { return missing.empty() && duplicated.empty() && off_grid.empty(); }
  // Every problem on its own line, headed by counts.
  std::string text() const;
};

class Selection {
 public:
  // Plans from headers only; no values are decoded here.
  Selection(std::vector<std::unique_ptr<Reader>> readers, Request request);

  const SelectionReport& report() const { return report_; }
  const std::vector<TimePoint>& times() const { return times_; }
  const std::vector<int>& members() const { return members_; }

  // Decodes the selected fields into a State. Throws DataError with the report when the
  // plan is incomplete, and with every out-of-range field when range checks fail.
  State load() const;

 private:
  struct Pick {
    std::size_t reader, header, member, time, variable;
  };
  std::vector<std::unique_ptr<Reader>> readers_;
  Request request_;
  std::vector<TimePoint> times_;
  std::vector<int> members_;
  std::shared_ptr<const Grid> grid_;
  TimePoint reference_time_{};
  std::vector<Pick> picks_;
  SelectionReport report_;
};

}  // namespace gale
