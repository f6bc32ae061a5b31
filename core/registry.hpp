#pragma once
// Plugins by kebab-case name: Registry<Base, Args...> maps a name to a factory.
// Registration is explicit (a module's register_*() function), so static-library linking
// can never silently drop a plugin.
#include <fmt/format.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace gale {

bool is_kebab_case(const std::string& name);

template <class Base, class... Args>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Base>(Args...)>;

  explicit Registry(std::string what) : what_(std::move(what)) {}

  void add(const std::string& name, Factory factory) {
    if (!is_kebab_case(name))
      throw InternalError(fmt::format("{} name '{}' is not kebab-case", what_, name));
    if (!factories_.emplace(name, std::move(factory)).second)
      throw InternalError(fmt::format("{} '{}' registered twice", what_, name));
  }

  bool contains(const std::string& name) const { return factories_.count(name) > 0; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, _] : factories_) out.push_back(name);
    return out;
  }

  std::unique_ptr<Base> create(const std::string& name, Args... args) const {
    const auto it = factories_.find(name);
    if (it == factories_.end())
      throw ConfigError(fmt::format("unknown {} '{}' (known: {})", what_, name,
                                    fmt::join(names(), ", ")));
    return it->second(std::forward<Args>(args)...);
  }

 private:
  std::string what_;
  std::map<std::string, Factory> factories_;
};

}  // namespace gale
