#pragma once
// The check both writers make before encoding a variable: products hold pressure-level
// and single-level fields, each on the level kind its lexicon entry says.
#include <fmt/format.h>

#include <string>

#include "core/errors.hpp"
#include "core/lexicon.hpp"

namespace gale {

inline const LexiconEntry& writable_entry(const Variable& v, const std::string& path, const std::string& format) {
  const auto& entry = Lexicon::instance().at(v.name);
  if (v.level_kind == LevelKind::model)
    throw UnsupportedError(fmt::format(
        "{}: variable '{}' is on a model level; {} output holds pressure and single levels only", path, v.key(),
        format));
  const bool isobaric = v.level_kind == LevelKind::isobaric;
  if (isobaric != entry.upper_air)
    throw UnsupportedError(fmt::format("{}: variable '{}': {} variable {}", path, v.key(),
                                       entry.upper_air ? "upper-air" : "single-level",
                                       isobaric ? "on a pressure level" : "without a level"));
  return entry;
}

}  // namespace gale
