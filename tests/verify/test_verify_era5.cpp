// Verifies a forecast made from the real ERA5 ensemble of data assimilations: the ten
// members at 2017-01-01 00 UTC persisted to +12/+24/+36 h, against the control member's
// later analyses in the same file, with the ERA-Interim January climatology for ACC.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

#include "../data.hpp"
#include "grids/cells.hpp"
#include "ingest/selection.hpp"
#include "verify/regrid_state.hpp"
#include "verify/verification.hpp"

using namespace gale;

namespace {
State load(const std::string& file, std::vector<std::string> keys, std::vector<int> members = {}) {
  std::vector<std::unique_ptr<Reader>> readers;
  readers.push_back(open_reader(gale::test::data_file(file)));
  Request r;
  for (const auto& k : keys) r.variables.push_back(parse_variable_key(k));
  r.members = std::move(members);
  return Selection(std::move(readers), r).load();
}
double score(const std::vector<ScoreRow>& rows, const std::string& var, double lead, const std::string& name,
             const std::string& region = "global") {
  for (const auto& r : rows)
    if (r.variable == var && r.lead_hours == lead && r.score == name && r.region == region) return r.value;
  FAIL("no score " << name << " for " << var << " at " << lead << " h in " << region);
  return NAN;
}
}  // namespace

TEST_CASE("verifying a persistence ensemble from the real ERA5 EDA sample") {
  GALE_REQUIRE_DATA();
  const State analyses = load("era5-levels-members.grib", {"z500", "t850"});
  REQUIRE(analyses.members() == 10);
  const TimePoint t0 = analyses.valid_times()[0];
  std::vector<TimePoint> valid(analyses.valid_times().begin() + 1, analyses.valid_times().end());
  State forecast(10, valid, analyses.variables(), analyses.grid(), t0);
  for (std::size_t m = 0; m < 10; ++m)
    for (std::size_t t = 0; t < valid.size(); ++t)
      for (std::size_t v = 0; v < 2; ++v)
        std::copy(analyses.field(m, 0, v), analyses.field(m, 0, v) + analyses.points(), forecast.field(m, t, v));
  const State truth = load("era5-levels-members.grib", {"z500", "t850"}, {0});
  const State climatology = regrid_state_conservative(load("eraint_uvz.nc", {"z500"}), analyses.grid());

  VerifyOptions options;
  options.thresholds["t850"] = {273.15};
  Verification verification(options);
  // The climatology holds only z: verify z500 with it and t850 without.
  State z_forecast(10, valid, {analyses.variables()[0]}, analyses.grid(), t0);
  State t_forecast(10, valid, {analyses.variables()[1]}, analyses.grid(), t0);
  for (std::size_t m = 0; m < 10; ++m)
    for (std::size_t t = 0; t < valid.size(); ++t) {
      std::copy(forecast.field(m, t, 0), forecast.field(m, t, 0) + forecast.points(), z_forecast.field(m, t, 0));
      std::copy(forecast.field(m, t, 1), forecast.field(m, t, 1) + forecast.points(), t_forecast.field(m, t, 0));
    }
  verification.add_case(z_forecast, truth, &climatology);
  verification.add_case(t_forecast, truth, nullptr);
  const auto rows = verification.rows();

  // Independent check of the persistence baseline: the control's own 12 h change.
  const auto w = latitude_weights(*analyses.grid());
  double se = 0, sw = 0;
  for (std::size_t p = 0; p < analyses.points(); ++p) {
    const double d = analyses.field(0, 1, 0)[p] - analyses.field(0, 0, 0)[p];
    se += w[p] * d * d, sw += w[p];
  }
  CHECK(score(rows, "z500", 12, "rmse_persistence") == Approx(std::sqrt(se / sw)).epsilon(1e-9));
  // Persisted analyses degrade with lead; a few hundred m2 s-2 at 36 h for z500.
  CHECK(score(rows, "z500", 12, "rmse") < score(rows, "z500", 36, "rmse"));
  CHECK(score(rows, "z500", 36, "rmse") > 50);
  CHECK(score(rows, "z500", 36, "rmse") < 1500);
  CHECK(score(rows, "z500", 12, "acc") > 0.9);
  CHECK(score(rows, "z500", 12, "acc") > score(rows, "z500", 36, "acc"));
  // An analysis ensemble persisted has far too little spread for a 36 h forecast.
  CHECK(score(rows, "t850", 36, "spread_skill") < 0.5);
  CHECK(score(rows, "t850", 36, "crps") > 0);
  CHECK(score(rows, "t850", 36, "brier_273.15") >= 0);
  CHECK(score(rows, "z500", 24, "rmse_climatology") > score(rows, "z500", 24, "rmse"));
  const auto ranks = verification.rank_histograms();
  const auto& h = ranks.at({"t850", 36.0, "global"});
  REQUIRE(h.size() == 11);
  double total = 0;
  for (double f : h) total += f;
  CHECK(total == Approx(1));
  // Under-dispersed: the truth falls outside the ensemble far more than 2/11 of the time.
  CHECK(h.front() + h.back() > 2.0 / 11);
}

