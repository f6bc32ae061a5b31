#include <catch2/catch.hpp>

#include <algorithm>
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

TEST_CASE("with forcing: statistically stationary after spin-up (30-day window means within 10%)") {
  // Diagnostic: global mean kinetic energy per unit area, averaged 6-hourly over
  // consecutive 30-day windows after a 30-day spin-up (default T42 configuration).
  ShallowWaterModel model{ShallowWaterConfig{}};
  model.initialise_jet();
  model.run(30 * 86400);
  std::vector<double> window_means;
  for (int w = 0; w < 3; ++w) {
    double sum = 0;
    for (int k = 0; k < 120; ++k) {
      model.run(6 * 3600);
      sum += model.kinetic_energy_per_area();
    }
    window_means.push_back(sum / 120);
  }
  INFO("window mean KE (m2 s-2): " << window_means[0] << " " << window_means[1] << " " << window_means[2]);
  CHECK(window_means[0] > 30);  // a flow with a jet and eddies, not a fluid at rest
  for (double m : window_means) CHECK(m == Approx(window_means[0]).epsilon(0.10));
  const auto f = model.fields();
  const auto [lo, hi] = std::minmax_element(f.geopotential.begin(), f.geopotential.end());
  CHECK(*lo > 4.5e4);  // inside the physical range of z500, so ingest accepts the files
  CHECK(*hi < 6.2e4);
}

TEST_CASE("two runs that differ by a 1e-6 perturbation diverge") {
  // Default (forced) T42 configuration; after a 20-day spin-up, one copy's vorticity is
  // perturbed by 1e-6 of its typical magnitude (1e-5 s^-1). The RMS difference of z is
  // measured at days 0, 5, 10, 20 and 30 (reported in the test output).
  ShallowWaterModel a{ShallowWaterConfig{}}, b{ShallowWaterConfig{}};
  a.initialise_jet();
  a.run(20 * 86400);
  b.restore(a.snapshot());
  b.perturb_vorticity(1e-6 * 1e-5, 99);
  auto rms_z = [&] {
    const auto fa = a.fields(), fb = b.fields();
    double s = 0;
    for (std::size_t p = 0; p < fa.geopotential.size(); ++p)
      s += std::pow(fa.geopotential[p] - fb.geopotential[p], 2);
    return std::sqrt(s / double(fa.geopotential.size()));
  };
  std::vector<double> errors{rms_z()};
  int day = 0;
  for (int next : {5, 10, 20, 30}) {
    a.run((next - day) * 86400.0);
    b.run((next - day) * 86400.0);
    day = next;
    errors.push_back(rms_z());
  }
  WARN("error growth, RMS z difference (m2 s-2) at days 0/5/10/20/30: " << errors[0] << " " << errors[1] << " "
                                                                      << errors[2] << " " << errors[3] << " "
                                                                      << errors[4]);
  CHECK(errors[2] > errors[1]);
  CHECK(errors[3] > errors[2]);
  CHECK(errors[4] > errors[3]);
  CHECK(errors[4] > 100 * errors[1]);
}
