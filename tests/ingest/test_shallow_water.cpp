#include <catch2/catch.hpp>

#include <cmath>

#include "ingest/shallow_water.hpp"

using namespace gale;

namespace {
ShallowWaterConfig inviscid() {
  ShallowWaterConfig c;
  c.forcing = false;
  c.drag_days = 0;
  c.hyperdiffusion_hours = 0;
  c.tracer = false;
  return c;
}
double relative_l2(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (std::size_t p = 0; p < a.size(); ++p) num += (a[p] - b[p]) * (a[p] - b[p]), den += b[p] * b[p];
  return std::sqrt(num / den);
}
}  // namespace

TEST_CASE("Williamson test case 2 stays steady for 5 days (relative l2 of height < 1e-3)") {
  // alpha = 0: zonal flow; alpha = pi/2 - 0.05: the flow crosses (nearly) the poles.
  const double alpha = GENERATE(0.0, M_PI / 4, M_PI / 2 - 0.05);
  ShallowWaterModel model(inviscid());
  const double a = model.config().radius, u0 = 2 * M_PI * a / (12 * 86400);
  model.initialise_williamson2(u0, 2.94e4, alpha);
  const auto initial = model.fields();
  model.run(5 * 86400);
  const auto final_fields = model.fields();
  const double err = relative_l2(final_fields.geopotential, initial.geopotential);
  INFO("alpha " << alpha << ": relative l2 error of height after 5 days: " << err);
  CHECK(err < 1e-3);
  CHECK(relative_l2(final_fields.u, initial.u) < 1e-3);
  if (alpha == 0.0) {  // the analytic zonal flow u = u0 cos(lat)
    const auto& sht = model.transform();
    for (int j = 0; j < sht.nlat(); ++j)
      REQUIRE(final_fields.u[j * sht.nlon()] == Approx(u0 * std::sqrt(1 - sht.mu()[j] * sht.mu()[j])).margin(1e-6 * u0));
  }
}

TEST_CASE("mass is conserved to 1e-10; energy and enstrophy nearly so without forcing and dissipation") {
  ShallowWaterModel model(inviscid());
  model.initialise_jet(1e-5);
  const double m0 = model.mass(), e0 = model.energy(), z0 = model.potential_enstrophy();
  model.run(5 * 86400);
  const double m1 = model.mass(), e1 = model.energy(), z1 = model.potential_enstrophy();
  INFO("relative changes over 5 days: mass " << (m1 - m0) / m0 << ", energy " << (e1 - e0) / e0
                                             << ", potential enstrophy " << (z1 - z0) / z0);
  CHECK(std::abs(m1 - m0) / m0 < 1e-10);
  CHECK(std::abs(e1 - e0) / e0 < 1e-4);
  CHECK(std::abs(z1 - z0) / z0 < 1e-3);
}
