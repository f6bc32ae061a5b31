#include "ops/ingest_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/errors.hpp"

namespace gale {

static std::vector<TimePoint> parse_times(const ConfigNode& node) {
  std::vector<TimePoint> times;
  if (node.is_sequence()) {
    for (const auto& item : node.items()) {
      try {
        times.push_back(parse_iso8601(item.as_string(), "value"));
      } catch (const UserError& e) {
        item.fail(e.what());
      }
    }
    std::vector<TimePoint> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      node.fail(fmt::format("{} is listed twice", iso8601(*std::adjacent_find(sorted.begin(), sorted.end()))));
    return times;
  }
  node.allow_only({"start", "end", "step_hours"});
  auto parse = [&](const std::string& key) {
    const auto child = node.at(key);
    try {
      return parse_iso8601(child.as_string(), "value");
    } catch (const UserError& e) {
      child.fail(e.what());
    }
  };
  const TimePoint start = parse("start"), end = parse("end");
  const long step = node.get_long("step_hours", 6, 1, 24 * 366);
  if (end < start) node.fail("end is before start");
  for (TimePoint t = start; t <= end; t += std::chrono::hours(step)) times.push_back(t);
  return times;
}

std::vector<SourceSpec> parse_sources(const ConfigNode& list, const Config& config) {
  std::vector<std::string> formats = reader_formats();
  formats.insert(formats.begin(), "auto");
  std::vector<SourceSpec> sources;
  for (const auto& src : list.items()) {
    src.allow_only({"type", "path"});
    SourceSpec spec;
    spec.type = src.get_choice("type", "auto", formats);
    spec.path = config.resolve_path(src.get_string("path"));
    if (!std::filesystem::exists(spec.path))
      src.at("path").fail(fmt::format("file '{}' does not exist", spec.path));
    sources.push_back(spec);
  }
  if (sources.empty()) list.fail("needs at least one source");
  return sources;
}

std::vector<Variable> parse_variables(const ConfigNode& list) {
  std::vector<Variable> variables;
  for (const auto& item : list.items()) {
    try {
      variables.push_back(parse_variable_key(item.as_string()));
    } catch (const ConfigError&) {
      throw;
    } catch (const UserError& e) {
      item.fail(e.what());
    }
  }
  if (variables.empty()) list.fail("needs at least one variable");
  for (std::size_t i = 0; i < variables.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (variables[i].same_field(variables[j])) list.fail(fmt::format("'{}' is listed twice", variables[i].key()));
  return variables;
}

Selection open_selection(const std::vector<SourceSpec>& sources, const Request& request) {
  std::vector<std::unique_ptr<Reader>> readers;
  for (const auto& src : sources) readers.push_back(open_reader(src.path, src.type));
  return Selection(std::move(readers), request);
}

IngestPlan parse_ingest_config(const Config& config) { return parse_ingest_node(config.root().at("ingest"), config); }

IngestPlan parse_ingest_node(const ConfigNode& ingest, const Config& config) {
  ingest.allow_only({"sources", "variables", "times", "members", "check_ranges"});
  IngestPlan plan;
  plan.sources = parse_sources(ingest.at("sources"), config);
  plan.request.variables = parse_variables(ingest.at("variables"));
  if (ingest.has("times")) plan.request.times = parse_times(ingest.at("times"));
  if (ingest.has("members"))
    for (const auto& item : ingest.at("members").items()) {
      const long m = item.as_long();
      if (m < 0 || m > 100000) item.fail("member numbers are 0..100000");
      if (std::count(plan.request.members.begin(), plan.request.members.end(), int(m))) item.fail("listed twice");
      plan.request.members.push_back(int(m));
    }
  plan.request.check_ranges = ingest.get_bool("check_ranges", true);
  return plan;
}

Selection plan_selection(const IngestPlan& plan) { return open_selection(plan.sources, plan.request); }

}  // namespace gale
