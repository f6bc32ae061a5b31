#include "ingest/inspect.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace gale {

std::vector<InspectRow> inspect(const Reader& reader) {
  struct Acc {
    InspectRow row;
    std::set<double> levels;
    LevelKind kind = LevelKind::surface;
    std::set<int> members;
    std::set<TimePoint> times;
    double min = INFINITY, max = -INFINITY;
  };
  std::map<std::string, Acc> by_name;
  std::vector<std::string> order;
  std::vector<std::size_t> readable;
  const auto& headers = reader.headers();
  for (const auto& h : headers) {
    const std::string name = h.variable ? h.variable->name : h.source_name;
    auto [it, inserted] = by_name.try_emplace(name);
    if (inserted) order.push_back(name);
    auto& a = it->second;
    a.row.name = name;
    a.row.units = h.variable ? h.variable->units : h.source_units;
    a.row.grid = h.grid ? h.grid->describe() : "?";
    if (!h.problem.empty()) a.row.problem = h.problem;
    if (h.variable) {
      a.levels.insert(h.variable->level);
      a.kind = h.variable->level_kind;
      readable.push_back(h.index);
    }
    a.members.insert(h.member);
    a.times.insert(h.valid_time);
    ++a.row.fields;
  }
  reader.read(readable, [&](const FieldHeader& h, const float* values) {
    auto& a = by_name.at(h.variable->name);
    for (std::size_t i = 0; i < h.grid->size(); ++i) {
      if (std::isnan(values[i])) {
        ++a.row.missing_values;
        continue;
      }
      a.min = std::min(a.min, double(values[i]));
      a.max = std::max(a.max, double(values[i]));
    }
  });
  std::vector<InspectRow> rows;
  for (const auto& name : order) {
    auto& a = by_name.at(name);
    auto& r = a.row;
    r.members = a.members.size();
    r.times = a.times.size();
    r.first_time = *a.times.begin();
    r.last_time = *a.times.rbegin();
    r.min = a.min;
    r.max = a.max;
    if (a.levels.empty()) r.levels = "-";
    else if (a.kind == LevelKind::surface) r.levels = "surface";
    else
      r.levels = fmt::format("{}{:g}", a.kind == LevelKind::model ? "ml " : "",
                             fmt::join(a.levels, ",")) +
                 (a.kind == LevelKind::isobaric ? " hPa" : "");
    rows.push_back(r);
  }
  return rows;
}

std::string format_inspect_table(const std::string& file, const std::vector<InspectRow>& rows) {
  std::string out = fmt::format("{}\n", file);
  out += fmt::format("  {:<10} {:<9} {:<28} {:>6} {:>7} {:>5}  {:<41} {:>12} {:>12} {:>8}\n",
                     "variable", "units", "levels", "fields", "members", "times",
                     "valid times", "min", "max", "missing");
  for (const auto& r : rows) {
    const std::string times = r.times == 1 ? iso8601(r.first_time)
                                           : iso8601(r.first_time) + ".." + iso8601(r.last_time);
    if (!r.problem.empty()) {
      out += fmt::format("  {:<10} {:<9} {:<28} {:>6} {:>7} {:>5}  {:<41}  unusable: {}\n", r.name,
                         r.units, r.levels, r.fields, r.members, r.times, times, r.problem);
      continue;
    }
    out += fmt::format("  {:<10} {:<9} {:<28} {:>6} {:>7} {:>5}  {:<41} {:>12.6g} {:>12.6g} {:>8}\n",
                       r.name, r.units, r.levels, r.fields, r.members, r.times, times, r.min, r.max,
                       r.missing_values);
  }
  if (!rows.empty()) out += fmt::format("  grid: {}\n", rows.front().grid);
  return out;
}

}  // namespace gale