TEST_CASE("ensembles of different sizes verify together, rank histograms on the first case's bins") {
  // 4 bins onto 5: rank 0 is the PIT interval [0, 0.25), which is 0.8 of bin [0, 0.2) and
  // 0.2 of bin [0.2, 0.4); a flat histogram stays flat; equal sizes are untouched.
  const auto low = rebin_rank_histogram({1, 0, 0, 0}, 5);
  REQUIRE(low.size() == 5);
  CHECK(low[0] == Approx(0.8).epsilon(1e-12));
  CHECK(low[1] == Approx(0.2).epsilon(1e-12));
  CHECK(low[2] + low[3] + low[4] == Approx(0.0).margin(1e-12));
  for (const double f : rebin_rank_histogram({0.25, 0.25, 0.25, 0.25}, 5)) CHECK(f == Approx(0.2).epsilon(1e-12));
  CHECK(rebin_rank_histogram({0.1, 0.6, 0.3}, 3) == std::vector<double>{0.1, 0.6, 0.3});
  const auto wide = rebin_rank_histogram({0.1, 0.2, 0.3, 0.4}, 11);
  CHECK(std::accumulate(wide.begin(), wide.end(), 0.0) == Approx(1.0).epsilon(1e-12));

  // The ERA5 EDA persisted as before: a 10-member case and a 9-member case (as when
  // on_bad_member: drop removed one member) verify together.
  GALE_REQUIRE_DATA();
  const State analyses = load("era5-levels-members.grib", {"z500"});
  const TimePoint t0 = analyses.valid_times()[0];
  const std::vector<TimePoint> valid(analyses.valid_times().begin() + 1, analyses.valid_times().end());
  const State truth = load("era5-levels-members.grib", {"z500"}, {0});
  auto persisted = [&](std::size_t members) {
    State forecast(members, valid, analyses.variables(), analyses.grid(), t0);
    for (std::size_t m = 0; m < members; ++m)
      for (std::size_t t = 0; t < valid.size(); ++t)
        std::copy(analyses.field(m, 0, 0), analyses.field(m, 0, 0) + analyses.points(), forecast.field(m, t, 0));
    return forecast;
  };
  Verification verification{VerifyOptions{}};
  verification.add_case(persisted(10), truth, nullptr);
  REQUIRE_NOTHROW(verification.add_case(persisted(9), truth, nullptr));
  CHECK(verification.cases() == 2);
  for (const auto& [key, histogram] : verification.rank_histograms()) {
    CHECK(histogram.size() == 11);
    CHECK(std::accumulate(histogram.begin(), histogram.end(), 0.0) == Approx(1.0).epsilon(1e-9));
  }
  const auto rows = verification.rows();
  CHECK(std::isfinite(score(rows, "z500", 12, "spread_skill")));
  CHECK(score(rows, "z500", 12, "spread_skill") > 0);
}
