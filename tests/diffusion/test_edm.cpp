// EDM preconditioning identities, the preconditioned denoiser with the ideal network for
// Gaussian data, the EDM loss, training noise levels, and noise white on the sphere on a
// real N32 Gaussian grid.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/errors.hpp"
#include "diffusion/edm.hpp"
#include "diffusion/sphere_noise.hpp"
#include "grids/cells.hpp"
#include "grids/gaussian.hpp"

// After LibTorch's headers: c10 defines its own CHECK, which Catch must override.
#include <catch2/catch.hpp>

using namespace gale;
using namespace gale::diffusion;

namespace {

// The ideal raw network for data y ~ N(mu, s^2) per dimension: the F for which D(x, sigma)
// is the exact posterior mean E[y | x] = mu + s^2 / (s^2 + sigma^2) (x - mu). It recovers
// sigma from c_noise = ln(sigma)/4 and x from x_in = c_in x.
Network ideal_network(const EdmSpec& e, double mu, double s) {
  return [e, mu, s](const at::Tensor& x_in, const at::Tensor& c_noise_t) {
    const auto sigma = broadcast_sigma(at::exp(4.0 * c_noise_t), x_in);
    const auto x = x_in * at::sqrt(sigma * sigma + e.sigma_data * e.sigma_data);
    const auto exact = mu + (s * s) / (s * s + sigma * sigma) * (x - mu);
    return (exact - c_skip(e, sigma) * x) / c_out(e, sigma);
  };
}

at::Tensor exact_denoiser(const at::Tensor& x, const at::Tensor& sigma_b, double mu, double s) {
  return mu + (s * s) / (s * s + sigma_b * sigma_b) * (x - mu);
}

// Element-wise ops and draws of ~10^6 values: intra-op threads only contend on a loaded machine.
const bool single_threaded = [] {
  at::set_num_threads(1);
  return true;
}();

std::shared_ptr<const Grid> n32() {
  const auto g = gaussian_latitudes(32);
  std::vector<double> lons;
  for (int i = 0; i < 128; ++i) lons.push_back(360.0 * i / 128);
  return Grid::regular(GridKind::regular_gaussian, g.latitudes_deg, lons);
}

}  // namespace

TEST_CASE("EDM preconditioning identities hold for every sigma and sigma_data") {
  for (double sd : {0.5, 1.0, 2.3}) {
    EdmSpec e;
    e.sigma_data = sd;
    for (double s : {0.002, 0.03, 0.5, 1.0, 7.0, 80.0, 500.0}) {
      CAPTURE(sd, s);
      const double skip = c_skip(e, s), out = c_out(e, s), in = c_in(e, s);
      CHECK(in * in * (s * s + sd * sd) == Approx(1).epsilon(1e-13));                       // unit-variance input
      CHECK(((1 - skip) * (1 - skip) * sd * sd + skip * skip * s * s) / (out * out) == Approx(1).epsilon(1e-12));
      CHECK(skip + out * out / (sd * sd) == Approx(1).epsilon(1e-13));
      CHECK(loss_weight(e, s) * out * out == Approx(1).epsilon(1e-13));                      // lambda c_out^2 = 1
      CHECK(c_noise(e, s) == Approx(std::log(s) / 4).epsilon(1e-15));
    }
    // Limits: D -> identity as sigma -> 0; D -> sd * F (skip -> 0) as sigma -> infinity.
    CHECK(c_skip(e, 1e-8) == Approx(1).epsilon(1e-12));
    CHECK(c_out(e, 1e-8) == Approx(1e-8).epsilon(1e-6));
    CHECK(c_skip(e, 1e6) < 1e-11);
    CHECK(c_out(e, 1e6) == Approx(sd).epsilon(1e-9));
  }
  // The tensor versions equal the scalar ones.
  EdmSpec e;
  e.sigma_data = 0.7;
  const std::vector<double> sig{0.03, 0.4, 3.0, 80.0};
  const auto t = at::tensor(sig, at::kDouble);
  const auto skip = c_skip(e, t), out = c_out(e, t), in = c_in(e, t), noise = c_noise(e, t), w = loss_weight(e, t);
  for (std::size_t i = 0; i < sig.size(); ++i) {
    const auto k = std::int64_t(i);
    CHECK(skip[k].item<double>() == Approx(c_skip(e, sig[i])).epsilon(1e-14));
    CHECK(out[k].item<double>() == Approx(c_out(e, sig[i])).epsilon(1e-14));
    CHECK(in[k].item<double>() == Approx(c_in(e, sig[i])).epsilon(1e-14));
    CHECK(noise[k].item<double>() == Approx(c_noise(e, sig[i])).epsilon(1e-14));
    CHECK(w[k].item<double>() == Approx(loss_weight(e, sig[i])).epsilon(1e-14));
  }
}

