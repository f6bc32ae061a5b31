#include "ingest/selection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "core/errors.hpp"

namespace gale {

std::string SelectionReport::text() const {
  std::string out = fmt::format(
      "selection: {} fields selected, {} missing, {} duplicated, {} on another grid, {} extra, "
      "{} unusable",
      selected, missing.size(), duplicated.size(), off_grid.size(), extra, unusable.size());
  auto section = [&](const char* title, const std::vector<std::string>& lines) {
    for (const auto& l : lines) out += fmt::format("\n  {}: {}", title, l);
  };
  section("missing", missing);
  section("duplicated", duplicated);
  section("other grid", off_grid);
  section("unusable", unusable);
  return out;
}

Selection::Selection(std::vector<std::unique_ptr<Reader>> readers, Request request)
    : readers_(std::move(readers)), request_(std::move(request)) {
  if (request_.variables.empty()) throw ConfigError("ingest: no variables requested");
  auto var_index = [&](const Variable& v) -> std::ptrdiff_t {
    for (std::size_t i = 0; i < request_.variables.size(); ++i)
      if (request_.variables[i].same_field(v)) return std::ptrdiff_t(i);
    return -1;
  };

  // Pass 1: the candidate headers (requested variable), and the times/members on offer.
  std::set<TimePoint> times_found;
  std::set<int> members_found;
  std::vector<std::pair<std::size_t, std::size_t>> candidates;
  for (std::size_t r = 0; r < readers_.size(); ++r) {
    const auto& headers = readers_[r]->headers();
    for (std::size_t i = 0; i < headers.size(); ++i) {
      const auto& h = headers[i];
      if (!h.variable) {
        report_.unusable.push_back(fmt::format("{}: {}", h.describe(), h.problem));
        continue;
      }
      // Times and members on offer come from every usable field, so that a variable
      // absent from all files is reported missing at each of them.
      times_found.insert(h.valid_time);
      members_found.insert(h.member);
      if (var_index(*h.variable) < 0) {
        ++report_.extra;
        continue;
      }
      candidates.emplace_back(r, i);
    }
  }
  times_ = request_.times.empty() ? std::vector<TimePoint>(times_found.begin(), times_found.end())
                                  : request_.times;
  members_ = request_.members.empty() ? std::vector<int>(members_found.begin(), members_found.end())
                                      : request_.members;
  std::sort(times_.begin(), times_.end());
  std::sort(members_.begin(), members_.end());

  // Pass 2: place each candidate in the [member, time, variable] cube.
  std::map<std::tuple<std::size_t, std::size_t, std::size_t>, std::vector<Pick>> cube;
  for (const auto& [r, i] : candidates) {
    const auto& h = readers_[r]->headers()[i];
    const auto t = std::lower_bound(times_.begin(), times_.end(), h.valid_time);
    const auto m = std::lower_bound(members_.begin(), members_.end(), h.member);
    if (t == times_.end() || *t != h.valid_time || m == members_.end() || *m != h.member) {
      ++report_.extra;
      continue;
    }
    if (!grid_) grid_ = h.grid;
    if (!h.grid->same_as(*grid_)) {
      report_.off_grid.push_back(fmt::format("{} is on {}, the first selected field on {}",
                                             h.describe(), h.grid->describe(), grid_->describe()));
      continue;
    }
    const Pick pick{r, i, std::size_t(m - members_.begin()), std::size_t(t - times_.begin()),
                    std::size_t(var_index(*h.variable))};
    cube[{pick.member, pick.time, pick.variable}].push_back(pick);
  }
  bool first_reference = true;
  for (std::size_t m = 0; m < members_.size(); ++m)
    for (std::size_t t = 0; t < times_.size(); ++t)
      for (std::size_t v = 0; v < request_.variables.size(); ++v) {
        const auto it = cube.find({m, t, v});
        if (it == cube.end()) {
          report_.missing.push_back(fmt::format("{} {} member {}", request_.variables[v].key(),
                                                iso8601(times_[t]), members_[m]));
          continue;
        }
        if (it->second.size() > 1) {
          std::string where;
          for (const auto& p : it->second)
            where += fmt::format("{}{} field {}", where.empty() ? "" : ", ",
                                 readers_[p.reader]->headers()[p.header].file, p.header + 1);
          report_.duplicated.push_back(fmt::format("{} {} member {} ({})",
                                                   request_.variables[v].key(),
                                                   iso8601(times_[t]), members_[m], where));
          continue;
        }
        const auto& pick = it->second.front();
        const auto ref = readers_[pick.reader]->headers()[pick.header].reference_time;
        if (first_reference || ref < reference_time_) reference_time_ = ref;
        first_reference = false;
        picks_.push_back(pick);
      }
  report_.selected = picks_.size();
}

State Selection::load() const {
  if (!report_.ok() || picks_.empty())
    throw DataError(picks_.empty() && report_.ok() ? "ingest: no field matches the request"
                                                   : "ingest: the input does not cover the request\n" +
                                                         report_.text());
  State state(members_.size(), times_, request_.variables, grid_, reference_time_);
  std::vector<std::string> out_of_range;
  const auto& lexicon = Lexicon::instance();
  for (std::size_t r = 0; r < readers_.size(); ++r) {
    std::vector<std::size_t> indices;
    std::map<std::size_t, const Pick*> by_header;
    for (const auto& p : picks_)
      if (p.reader == r) {
        indices.push_back(p.header);
        by_header[p.header] = &p;
      }
    std::sort(indices.begin(), indices.end());
    readers_[r]->read(indices, [&](const FieldHeader& h, const float* values) {
      const Pick& p = *by_header.at(h.index);
      float* dst = state.field(p.member, p.time, p.variable);
      std::copy(values, values + state.points(), dst);
      if (!request_.check_ranges) return;
      float lo = INFINITY, hi = -INFINITY;
      for (std::size_t i = 0; i < state.points(); ++i)
        if (!std::isnan(dst[i])) lo = std::min(lo, dst[i]), hi = std::max(hi, dst[i]);
      const auto [min, max] = lexicon.valid_range(*h.variable);
      if (lo <= hi && (lo < min || hi > max))
        out_of_range.push_back(fmt::format(
            "{}: values {:g}..{:g} {} outside the physical range {:g}..{:g} (source units '{}')",
            h.describe(), lo, hi, h.variable->units, min, max, h.source_units));
    });
  }
  if (!out_of_range.empty())
    throw DataError(fmt::format("ingest: {} field(s) out of physical range (wrong units?)\n  {}",
                                out_of_range.size(), fmt::join(out_of_range, "\n  ")));
  state.check();
  return state;
}

}  // namespace gale
