// The global-mean fixer: it puts back each listed variable's area-weighted global mean,
// moves the whole field by one constant (gradients untouched), leaves the other variables
// alone, and refuses keys it cannot conserve.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/errors.hpp"
#include "core/lexicon.hpp"
#include "ensemble/global_mean_fixer.hpp"
#include "grids/cells.hpp"
#include "grids/gaussian.hpp"

using namespace gale;

namespace {

std::shared_ptr<const Grid> gaussian_grid(int rows, int columns) {
  const auto g = gaussian_latitudes(rows / 2);
  std::vector<double> lons;
  for (int i = 0; i < columns; ++i) lons.push_back(360.0 * i / columns);
  return Grid::regular(GridKind::regular_gaussian, g.latitudes_deg, lons);
}

// A stand-in for a learned model that drifts: each step adds a latitude-dependent bias
// (mostly positive, so the global mean grows) to every variable.
class DriftingStepper : public Stepper {
 public:
  explicit DriftingStepper(std::shared_ptr<const Grid> grid) : grid_(std::move(grid)) {}
  std::string name() const override { return "drifting"; }
  std::vector<Variable> variables() const override {
    return {parse_variable_key("z500"), parse_variable_key("t500"), parse_variable_key("ws500")};
  }
  std::shared_ptr<const Grid> grid() const override { return grid_; }
  std::size_t input_times() const override { return 1; }
  Duration time_step() const override { return std::chrono::hours(6); }
  State step(const State& inputs, const StepKey&) override {
    State out(inputs.members(), {inputs.valid_times().back() + time_step()}, variables(), grid_,
              inputs.reference_time());
    for (std::size_t m = 0; m < inputs.members(); ++m)
      for (std::size_t v = 0; v < 3; ++v) {
        const float* in = inputs.field(m, inputs.times() - 1, inputs.index_of(variables()[v].key()));
        float* x = out.field(m, 0, v);
        for (std::size_t p = 0; p < grid_->size(); ++p)
          x[p] = in[p] + float(40 + 25 * std::sin(grid_->lat()[p] * M_PI / 180) + 10 * m);
      }
    return out;
  }

 private:
  std::shared_ptr<const Grid> grid_;
};

State initial_state(const std::shared_ptr<const Grid>& grid, std::size_t members) {
  // The variables in another order than the stepper's: the fixer looks them up by key.
  State s(members, {TimePoint{}}, {parse_variable_key("t500"), parse_variable_key("z500"), parse_variable_key("ws500")},
          grid, TimePoint{});
  for (std::size_t m = 0; m < members; ++m)
    for (std::size_t p = 0; p < grid->size(); ++p) {
      const double lat = grid->lat()[p] * M_PI / 180, lon = grid->lon()[p] * M_PI / 180;
      s.field(m, 0, 0)[p] = float(250 + 20 * std::cos(lat) + 3 * std::sin(3 * lon));
      s.field(m, 0, 1)[p] = float(54000 + 3000 * std::cos(lat) * std::cos(lat) + 200 * std::cos(2 * lon) * std::cos(lat));
      s.field(m, 0, 2)[p] = float(10 + 5 * std::cos(lat));
    }
  return s;
}

}  // namespace

TEST_CASE("the fixer restores the global mean by one constant shift and touches nothing else") {
  const auto grid = gaussian_grid(32, 64);
  const auto weights = latitude_weights(*grid);
  const State initial = initial_state(grid, 2);
  DriftingStepper reference(grid);
  GlobalMeanFixer fixer(std::make_unique<DriftingStepper>(grid), {"z500", "t500"});
  CHECK(fixer.name() == "drifting");
  CHECK(fixer.variables().size() == 3);

  State fixed = initial;
  State drifted = initial;
  for (int step = 1; step <= 8; ++step) {
    fixed = fixer.step(fixed, StepKey{1, 0, step});
    drifted = reference.step(drifted, StepKey{1, 0, step});
  }
  for (std::size_t m = 0; m < 2; ++m) {
    for (const char* key : {"z500", "t500"}) {
      INFO(key << " member " << m);
      const float* x = fixed.field(m, 0, fixed.index_of(key));
      const float* start = initial.field(m, 0, initial.index_of(key));
      const float* free_run = drifted.field(m, 0, drifted.index_of(key));
      // Float fields: the mean is put back to within float rounding of a 5e4 field (1e-7).
      CHECK(weighted_mean(x, weights) == Approx(weighted_mean(start, weights)).epsilon(1e-6));
      // Without the fixer the mean grows by about 8 x 40 (plus the member's 10 per step).
      CHECK(weighted_mean(free_run, weights) - weighted_mean(start, weights) > 300);
      // The difference to the free run is one constant: every gradient is the model's.
      const double shift = double(x[0]) - free_run[0];
      for (std::size_t p = 0; p < grid->size(); ++p) REQUIRE(double(x[p]) - free_run[p] == Approx(shift).margin(0.02));
    }
    // ws500 is not listed: it drifts as the model made it.
    const float* ws = fixed.field(m, 0, fixed.index_of("ws500"));
    const float* ws_free = drifted.field(m, 0, drifted.index_of("ws500"));
    for (std::size_t p = 0; p < grid->size(); ++p) REQUIRE(ws[p] == ws_free[p]);
  }
}

TEST_CASE("the fixer refuses keys and grids it cannot conserve, naming them") {
  const auto grid = gaussian_grid(16, 32);
  REQUIRE_THROWS_MATCHES(GlobalMeanFixer(std::make_unique<DriftingStepper>(grid), {"z500", "q850"}), ConfigError,
                         Catch::Message("the model has no variable 'q850' (it has: z500, t500, ws500)"));
  REQUIRE_THROWS_WITH(GlobalMeanFixer(std::make_unique<DriftingStepper>(grid), {"ws500"}),
                      Catch::Contains("ws500 is derived from the winds"));
  const auto mesh = Grid::points(GridKind::mesh, {0, 10, -10}, {0, 20, 40});
  REQUIRE_THROWS_AS(GlobalMeanFixer(std::make_unique<DriftingStepper>(mesh), {"z500"}), UserError);
  REQUIRE_THROWS_WITH(GlobalMeanFixer(std::make_unique<DriftingStepper>(mesh), {"z500"}),
                      Catch::Contains("no latitude rows"));
}