TEST_CASE("D with the ideal network reproduces the exact denoiser for Gaussian data") {
  const double mu = 0.7, s = 0.5;
  EdmSpec e;  // sigma_data = 1 != s: the identity does not depend on sigma_data matching
  auto gen = keyed_generator({11, 0, 0}, NoiseStream::training_noise);
  const auto x = 3.0 * at::randn({4, 1000, 2}, gen, at::kDouble);
  const auto sigma = at::tensor(std::vector<double>{0.03, 0.7, 5.0, 80.0}, at::kDouble);
  const auto f = ideal_network(e, mu, s);
  const auto d = precondition(e, f, x, sigma);
  CHECK(at::allclose(d, exact_denoiser(x, broadcast_sigma(sigma, x), mu, s), 1e-11, 1e-11));
  // make_denoiser (the samplers' callback) is the same map with one sigma for the batch.
  const auto denoise = make_denoiser(e, f);
  CHECK(at::allclose(denoise(x, 2.0), exact_denoiser(x, at::full({1}, 2.0, at::kDouble), mu, s), 1e-11, 1e-11));
  // With sigma_data = s the ideal network ignores x: F = sigma mu / (s sqrt(sigma^2 + s^2)).
  EdmSpec matched;
  matched.sigma_data = s;
  const auto fx = ideal_network(matched, mu, s)(x * c_in(matched, 0.7), at::full({4}, std::log(0.7) / 4, at::kDouble));
  CHECK(at::allclose(fx, at::full_like(fx, 0.7 * mu / (s * std::sqrt(0.49 + s * s))), 1e-11, 1e-11));
  CHECK_THROWS_AS(precondition(e, f, x, sigma.slice(0, 0, 3)), InternalError);
}

TEST_CASE("the EDM loss of the exact denoiser is 1 at every sigma when sigma_data equals the data std") {
  // E[lambda (D* - y)^2] = lambda * posterior variance = (s^2 + sd^2)/(s sd)^2 * s^2 sd^2/(s^2 + sd^2) = 1
  // per element when sd = s (data N(mu, s^2)), whatever sigma is.
  const double mu = 0.7, s = 0.5;
  EdmSpec e;
  e.sigma_data = s;
  const std::int64_t points = 20000;
  const std::vector<double> levels{0.01, 0.1, 0.5, 1.0, 3.0, 10.0, 40.0, 80.0};
  const auto b = std::int64_t(levels.size());
  auto gen = keyed_generator({12, 0, 0}, NoiseStream::training_noise);
  const auto y = mu + s * at::randn({b, points, 1}, gen, at::kDouble);
  const auto n = at::randn({b, points, 1}, gen, at::kDouble);
  const auto sigma = at::tensor(levels, at::kDouble);
  const auto f = ideal_network(e, mu, s);
  const auto area = (0.2 + at::rand({1, points, 1}, gen, at::kDouble));  // arbitrary positive weights
  const double overall = edm_loss(e, f, y, sigma, n, area).item<double>();
  if (std::getenv("GALE_TEST_VERBOSE")) std::printf("EDM loss of the exact denoiser: %.5f\n", overall);
  CHECK(overall == Approx(1).epsilon(0.02));
  for (std::int64_t i = 0; i < b; ++i) {
    const auto sl = [&](const at::Tensor& t) { return t.slice(0, i, i + 1); };
    const double li = edm_loss(e, f, sl(y), sl(sigma), sl(n), area).item<double>();
    CAPTURE(levels[std::size_t(i)]);
    CHECK(li == Approx(1).epsilon(0.04));  // 20,000 chi-square(1) terms: sd ~1%
  }
  // The loss is the weighted mean of lambda (D - y)^2 (the direct form of Karras eq. 2).
  const auto sb = broadcast_sigma(sigma, y);
  const auto direct = loss_weight(e, sb) * (precondition(e, f, y + sb * n, sigma) - y).square();
  const auto w = area.expand_as(y);
  CHECK(overall == Approx(((w * direct).sum() / w.sum()).item<double>()).epsilon(1e-9));
  // A worse network costs more: F + 0.2 adds 0.04 + 0.4 mean(F - target) ~ 0.04.
  const Network worse = [&](const at::Tensor& xi, const at::Tensor& cn) { return f(xi, cn) + 0.2; };
  CHECK(edm_loss(e, worse, y, sigma, n, area).item<double>() - overall == Approx(0.04).margin(0.005));
}

