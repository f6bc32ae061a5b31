#pragma once
// A variable of a State: canonical name (lexicon), vertical level, SI units.
#include <string>

namespace gale {

enum class LevelKind {
  surface,   // single level (2t, msl, ...); level value unused (0)
  isobaric,  // pressure level, value in hPa
  model,     // hybrid model level number
};

std::string to_string(LevelKind kind);

struct Variable {
  std::string name;  // canonical lexicon name: "z", "t", "2t", "msl", ...
  LevelKind level_kind = LevelKind::surface;
  double level = 0;   // hPa for isobaric, level number for model levels
  std::string units;  // canonical SI units from the lexicon

  // Short unique key used in configs and messages: "z500", "2t", "t_ml137".
  std::string key() const;
  bool same_field(const Variable& o) const {
    return name == o.name && level_kind == o.level_kind && level == o.level;
  }
};

// Parses "z500" -> {z, isobaric, 500}, "2t" -> {2t, surface}, "t_ml137" -> {t, model, 137}
// using the lexicon to tell a name with digits ("100u") from a name plus level.
Variable parse_variable_key(const std::string& key);

}  // namespace gale
