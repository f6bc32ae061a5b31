#include "ops/ingest_config.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "core/errors.hpp"

namespace gale {

static std::vector<TimePoint> parse_times(const ConfigNode& node) {
  std::vector<TimePoint> times;
  if (node.is_sequence()) {
    for (const auto& item : node.items()) {
      try {
        times.push_back(parse_iso8601(item.as_string(), item.path()));
      } catch (const UserError& e) {
        item.fail(e.what());
      }
    }
    return times;
  }
  node.allow_only({"start", "end", "step_hours"});
  auto parse = [&](const std::string& key) {
    const auto child = node.at(key);
    try {
      return parse_iso8601(child.as_string(), key);
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

IngestPlan parse_ingest_config(const Config& config) {
  const auto root = config.root();
  const auto ingest = root.at("ingest");
  ingest.allow_only({"sources", "variables", "times", "members", "check_ranges"});
  IngestPlan plan;
  std::vector<std::string> formats = reader_formats();
  formats.insert(formats.begin(), "auto");
  for (const auto& src : ingest.at("sources").items()) {
    src.allow_only({"type", "path"});
    SourceSpec spec;
    spec.type = src.get_choice("type", "auto", formats);
    spec.path = config.resolve_path(src.get_string("path"));
    if (!std::filesystem::exists(spec.path))
      src.at("path").fail(fmt::format("file '{}' does not exist", spec.path));
    plan.sources.push_back(spec);
  }
  if (plan.sources.empty()) ingest.at("sources").fail("needs at least one source");
  for (const auto& item : ingest.at("variables").items()) {
    try {
      plan.request.variables.push_back(parse_variable_key(item.as_string()));
    } catch (const ConfigError&) {
      throw;
    } catch (const UserError& e) {
      item.fail(e.what());
    }
  }
  if (plan.request.variables.empty()) ingest.at("variables").fail("needs at least one variable");
  for (std::size_t i = 0; i < plan.request.variables.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (plan.request.variables[i].same_field(plan.request.variables[j]))
        ingest.at("variables").fail(
            fmt::format("'{}' is listed twice", plan.request.variables[i].key()));
  if (ingest.has("times")) plan.request.times = parse_times(ingest.at("times"));
  if (ingest.has("members"))
    for (const auto& item : ingest.at("members").items()) {
      const long m = item.as_long();
      if (m < 0 || m > 100000) item.fail("member numbers are 0..100000");
      plan.request.members.push_back(int(m));
    }
  plan.request.check_ranges = ingest.get_bool("check_ranges", true);
  return plan;
}

Selection plan_selection(const IngestPlan& plan) {
  std::vector<std::unique_ptr<Reader>> readers;
  for (const auto& src : plan.sources) readers.push_back(open_reader(src.path, src.type));
  return Selection(std::move(readers), plan.request);
}

}  // namespace gale