TEST_CASE("training noise levels are log-normal with P_mean and P_std and keyed") {
  EdmSpec e;
  auto gen = keyed_generator({7, 0, 0}, NoiseStream::training_sigma);
  const auto sigma = sample_training_sigma(e, 100000, gen);
  REQUIRE(sigma.sizes().equals({100000}));
  CHECK((sigma > 0).all().item<bool>());
  const auto ls = at::log(sigma);
  CHECK(ls.mean().item<double>() == Approx(e.p_mean).margin(0.02));  // sd of the mean 0.004
  CHECK(ls.std().item<double>() == Approx(e.p_std).epsilon(0.02));   // sd 0.2%
  auto again = keyed_generator({7, 0, 0}, NoiseStream::training_sigma);
  CHECK(at::equal(sample_training_sigma(e, 100000, again), sigma));
  EdmSpec bad;
  bad.sigma_max = 0.01;
  CHECK_THROWS_AS(bad.validate(), ConfigError);
}

TEST_CASE("sphere noise on an N32 Gaussian grid is white with respect to area") {
  const auto grid = n32();
  const std::int64_t rows = 64, cols = 128, points = rows * cols, samples = 1024;
  REQUIRE(std::int64_t(grid->size()) == points);
  const auto area = at::tensor(latitude_weights(*grid), at::kDouble);  // per point, mean 1
  const auto a = normalised_areas(area);
  CHECK(a.mean().item<double>() == Approx(1).epsilon(1e-14));
  // The smallest cells (outermost rows) are ~0.06 of the mean: per-point variance ~17 there.
  CHECK(a.min().item<double>() < 0.1);

  auto gen = keyed_generator({21, 3, 5}, NoiseStream::initial);
  const auto xi = sample_sphere_noise({samples, points}, area, gen);
  REQUIRE(xi.sizes().equals({samples, points}));

  // (2) area-weighted mean square 1 and area-weighted mean 0 (2M draws: sd 0.1% and 0.0003).
  CHECK(((xi * xi * a).sum() / (a.sum() * samples)).item<double>() == Approx(1).epsilon(0.01));
  CHECK(((xi * a).sum() / (a.sum() * samples)).item<double>() == Approx(0).margin(0.003));
  // Per point: var(xi_i) a_i = 1. Checked per row (32,768 draws each: sd 0.8%).
  const auto row_var = (xi * xi).reshape({samples, rows, cols}).mean(at::IntArrayRef{0, 2});
  const auto row_a = a.reshape({rows, cols}).select(1, 0);
  const auto scaled = row_var * row_a;
  if (std::getenv("GALE_TEST_VERBOSE"))
    std::printf("sphere noise: weighted mean square %.5f, weighted mean %.5f, row var*a in [%.4f, %.4f], a_min %.4f\n",
                ((xi * xi * a).sum() / (a.sum() * samples)).item<double>(), ((xi * a).sum() / (a.sum() * samples)).item<double>(),
                scaled.min().item<double>(), scaled.max().item<double>(), a.min().item<double>());
  CHECK(scaled.min().item<double>() > 0.96);
  CHECK(scaled.max().item<double>() < 1.04);
  // The polar rows really are noisier per point than the equatorial ones, by a_eq / a_pole.
  CHECK(row_var[0].item<double>() / row_var[31].item<double>() ==
        Approx(row_a[31].item<double>() / row_a[0].item<double>()).epsilon(0.06));

  // (1) Regional integrals I_R = sum_{i in R} a_i xi_i have variance |R| = sum_{i in R} a_i.
  // Every row as a region, pooled (64 x 1024 draws: sd 0.6%).
  const auto ax = (xi * a).reshape({samples, rows, cols});
  const auto row_integral = ax.sum(2);                        // [samples, rows]
  const auto row_area = a.reshape({rows, cols}).sum(1);         // [rows]
  CHECK((row_integral.square() / row_area).mean().item<double>() == Approx(1).epsilon(0.03));
  if (std::getenv("GALE_TEST_VERBOSE"))
    std::printf("row integrals: var/area %.4f\n", (row_integral.square() / row_area).mean().item<double>());
  // The northern polar cap (8 rows) and an equatorial band of 2 rows, each on its own
  // (1024 draws: sd 4.4%). Unscaled i.i.d. noise would give sum a_i^2 / sum a_i, ~0.3 for the cap.
  const auto cap = ax.slice(1, 0, 8).sum(at::IntArrayRef{1, 2});
  const double cap_area = a.reshape({rows, cols}).slice(0, 0, 8).sum().item<double>();
  CHECK(cap.square().mean().item<double>() / cap_area == Approx(1).epsilon(0.15));
  const auto band = ax.slice(1, 31, 33).sum(at::IntArrayRef{1, 2});
  const double band_area = a.reshape({rows, cols}).slice(0, 31, 33).sum().item<double>();
  CHECK(band.square().mean().item<double>() / band_area == Approx(1).epsilon(0.15));
  if (std::getenv("GALE_TEST_VERBOSE"))
    std::printf("cap var/area %.4f, band var/area %.4f\n", cap.square().mean().item<double>() / cap_area,
                band.square().mean().item<double>() / band_area);

  // The areas' units do not matter (m^2 instead of mean-1 weights): the same noise.
  auto gen2 = keyed_generator({21, 3, 5}, NoiseStream::initial);
  const auto in_m2 = sample_sphere_noise({samples, points}, area * 5.1e14 / double(points), gen2);
  CHECK(at::allclose(in_m2, xi, 1e-12, 1e-12));
  // Broadcast layouts: [batch, points, channels] with weights [1, points, 1]; float32.
  auto gen3 = keyed_generator({21, 3, 5}, NoiseStream::initial);
  const auto f32 = sample_sphere_noise({2, points, 3}, area.reshape({1, points, 1}), gen3,
                                       at::TensorOptions().dtype(at::kFloat));
  CHECK(f32.scalar_type() == at::kFloat);
  CHECK(f32.sizes().equals({2, points, 3}));
  CHECK_THROWS(sample_sphere_noise({2, 3, points}, area.reshape({1, points, 1}), gen3));
  CHECK_THROWS_AS(normalised_areas(at::zeros({4}, at::kDouble)), InternalError);
}

