#pragma once
// `gale verify`: scores of forecasts against truth by variable, lead time and region,
// with persistence and climatology baselines computed on the same cases.
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/state.hpp"

namespace gale {

// Latitude bands (WeatherBench 2): global, tropics (|lat| <= 20), northern and southern
// extra-tropics (|lat| >= 20).
struct Region {
  std::string name;
  double south, north;
};
const std::vector<Region>& standard_regions();
const Region& region_by_name(const std::string& name);  // throws ConfigError listing names

struct VerifyOptions {
  std::vector<std::string> regions{"global", "tropics", "northern_extratropics", "southern_extratropics"};
  std::map<std::string, std::vector<double>> thresholds;  // variable key -> event thresholds
  std::uint64_t seed = 0;  // rank-histogram tie breaking
};

// One score value. `score` names: bias, rmse, mae, acc, crps, spread, spread_skill,
// rmse_persistence, rmse_climatology, brier_<threshold>.
struct ScoreRow {
  std::string variable;
  double lead_hours;
  std::string region, score;
  double value;
};

// Accumulates cases (one forecast State each: members x lead times) and reports scores
// with MSE-type quantities averaged over cases before any square root.
class Verification {
 public:
  explicit Verification(VerifyOptions options);

  // `truth` holds (at least) the forecast's reference time and valid times for one
  // member; `climatology` (nullable) is matched by month of year when its times are a
  // month-of-year axis (year 1970), otherwise by exact time. All on the forecast's grid.
  void add_case(const State& forecast, const State& truth, const State* climatology);

  std::vector<ScoreRow> rows() const;
  // Rank histogram (M + 1 bins, relative frequencies) per (variable, lead, region). Cases
  // may differ in size (e.g. a member dropped by on_bad_member: drop): M is the first case's,
  // and another case's histogram is carried onto its bins through the probability integral
  // transform (see rebin_rank_histogram).
  std::map<std::tuple<std::string, double, std::string>, std::vector<double>> rank_histograms() const;
  std::size_t cases() const { return cases_; }

 private:
  struct Sums {
    double w = 0, bias = 0, mse = 0, mae = 0;          // ensemble-mean (or single) forecast
    double acc_sum = 0;                                  // ACC per case (WeatherBench 2 averages
    int acc_cases = 0;                                   // per initialisation), summed
    double ens_w = 0, crps = 0, variance = 0;            // ensemble
    double unbiased_variance = 0;                        // variance x (M + 1) / M, per case's M
    double persistence_w = 0, persistence_mse = 0;
    double climatology_w = 0, climatology_mse = 0;
    std::vector<double> ranks;
    std::map<double, std::pair<double, double>> brier;  // threshold -> (weight, sum)
  };
  VerifyOptions options_;
  std::map<std::tuple<std::string, double, std::string>, Sums> sums_;
  std::size_t cases_ = 0;
};

// A rank histogram of M + 1 bins carried onto `bins` bins: rank r stands for the probability
// integral transform interval [r, r + 1) / (M + 1), spread evenly, so a flat histogram stays
// flat and the total is kept.
std::vector<double> rebin_rank_histogram(const std::vector<double>& histogram, std::size_t bins);

// Writes scores as CSV (variable,lead_hours,region,score,value) and as a CF-style NetCDF
// (dimensions lead_time and region; one variable per score and forecast variable), both
// atomically.
void write_scores_csv(const std::vector<ScoreRow>& rows, const std::string& path);
// Reads a CSV written by write_scores_csv back (header line required; an empty value
// field or "nan" reads as NaN). Throws InputError naming the file and line.
std::vector<ScoreRow> read_scores_csv(const std::string& path);
void write_scores_netcdf(const std::vector<ScoreRow>& rows,
                         const std::map<std::tuple<std::string, double, std::string>, std::vector<double>>& ranks,
                         const std::string& path);
std::string format_scores_table(const std::vector<ScoreRow>& rows, const std::string& region = "global");

}  // namespace gale
