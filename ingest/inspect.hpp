#pragma once
// `gale inspect`: what a file holds, one row per variable (levels, members, times, grid,
// value range in canonical units, missing values).
#include <string>
#include <vector>

#include "ingest/field.hpp"

namespace gale {

struct InspectRow {
  std::string name;   // canonical name, or the source name if not in the lexicon
  std::string units;  // canonical units (source units for unknown fields)
  std::string levels; // "500,850 hPa", "surface", "ml 137"
  std::size_t fields = 0, members = 0, times = 0;
  TimePoint first_time{}, last_time{};
  std::string grid;
  double min = 0, max = 0;
  std::size_t missing_values = 0;
  std::string problem;  // why a field cannot be used
};

std::vector<InspectRow> inspect(const Reader& reader);
std::string format_inspect_table(const std::string& file, const std::vector<InspectRow>& rows);

}  // namespace gale
