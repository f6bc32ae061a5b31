#include "core/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.hpp"

namespace gale {

namespace {
std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}
std::string kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return fmt::format("'{}'", n.Scalar());
    case YAML::NodeType::Null: return "nothing";
    default: return "an undefined value";
  }
}
}  // namespace

ConfigNode::ConfigNode(YAML::Node node, std::string path, std::string origin)
    : node_(std::move(node)), path_(std::move(path)), origin_(std::move(origin)) {}

void ConfigNode::fail(const std::string& message) const {
  throw ConfigError(fmt::format("{}: {}: {}", origin_, path_.empty() ? "(top level)" : path_,
                                message));
}

bool ConfigNode::has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull();
}

ConfigNode ConfigNode::at(const std::string& key) const {
  if (!node_.IsMap()) fail(fmt::format("expected a map with key '{}', got {}", key, kind_of(node_)));
  if (!has(key)) ConfigNode(YAML::Node(), child_path(path_, key), origin_).fail("is required");
  return ConfigNode(node_[key], child_path(path_, key), origin_);
}

std::vector<ConfigNode> ConfigNode::items() const {
  if (!node_.IsSequence()) fail(fmt::format("expected a list, got {}", kind_of(node_)));
  std::vector<ConfigNode> out;
  for (std::size_t i = 0; i < node_.size(); ++i)
    out.emplace_back(node_[i], fmt::format("{}[{}]", path_, i), origin_);
  return out;
}

std::string ConfigNode::as_string() const {
  if (!node_.IsScalar()) fail(fmt::format("expected a string, got {}", kind_of(node_)));
  return node_.Scalar();
}

double ConfigNode::as_double() const {
  if (node_.IsScalar()) {
    try {
      std::size_t used = 0;
      const double v = std::stod(node_.Scalar(), &used);
      if (used == node_.Scalar().size()) return v;
    } catch (const std::exception&) {
    }
  }
  fail(fmt::format("expected a number, got {}", kind_of(node_)));
}

long ConfigNode::as_long() const {
  if (node_.IsScalar()) {
    try {
      std::size_t used = 0;
      const long v = std::stol(node_.Scalar(), &used);
      if (used == node_.Scalar().size()) return v;
    } catch (const std::exception&) {
    }
  }
  fail(fmt::format("expected an integer, got {}", kind_of(node_)));
}

bool ConfigNode::as_bool() const {
  if (node_.IsScalar()) {
    std::string s = node_.Scalar();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  fail(fmt::format("expected true or false, got {}", kind_of(node_)));
}

std::vector<std::string> ConfigNode::as_strings() const {
  if (node_.IsScalar()) return {node_.Scalar()};
  std::vector<std::string> out;
  for (const auto& item : items()) out.push_back(item.as_string());
  return out;
}

std::string ConfigNode::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? at(key).as_string() : fallback;
}

double ConfigNode::get_double(const std::string& key, double fallback, double min,
                              double max) const {
  if (!has(key)) return fallback;
  const auto child = at(key);
  const double v = child.as_double();
  if (!(v >= min && v <= max)) child.fail(fmt::format("{} is outside [{}, {}]", v, min, max));
  return v;
}

long ConfigNode::get_long(const std::string& key, long fallback, long min, long max) const {
  if (!has(key)) return fallback;
  const auto child = at(key);
  const long v = child.as_long();
  if (v < min || v > max) child.fail(fmt::format("{} is outside [{}, {}]", v, min, max));
  return v;
}

bool ConfigNode::get_bool(const std::string& key, bool fallback) const {
  return has(key) ? at(key).as_bool() : fallback;
}

std::string ConfigNode::get_choice(const std::string& key, const std::string& fallback,
                                   const std::vector<std::string>& allowed) const {
  const std::string v = get_string(key, fallback);
  for (const auto& a : allowed)
    if (a == v) return v;
  at(key).fail(fmt::format("'{}' is not one of: {}", v, fmt::join(allowed, ", ")));
}

void ConfigNode::allow_only(const std::vector<std::string>& keys) const {
  if (node_.IsNull()) return;
  if (!node_.IsMap()) fail(fmt::format("expected a map, got {}", kind_of(node_)));
  for (const auto& kv : node_) {
    const auto key = kv.first.as<std::string>();
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      ConfigNode(kv.second, child_path(path_, key), origin_)
          .fail(fmt::format("unknown key (allowed here: {})", fmt::join(keys, ", ")));
  }
}

Config Config::from_string(const std::string& text, const std::string& origin) {
  Config c;
  c.origin_ = origin;
  try {
    c.root_ = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: line {}, column {}: {}", origin, e.mark.line + 1,
                                  e.mark.column + 1, e.msg));
  }
  if (c.root_.IsNull()) c.root_ = YAML::Node(YAML::NodeType::Map);
  if (!c.root_.IsMap()) throw ConfigError(fmt::format("{}: the top level must be a map", origin));
  return c;
}

Config Config::from_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw ConfigError(fmt::format("{}: cannot open config file", file));
  std::stringstream text;
  text << in.rdbuf();
  Config c = from_string(text.str(), file);
  c.base_dir_ = std::filesystem::path(file).parent_path().string();
  if (c.base_dir_.empty()) c.base_dir_ = ".";
  return c;
}

std::string Config::resolve_path(const std::string& path) const {
  const std::filesystem::path p(path);
  return p.is_absolute() ? path : (std::filesystem::path(base_dir_) / p).lexically_normal().string();
}

void Config::set(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(fmt::format("--set '{}': expected key.path=value", assignment));
  const std::string key = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("--set '{}': value is not valid YAML: {}", assignment, e.msg));
  }
  // Walk with fresh handles: YAML::Node assignment rebinds, so descend by reset().
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) {
    if (part.empty()) throw ConfigError(fmt::format("--set '{}': empty key segment", assignment));
    parts.push_back(part);
  }
  YAML::Node node;
  node.reset(root_);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (node[parts[i]].IsDefined() && !node[parts[i]].IsMap() && !node[parts[i]].IsNull())
      throw ConfigError(fmt::format("--set '{}': '{}' is not a map", assignment, parts[i]));
    if (!node[parts[i]].IsDefined() || node[parts[i]].IsNull())
      node[parts[i]] = YAML::Node(YAML::NodeType::Map);
    YAML::Node child = node[parts[i]];
    node.reset(child);
  }
  node[parts.back()] = value;
}

std::string Config::dump() const {
  YAML::Emitter out;
  out << root_;
  return out.c_str();
}

}  // namespace gale