TEST_CASE("keyed noise: the same key gives the same bits, other keys and streams differ") {
  const auto area = at::tensor(latitude_weights(*n32()), at::kDouble);
  const std::int64_t points = area.size(0);
  auto draw = [&](StepKey k, NoiseStream st) {
    auto g = keyed_generator(k, st);
    return sample_sphere_noise({2, points}, area, g);
  };
  const StepKey key{2024, 4, 9};
  const auto ref = draw(key, NoiseStream::initial);
  CHECK(at::equal(draw(key, NoiseStream::initial), ref));
  CHECK(noise_seed(key, NoiseStream::initial) == noise_seed(StepKey{2024, 4, 9}, NoiseStream::initial));
  CHECK(noise_seed(key, NoiseStream::initial) < (std::uint64_t(1) << 32));
  for (const auto& [k, st] : std::vector<std::pair<StepKey, NoiseStream>>{{{2024, 5, 9}, NoiseStream::initial},
                                                                         {{2024, 4, 10}, NoiseStream::initial},
                                                                         {{2025, 4, 9}, NoiseStream::initial},
                                                                         {{2024, 4, 9}, NoiseStream::churn}}) {
    CAPTURE(k.run_seed, k.member, k.step, int(st));
    CHECK(noise_seed(k, st) != noise_seed(key, NoiseStream::initial));
    const auto other = draw(k, st);
    // Independent draws: almost no element equal, correlation ~0 (sd 1/sqrt(16384)).
    CHECK((other == ref).sum().item<std::int64_t>() == 0);
    const double corr = ((other * ref * area).sum() / (area.sum() * 2)).item<double>();
    CHECK(std::abs(corr) < 0.05);
  }
}
