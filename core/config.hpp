#pragma once
// YAML configuration with paths in every message ("forecast.yaml: ingest.sources[1].path:
// expected a string"), unknown keys rejected, and --set key=value overrides.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace gale {

class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::string path, std::string origin);

  const std::string& path() const { return path_; }
  bool has(const std::string& key) const;
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }

  ConfigNode at(const std::string& key) const;  // required child
  std::vector<ConfigNode> items() const;        // a sequence's elements

  // Typed scalar access of this node.
  std::string as_string() const;
  double as_double() const;
  long as_long() const;
  bool as_bool() const;
  std::vector<std::string> as_strings() const;  // a sequence of scalars, or one scalar

  // Children with defaults and range checks.
  std::string get_string(const std::string& key) const { return at(key).as_string(); }
  std::string get_string(const std::string& key, const std::string& fallback) const;
  double get_double(const std::string& key, double fallback, double min, double max) const;
  long get_long(const std::string& key, long fallback, long min, long max) const;
  bool get_bool(const std::string& key, bool fallback) const;
  // One of `allowed`; the message lists them.
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& allowed) const;

  // A map with only these keys (others are typos: the error lists what is allowed).
  void allow_only(const std::vector<std::string>& keys) const;
  // Throws ConfigError "origin: path: message".
  [[noreturn]] void fail(const std::string& message) const;

  // By value (a cheap handle): `for (kv : node.at("x").yaml())` must not iterate a member
  // of a destroyed temporary.
  YAML::Node yaml() const { return node_; }

 private:
  YAML::Node node_;
  std::string path_, origin_;
};

class Config {
 public:
  static Config from_file(const std::string& file);
  static Config from_string(const std::string& text, const std::string& origin = "<string>");

  // "a.b.c=value": value parsed as YAML ("[1,2]", "true", "3.5"); missing maps are created.
  void set(const std::string& assignment);
  ConfigNode root() const { return ConfigNode(root_, "", origin_); }
  const std::string& origin() const { return origin_; }
  // Directory of the config file: relative paths inside are resolved against it.
  const std::string& base_dir() const { return base_dir_; }
  std::string resolve_path(const std::string& path) const;
  std::string dump() const;  // resolved config as YAML (for provenance)

 private:
  YAML::Node root_;
  std::string origin_, base_dir_ = ".";
};

}  // namespace gale
