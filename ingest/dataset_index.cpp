#include "ingest/dataset_index.hpp"

#include <fmt/format.h>
#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/errors.hpp"
#include "core/hash.hpp"

namespace gale {

DatasetIndex::DatasetIndex(const std::vector<std::string>& files, std::vector<Variable> variables)
    : variables_(std::move(variables)) {
  if (files.empty()) throw InputError("dataset: no files given");
  // time -> per variable: location (or unset)
  std::map<TimePoint, std::vector<Location>> found;
  std::map<TimePoint, std::vector<int>> seen;
  Sha256 hash;
  for (const auto& file : files) {
    readers_.push_back(open_reader(file));
    const std::size_t r = readers_.size() - 1;
    hash.update(std::filesystem::path(file).filename().string())
        .update(std::to_string(std::filesystem::file_size(file)));
    const auto& headers = readers_[r]->headers();
    for (std::size_t h = 0; h < headers.size(); ++h) {
      const auto& header = headers[h];
      if (!header.variable || header.member != 0) continue;
      const auto it = std::find_if(variables_.begin(), variables_.end(),
                                   [&](const Variable& v) { return v.same_field(*header.variable); });
      if (it == variables_.end()) continue;
      if (!grid_) grid_ = header.grid;
      if (!grid_->same_as(*header.grid))
        throw DataError(fmt::format("dataset: {} is on another grid than the first field of {}",
                                    header.describe(), files.front()));
      const std::size_t v = std::size_t(it - variables_.begin());
      auto& slots = found[header.valid_time];
      auto& marks = seen[header.valid_time];
      if (slots.empty()) slots.resize(variables_.size()), marks.assign(variables_.size(), 0);
      if (marks[v])
        throw DataError(fmt::format("dataset: {} is also in {}", header.describe(),
                                    readers_[slots[v].reader]->headers()[slots[v].header].file));
      slots[v] = {r, h};
      marks[v] = 1;
    }
  }
  for (auto& [t, slots] : found) {
    const auto& marks = seen[t];
    if (std::all_of(marks.begin(), marks.end(), [](int m) { return m; })) {
      times_.push_back(t);
      locations_.push_back(slots);
    }
  }
  if (times_.empty()) {
    std::vector<std::string> keys;
    for (const auto& v : variables_) keys.push_back(v.key());
    throw DataError(fmt::format("dataset: no valid time has all of {} in the {} file(s) starting with {}",
                                fmt::join(keys, ", "), files.size(), files.front()));
  }
  hash.update(grid_->fingerprint());
  for (const auto& v : variables_) hash.update(v.key());
  for (const auto t : times_) hash.update(iso8601(t));
  fingerprint_ = hash.hex();
}

bool DatasetIndex::has(TimePoint t) const { return std::binary_search(times_.begin(), times_.end(), t); }

std::vector<float> DatasetIndex::load(TimePoint t) const {
  const auto it = std::lower_bound(times_.begin(), times_.end(), t);
  if (it == times_.end() || *it != t) throw DataError("dataset: no complete state at " + iso8601(t));
  const auto& slots = locations_[std::size_t(it - times_.begin())];
  const std::size_t points = grid_->size();
  std::vector<float> values(variables_.size() * points);
  // One read per file (a read reopens the file), fields in ascending order as read() wants.
  std::map<std::size_t, std::map<std::size_t, std::size_t>> by_reader;  // reader -> header -> variable
  for (std::size_t v = 0; v < slots.size(); ++v) by_reader[slots[v].reader][slots[v].header] = v;
  for (const auto& [reader, fields] : by_reader) {
    std::vector<std::size_t> headers;
    for (const auto& kv : fields) headers.push_back(kv.first);
    readers_[reader]->read(headers, [&](const FieldHeader& header, const float* field) {
      std::copy_n(field, points, values.begin() + std::ptrdiff_t(fields.at(header.index) * points));
    });
  }
  return values;
}

std::vector<std::string> expand_glob(const std::string& pattern) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
  std::vector<std::string> files;
  if (rc == 0)
    for (std::size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  if (files.empty()) throw InputError(fmt::format("{}: no file matches", pattern));
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace gale
