#pragma once
// GRIB2 ensemble products: members, ensemble mean / spread / minimum / maximum, percentiles
// and exceedance probabilities, instantaneous or over a time interval, one message per
// field, readable by grib_ls / grib_dump / cfgrib. Grid, level, paramId, reference time,
// packing and atomic output are encoded as by the member-State writer (grib_writer.hpp):
// regular lat-lon and global regular Gaussian grids only, paramId from the lexicon (which
// also sets the level type), simple packing with `bits_per_value` bits, NaN = bitmap-missing.
//
// Product definition templates (productDefinitionTemplateNumber, instant / interval):
//
// | product            | template | keys                                                             |
// | ------------------ | -------- | ---------------------------------------------------------------- |
// | member             | 1 / 11   | typeOfEnsembleForecast 0 (unperturbed control) for member 0,     |
// |                    |          | 3 (positively perturbed) otherwise (code table 4.6);             |
// |                    |          | perturbationNumber = member; numberOfForecastsInEnsemble;        |
// |                    |          | typeOfProcessedData cf (3) / pf (4)                              |
// | mean               | 2 / 12   | derivedForecast 0 "unweighted mean of all members" (table 4.7)   |
// | spread             | 2 / 12   | derivedForecast 4 "spread of all members" (ECMWF's `es`, the     |
// |                    |          | ensemble standard deviation; 2 is the std. dev. w.r.t. a CLUSTER |
// |                    |          | mean and is not used)                                            |
// | minimum / maximum  | 2 / 12   | derivedForecast 8 / 9 "minimum / maximum of all members"         |
// | percentile         | 6 / 10   | percentileValue (a whole number 0..100: the key is one octet;    |
// |                    |          | fractional percentiles are UnsupportedError)                     |
// | probability_above  | 5 / 9    | probabilityType 3 "above lower limit", lower limit = threshold   |
// | probability_below  | 5 / 9    | probabilityType 0 "below lower limit", lower limit = threshold   |
//
// - Derived products (2/12) carry numberOfForecastsInEnsemble = ensemble_size. Every
//   product but a member has typeOfProcessedData 5 (control and perturbed forecast
//   products, code table 1.4); all have typeOfGeneratingProcess 4 (ensemble forecast).
// - Probabilities follow ECMWF's ENS probability products: the physical parameter's
//   discipline / category / number (paramId of the variable, e.g. 167 for 2t) with template
//   5/9, the threshold as scaleFactorOfLowerLimit / scaledValueOfLowerLimit in the
//   parameter's GRIB units (= Gale's canonical units for every lexicon entry written, so
//   `threshold` is not converted; the scale factor is the smallest 0..9 that stores it
//   exactly as a decimal, else it is rounded to 9 decimals / 31 bits), the upper limit
//   missing. forecastProbabilityNumber is the 1-based index of the (type, threshold) pair
//   among the distinct pairs of the same variable in this call (in order of first
//   appearance), totalNumberOfForecastProbabilities the number of such pairs.
//   VALUES: the caller passes probabilities as FRACTIONS 0..1 (Gale's convention, as in
//   verify/ and products/); the file stores PERCENT 0..100 (ECMWF's and ecCodes' unit
//   for probability parameters, units "%"). Values outside 0..1 are DataError.
//   Where ecCodes has a dedicated paramId for the exact event (e.g. 131060 "total
//   precipitation of at least 1 mm", units "%"), grib_ls shows that paramId; otherwise it
//   shows the physical parameter's name and units (t850 probability: "Temperature", "K")
//   although templates 5/9 hold percentages: read probabilities by template, not units.
// - Time: dataDate/dataTime = reference (whole minutes). Instant products: forecastTime =
//   valid - reference in hours (minutes when not whole hours). Interval products
//   ([interval_start, valid]): startStep = interval_start - reference, endStep = valid -
//   reference (stepUnits h, or m when either is not whole hours), typeOfStatisticalProcessing
//   (code table 4.10) 1 "accum", 2 "max", 3 "min", and ecCodes' stepType names the same.
//   The paramId is set before the statistical process; with it ecCodes may report a more
//   specific parameter (2t + max over 6 h reads back as paramId 121 `mx2t6`), while
//   discipline / category / number / level stay those of the variable. Accumulated
//   parameters (tp, ssrd) exist only as interval products (else UnsupportedError).
// - Every message is decoded again from the written temporary file before it is committed
//   and compared with what was meant: template number, the keys above, grid size, and the
//   values (missing points exactly; others within the packing error (max - min) /
//   (2^bits - 1) plus float32 rounding |x| 2^-23). A mismatch is InternalError naming the
//   path and the field.
// - The file appears atomically with `<path>.sha256` (AtomicOutput); on any error no file
//   (and no temporary) is left and an existing product at `path` is untouched.
#include <optional>
#include <string>
#include <vector>

#include "core/grid.hpp"
#include "core/time.hpp"
#include "core/variable.hpp"

namespace gale {

enum class GribProduct { member, mean, spread, minimum, maximum, percentile, probability_above, probability_below };

std::string to_string(GribProduct product);

struct GribProductField {
  Variable variable;  // e.g. parse_variable_key("ws500"), ("2t"), ("tp")
  GribProduct product = GribProduct::mean;
  TimePoint valid;            // instant products: valid time; interval products: end of interval
  double percentile = 0;      // product == percentile: 0..100, whole numbers
  double threshold = 0;       // probability_*: in the variable's canonical units
  int member = 0;             // product == member: 0 (control) .. ensemble_size - 1
  // Interval products (accumulation / extreme over [interval_start, valid]): templates 11
  // (member), 12 (derived), 9 (probability), 10 (percentile). statistical_process is
  // "accum", "max" or "min" and is required exactly when interval_start is set.
  std::optional<TimePoint> interval_start;
  std::string statistical_process;

  // "2t mean 2024-01-15T12:00:00Z", "tp probability_above 0.001 [06:00..12:00] accum": for errors.
  std::string describe() const;
};

struct GribProductOptions {
  int ensemble_size = 0;    // numberOfForecastsInEnsemble; >= 1, required for member/derived fields
  int bits_per_value = 16;  // simple packing, 1..32
};

// Writes one GRIB2 message per field to `path`, in the order of `fields`. `values` holds
// fields.size() x grid.size() floats, field-major (field i at values[i * grid.size()]),
// NaN = missing. Throws InputError naming the path when the file cannot be written,
// UnsupportedError (naming the path) for grids, levels, parameters, steps or percentiles
// GRIB2 cannot carry, ConfigError for invalid options or field descriptions, DataError for
// infinite values or probabilities outside 0..1, InternalError for a size mismatch of
// `values` or when a written message does not decode back to what was meant. No partial
// file is left behind on any error.
void write_grib2_products(const std::string& path, const Grid& grid, TimePoint reference,
                          const std::vector<GribProductField>& fields, const std::vector<float>& values,
                          const GribProductOptions& options);

}  // namespace gale
