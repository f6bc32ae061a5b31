#pragma once
// The variable lexicon: one canonical name and SI unit per quantity, and how every source
// (ecCodes shortName/paramId, NetCDF variable names and CF standard names) maps onto it.
// Ingest resolves names and converts units exactly once; nothing downstream guesses again.
#include <optional>
#include <string>
#include <vector>

#include "core/variable.hpp"

namespace gale {

struct LexiconEntry {
  std::string name;           // canonical, ERA5 style: "z", "2t", "10u"
  std::string long_name;      // "Geopotential"
  std::string standard_name;  // CF standard name
  std::string units;          // canonical SI units, CF syntax: "m2 s-2"
  bool upper_air;             // true: lives on pressure/model levels; false: single level
  double valid_min, valid_max;  // physical range in canonical units (rejects wrong units)
  std::vector<std::string> grib_short_names;
  std::vector<long> grib_param_ids;
  std::vector<std::string> netcdf_names;  // variable names seen in the wild
};

// A linear unit conversion: canonical = value * scale + offset.
struct UnitConversion {
  double scale = 1, offset = 0;
  bool identity() const { return scale == 1 && offset == 0; }
};

class Lexicon {
 public:
  static const Lexicon& instance();

  const LexiconEntry* find(const std::string& canonical_name) const;
  const LexiconEntry& at(const std::string& canonical_name) const;  // throws UserError
  const std::vector<LexiconEntry>& entries() const { return entries_; }

  // GRIB: paramId is authoritative; shortName is the fallback. typeOfLevel decides the
  // special case of surface geopotential ("z" on the surface is orography).
  const LexiconEntry* from_grib(long param_id, const std::string& short_name,
                                const std::string& type_of_level) const;
  // NetCDF: CF standard_name first (when it names exactly one entry), then variable name.
  const LexiconEntry* from_netcdf(const std::string& var_name,
                                  const std::string& standard_name) const;

  // Conversion from `source_units` (any common spelling: "m**2 s**-2", "gpm", "degC",
  // "hPa", "%", "(0 - 1)", ...) to the entry's canonical units. Throws DataError naming
  // `what` when no conversion is known.
  UnitConversion conversion(const LexiconEntry& entry, const std::string& source_units,
                            const std::string& what) const;

  // Physical range check for a field; level-specific where the quantity varies strongly
  // with height (z500 in 4.5e4..6.2e4 m2 s-2).
  std::pair<double, double> valid_range(const Variable& v) const;

 private:
  Lexicon();
  std::vector<LexiconEntry> entries_;
};

// "m**2 s**-2" -> "m2 s-2", "m s**-1" -> "m s-1", trims spaces.
std::string normalise_units(const std::string& units);

}  // namespace gale
