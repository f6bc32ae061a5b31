#include "core/lexicon.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/errors.hpp"

namespace gale {

namespace {
constexpr double kGravity = 9.80665;  // WMO standard gravity, m s-2 (gpm <-> m2 s-2)
constexpr double kInf = 1e300;

// Canonical entries. Ranges are generous physical bounds: they catch wrong units
// (Celsius labelled as K, gpm labelled as m2 s-2), not unusual weather.
std::vector<LexiconEntry> make_entries() {
  return {
      {"z", "Geopotential", "geopotential", "m2 s-2", true, -5e3, 5e5, {"z", "gh"}, {129, 156},
       {"z", "geopotential", "Z", "hgt", "zg"}},
      {"t", "Temperature", "air_temperature", "K", true, 150, 350, {"t"}, {130},
       {"t", "temperature", "air_temperature", "T", "ta"}},
      {"u", "U component of wind", "eastward_wind", "m s-1", true, -200, 200, {"u"}, {131},
       {"u", "u_component_of_wind", "eastward_wind", "U", "ua"}},
      {"v", "V component of wind", "northward_wind", "m s-1", true, -200, 200, {"v"}, {132},
       {"v", "v_component_of_wind", "northward_wind", "V", "va"}},
      {"ws", "Wind speed", "wind_speed", "m s-1", true, 0, 250, {"ws"}, {10}, {"ws", "wind_speed"}},
      {"q", "Specific humidity", "specific_humidity", "kg kg-1", true, 0, 0.06, {"q"}, {133},
       {"q", "specific_humidity", "hus"}},
      {"r", "Relative humidity", "relative_humidity", "%", true, -10, 160, {"r"}, {157},
       {"r", "relative_humidity", "hur"}},
      {"w", "Vertical velocity", "lagrangian_tendency_of_air_pressure", "Pa s-1", true, -30, 30,
       {"w"}, {135}, {"w", "vertical_velocity", "wap"}},
      {"2t", "2 metre temperature", "air_temperature", "K", false, 150, 350, {"2t"}, {167},
       {"t2m", "2t", "2m_temperature", "tas"}},
      {"skt", "Skin temperature", "surface_temperature", "K", false, 150, 370, {"skt"}, {235},
       {"skt", "skin_temperature", "ts"}},
      {"10u", "10 metre U wind component", "eastward_wind", "m s-1", false, -150, 150, {"10u"},
       {165}, {"u10", "10u", "10m_u_component_of_wind", "uas"}},
      {"10v", "10 metre V wind component", "northward_wind", "m s-1", false, -150, 150, {"10v"},
       {166}, {"v10", "10v", "10m_v_component_of_wind", "vas"}},
      {"100u", "100 metre U wind component", "eastward_wind", "m s-1", false, -150, 150,
       {"100u"}, {228246}, {"u100", "100u", "100m_u_component_of_wind"}},
      {"100v", "100 metre V wind component", "northward_wind", "m s-1", false, -150, 150,
       {"100v"}, {228247}, {"v100", "100v", "100m_v_component_of_wind"}},
      {"msl", "Mean sea level pressure", "air_pressure_at_mean_sea_level", "Pa", false, 8.5e4,
       1.1e5, {"msl", "prmsl"}, {151, 260074}, {"msl", "mslp", "mean_sea_level_pressure", "psl"}},
      {"sp", "Surface pressure", "surface_air_pressure", "Pa", false, 4e4, 1.1e5, {"sp"}, {134},
       {"sp", "surface_pressure", "ps"}},
      {"tp", "Total precipitation", "precipitation_amount", "m", false, 0, 2, {"tp"},
       {228, 228228}, {"tp", "total_precipitation"}},
      {"ssrd", "Surface short-wave (solar) radiation downwards",
       "surface_downwelling_shortwave_flux_in_air", "J m-2", false, 0, 1e9, {"ssrd"}, {169},
       {"ssrd", "surface_solar_radiation_downwards"}},
      {"tcc", "Total cloud cover", "cloud_area_fraction", "1", false, 0, 1, {"tcc"}, {164, 228164},
       {"tcc", "total_cloud_cover", "clt"}},
      {"lsm", "Land-sea mask", "land_binary_mask", "1", false, 0, 1, {"lsm"}, {172},
       {"lsm", "land_sea_mask", "sftlf"}},
      {"orography", "Orography (surface altitude)", "surface_altitude", "m", false, -500, 9000,
       {"orog"}, {228002}, {"orography", "orog", "surface_altitude"}},
  };
}

struct UnitRule {
  const char* canonical;
  const char* source;
  double scale, offset;
};

// Spellings of the canonical unit itself and linear conversions into it.
const UnitRule kUnitRules[] = {
    {"m2 s-2", "m2/s2", 1, 0},      {"m2 s-2", "gpm", kGravity, 0},
    {"K", "kelvin", 1, 0},          {"K", "degC", 1, 273.15},
    {"K", "C", 1, 273.15},          {"K", "celsius", 1, 273.15},
    {"K", "degrees_Celsius", 1, 273.15}, {"K", "deg C", 1, 273.15},
    {"m s-1", "m/s", 1, 0},         {"m s-1", "knots", 0.514444, 0},
    {"m s-1", "kt", 0.514444, 0},   {"kg kg-1", "kg/kg", 1, 0},
    {"kg kg-1", "1", 1, 0},         {"kg kg-1", "g kg-1", 1e-3, 0},
    {"Pa", "hPa", 100, 0},          {"Pa", "mbar", 100, 0},
    {"Pa", "millibars", 100, 0},    {"Pa", "mb", 100, 0},
    {"Pa", "kPa", 1000, 0},         {"Pa s-1", "Pa/s", 1, 0},
    {"m", "mm", 1e-3, 0},           {"m", "kg m-2", 1e-3, 0},
    {"J m-2", "J/m2", 1, 0},        {"1", "(0 - 1)", 1, 0},
    {"1", "0-1", 1, 0},             {"1", "fraction", 1, 0},
    {"1", "%", 0.01, 0},            {"1", "~", 1, 0},
    {"%", "percent", 1, 0},
};
}  // namespace

std::string normalise_units(const std::string& units) {
  std::string out;
  for (std::size_t i = 0; i < units.size(); ++i) {
    if (units.compare(i, 2, "**") == 0) {
      ++i;
      continue;
    }
    out += units[i];
  }
  const auto first = out.find_first_not_of(' ');
  const auto last = out.find_last_not_of(' ');
  return first == std::string::npos ? "" : out.substr(first, last - first + 1);
}

Lexicon::Lexicon() : entries_(make_entries()) {}

const Lexicon& Lexicon::instance() {
  static const Lexicon lexicon;
  return lexicon;
}

const LexiconEntry* Lexicon::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

const LexiconEntry& Lexicon::at(const std::string& name) const {
  if (const auto* e = find(name)) return *e;
  std::string known;
  for (const auto& e : entries_) known += (known.empty() ? "" : ", ") + e.name;
  throw UserError(fmt::format("unknown variable '{}' (the lexicon knows: {})", name, known));
}

const LexiconEntry* Lexicon::from_grib(long param_id, const std::string& short_name,
                                       const std::string& type_of_level) const {
  // Surface geopotential is the orography, not an upper-air z field.
  if ((param_id == 129 || short_name == "z") && type_of_level == "surface")
    return find("orography");
  for (const auto& e : entries_)
    if (std::count(e.grib_param_ids.begin(), e.grib_param_ids.end(), param_id)) return &e;
  for (const auto& e : entries_)
    if (std::count(e.grib_short_names.begin(), e.grib_short_names.end(), short_name)) return &e;
  return nullptr;
}

const LexiconEntry* Lexicon::from_netcdf(const std::string& var_name,
                                         const std::string& standard_name) const {
  for (const auto& e : entries_)
    if (std::count(e.netcdf_names.begin(), e.netcdf_names.end(), var_name)) return &e;
  // A standard name alone is ambiguous for air_temperature (t or 2t) and winds, so it is
  // used only when it names exactly one entry.
  const LexiconEntry* match = nullptr;
  for (const auto& e : entries_) {
    if (!standard_name.empty() && e.standard_name == standard_name) {
      if (match) return nullptr;
      match = &e;
    }
  }
  return match;
}

UnitConversion Lexicon::conversion(const LexiconEntry& entry, const std::string& source_units,
                                   const std::string& what) const {
  const std::string src = normalise_units(source_units);
  if (src == entry.units) return {};
  // Geopotential height in metres ("m", "gpm") -> geopotential; orography given as
  // surface geopotential -> metres.
  if (entry.name == "z" && (src == "m" || src == "gpm")) return {kGravity, 0};
  if (entry.name == "orography" && src == "m2 s-2") return {1 / kGravity, 0};
  for (const auto& rule : kUnitRules)
    if (entry.units == rule.canonical && src == rule.source) return {rule.scale, rule.offset};
  throw DataError(fmt::format("{}: units '{}' cannot be converted to the canonical units '{}' of {}",
                              what, source_units, entry.units, entry.name));
}

std::pair<double, double> Lexicon::valid_range(const Variable& v) const {
  if (v.name == "z" && v.level_kind == LevelKind::isobaric) {
    // Standard-atmosphere heights of pressure levels, +-25 % (and the z500 bounds).
    static const std::map<double, std::pair<double, double>> by_level = {
        {1000, {-1.5e4, 8e3}}, {925, {-5e3, 1.4e4}}, {850, {5e3, 2e4}},
        {700, {2.2e4, 3.4e4}}, {600, {3.4e4, 4.7e4}}, {500, {4.5e4, 6.2e4}},
        {400, {6.0e4, 7.8e4}}, {300, {7.5e4, 1.0e5}}, {250, {8.5e4, 1.15e5}},
        {200, {1.0e5, 1.3e5}}, {150, {1.2e5, 1.5e5}}, {100, {1.4e5, 1.7e5}},
        {50, {1.8e5, 2.2e5}}};
    if (auto it = by_level.find(v.level); it != by_level.end()) return it->second;
  }
  const auto& e = at(v.name);
  return {e.valid_min, e.valid_max};
}

std::string to_string(LevelKind kind) {
  switch (kind) {
    case LevelKind::surface: return "surface";
    case LevelKind::isobaric: return "isobaric";
    case LevelKind::model: return "model";
  }
  return "?";
}

std::string Variable::key() const {
  switch (level_kind) {
    case LevelKind::surface: return name;
    case LevelKind::isobaric: return fmt::format("{}{}", name, level);
    case LevelKind::model: return fmt::format("{}_ml{}", name, level);
  }
  return name;
}

Variable parse_variable_key(const std::string& key) {
  const auto& lex = Lexicon::instance();
  if (const auto* e = lex.find(key); e && !e->upper_air) return {e->name, LevelKind::surface, 0, e->units};
  if (auto pos = key.find("_ml"); pos != std::string::npos) {
    const auto& e = lex.at(key.substr(0, pos));
    try {
      return {e.name, LevelKind::model, std::stod(key.substr(pos + 3)), e.units};
    } catch (const std::exception&) {
    }
  }
  // Upper-air: name followed by a pressure in hPa ("z500", "t850").
  auto digits = key.find_first_of("0123456789");
  while (digits != std::string::npos && digits > 0) {
    if (const auto* e = lex.find(key.substr(0, digits)); e && e->upper_air) {
      const auto level_text = key.substr(digits);
      if (level_text.find_first_not_of("0123456789.") == std::string::npos)
        return {e->name, LevelKind::isobaric, std::stod(level_text), e->units};
    }
    digits = key.find_first_of("0123456789", digits + 1);
  }
  if (const auto* e = lex.find(key))
    throw UserError(fmt::format("variable '{}' needs a level: write e.g. '{}500' (hPa) or '{}_ml137'",
                                key, e->name, e->name));
  lex.at(key);  // throws the unknown-variable message listing the lexicon
  throw UserError(fmt::format("cannot parse variable key '{}'", key));
}

}  // namespace gale
