// The Karras sigma schedule and the Euler, Heun and DPM-Solver++(2S) samplers on the
// analytic Gaussian case: data y ~ N(mu, s^2) independently per dimension, whose exact
// denoiser is D(x, sigma) = mu + s^2 / (s^2 + sigma^2) (x - mu).
//
// With this (affine) denoiser every solver step is affine in x - mu, so each sampler maps
// its start x_0 = sigma_0 n to x_N = mu + g (x_0 - mu) for a scalar gain g; the exact
// probability-flow ODE from sigma_max to sigma_min followed by the final denoising step
// (sigma_min -> 0, x_N = D(x, sigma_min), shared by all three samplers) has
//   g* = s^2 / (sqrt(s^2 + sigma_max^2) sqrt(s^2 + sigma_min^2)).
// Set GALE_TEST_VERBOSE=1 to print the measured values.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/errors.hpp"
#include "diffusion/edm.hpp"
#include "diffusion/samplers.hpp"
#include "diffusion/sphere_noise.hpp"

// After LibTorch's headers: c10 defines its own CHECK, which Catch must override.
#include <catch2/catch.hpp>

using namespace gale;
using namespace gale::diffusion;

namespace {

constexpr double mu = 0.7, s = 0.5;
constexpr std::int64_t dims = 100000;

Denoiser exact() {
  return [](const at::Tensor& x, double sigma) { return mu + (s * s) / (s * s + sigma * sigma) * (x - mu); };
}

// Element-wise ops on 10^5 values: intra-op threads only contend on a loaded 2-core
// machine (measured 19 s with the default pool against 2 s with one thread).
const bool single_threaded = [] {
  at::set_num_threads(1);
  return true;
}();

bool verbose() { return std::getenv("GALE_TEST_VERBOSE") != nullptr; }

at::Tensor unit_noise(const StepKey& key, NoiseStream stream = NoiseStream::initial) {
  auto gen = keyed_generator(key, stream);
  return sample_sphere_noise({1, dims}, at::ones({1}, at::kDouble), gen);  // equal areas: N(0, 1)
}

NoiseSource churn_source(const StepKey& key) {
  return sphere_noise_source({1, dims}, at::ones({1}, at::kDouble), keyed_generator(key, NoiseStream::churn));
}

SamplerSpec steps(int n) {
  SamplerSpec sp;
  sp.steps = n;
  return sp;
}

// Relative error of the sampler's gain against the exact ODE gain g*, and the offset check.
double gain_error(SamplerKind kind, int n, const EdmSpec& e) {
  const auto zero = at::zeros({1, 1}, at::kDouble), one = at::ones({1, 1}, at::kDouble);
  const double a = sample(kind, exact(), zero, e, steps(n)).item<double>();
  const double b = sample(kind, exact(), one, e, steps(n)).item<double>();
  const double g = (b - a) / e.sigma_max;  // x_0 = sigma_max * noise
  CHECK(a == Approx(mu * (1 - g)).epsilon(1e-12));  // x_N - mu = g (x_0 - mu)
  const double g_exact = s * s / (std::sqrt(s * s + e.sigma_max * e.sigma_max) * std::sqrt(s * s + e.sigma_min * e.sigma_min));
  return g / g_exact - 1;
}

struct Moments {
  double mean, std;
};
Moments moments(const at::Tensor& x) { return {x.mean().item<double>(), x.std().item<double>()}; }

}  // namespace

TEST_CASE("the Karras sigma schedule: endpoints, formula, monotone, then zero") {
  EdmSpec e;
  const auto sig = karras_sigmas(e, 20);
  REQUIRE(sig.size() == 21);
  CHECK(sig.front() == 80.0);
  CHECK(sig[19] == 0.03);
  CHECK(sig[20] == 0.0);
  for (std::size_t i = 0; i + 1 < sig.size(); ++i) CHECK(sig[i] > sig[i + 1]);
  const double mid = std::pow(std::pow(80.0, 1 / 7.0) + 10.0 / 19.0 * (std::pow(0.03, 1 / 7.0) - std::pow(80.0, 1 / 7.0)), 7.0);
  CHECK(sig[10] == Approx(mid).epsilon(1e-14));
  // rho = 7 concentrates the levels at small sigma: half the steps are below 5% of sigma_max.
  CHECK(sig[10] < 0.05 * 80);
  CHECK(karras_sigmas(e, 1) == std::vector<double>{80.0, 0.0});
  CHECK(karras_sigmas(e, 2) == std::vector<double>{80.0, 0.03, 0.0});
  CHECK_THROWS_AS(karras_sigmas(e, 0), ConfigError);

  // Churn: gamma = min(S_churn / N, sqrt(2) - 1) inside [S_tmin, S_tmax], 0 outside.
  SamplerSpec sp;
  sp.s_churn = 2.0;
  sp.s_tmin = 0.05;
  sp.s_tmax = 50.0;
  const auto gammas = churn_gammas(sig, sp);
  REQUIRE(gammas.size() == 20);
  for (std::size_t i = 0; i < 20; ++i) CHECK(gammas[i] == ((sig[i] >= 0.05 && sig[i] <= 50) ? Approx(0.1) : Approx(0)));
  CHECK(gammas[0] == 0);   // 80 > S_tmax
  CHECK(gammas[19] == 0);  // 0.03 < S_tmin
  sp.s_churn = 40.0;
  CHECK(churn_gammas(sig, sp)[5] == Approx(std::sqrt(2.0) - 1));
  CHECK(parse_sampler_kind("dpmpp_2s") == SamplerKind::dpmpp_2s);
  CHECK_THROWS_AS(parse_sampler_kind("ddpm"), ConfigError);
}

TEST_CASE("solvers converge to the exact probability-flow ODE at their order") {
  EdmSpec e;  // sigma_max 80, sigma_min 0.03, rho 7
  // Euler is first order (error halves with twice the steps), Heun and DPM-Solver++(2S)
  // second order (error quarters). Measured on this case: Euler -4.9%, -2.4%, -1.2% at
  // 50/100/200 steps; Heun +3.2%, +0.73%, +0.17% and DPM++2S -1.5%, -0.38%, -0.10% at 20/40/80.
  const double e50 = gain_error(SamplerKind::euler, 50, e), e100 = gain_error(SamplerKind::euler, 100, e),
               e200 = gain_error(SamplerKind::euler, 200, e);
  const double h20 = gain_error(SamplerKind::heun, 20, e), h40 = gain_error(SamplerKind::heun, 40, e),
               h80 = gain_error(SamplerKind::heun, 80, e);
  const double d20 = gain_error(SamplerKind::dpmpp_2s, 20, e), d40 = gain_error(SamplerKind::dpmpp_2s, 40, e),
               d80 = gain_error(SamplerKind::dpmpp_2s, 80, e);
  if (verbose())
    std::printf("gain error: euler %.4f %.4f %.4f | heun %.4f %.4f %.4f | dpm++2s %.4f %.4f %.4f\n", e50, e100, e200,
                h20, h40, h80, d20, d40, d80);
  CHECK(e50 / e100 == Approx(2).epsilon(0.1));
  CHECK(e100 / e200 == Approx(2).epsilon(0.1));
  CHECK(h20 / h40 == Approx(4).epsilon(0.2));
  CHECK(h40 / h80 == Approx(4).epsilon(0.2));
  CHECK(d20 / d40 == Approx(4).epsilon(0.2));
  CHECK(d40 / d80 == Approx(4).epsilon(0.2));
  CHECK(std::abs(e200) < 0.015);
  CHECK(std::abs(h20) < 0.04);
  CHECK(std::abs(d20) < 0.02);
}

TEST_CASE("samples of the analytic Gaussian case have its mean and variance") {
  // 100,000 dimensions: the sample mean has sd s/sqrt(n) = 0.0016, the sample std a
  // relative sd of 0.22%. Bias of the mean: starting from N(0, sigma_max^2) instead of
  // N(mu, s^2 + sigma_max^2) leaves mu g* ~ 0.004 (all samplers). Tolerances: mean within
  // 0.01 of mu; std within 2% of s where the discretisation error allows it (Euler at 400
  // steps, Heun and DPM++2S at 40), and within 4% (Heun) and 3% (DPM++2S) at the default
  // 20 steps, where this case's discretisation error is +3.2% and -1.5% (see the
  // convergence test).
  EdmSpec e;
  const auto n = unit_noise({1, 0, 0});
  struct Case {
    SamplerKind kind;
    int steps;
    double std_tol;
  };
  for (const auto& c : {Case{SamplerKind::euler, 400, 0.02}, Case{SamplerKind::heun, 20, 0.04},
                        Case{SamplerKind::heun, 40, 0.02}, Case{SamplerKind::dpmpp_2s, 20, 0.03},
                        Case{SamplerKind::dpmpp_2s, 40, 0.02}}) {
    const auto m = moments(sample(c.kind, exact(), n, e, steps(c.steps)));
    if (verbose()) std::printf("%s %d: mean %.5f std %.5f (%+.2f%%)\n", to_string(c.kind).c_str(), c.steps, m.mean, m.std, 100 * (m.std / s - 1));
    CAPTURE(to_string(c.kind), c.steps, m.mean, m.std);
    CHECK(m.mean == Approx(mu).margin(0.01));
    CHECK(m.std == Approx(s).epsilon(c.std_tol));
  }
  // The preconditioned denoiser around the ideal network gives the same samples as the exact
  // denoiser (the plumbing from F to the sampler).
  e.sigma_data = 1.0;
  const Network ideal = [&](const at::Tensor& x_in, const at::Tensor& cn) {
    const double sigma = std::exp(4 * cn[0].item<double>());
    const auto x = x_in / c_in(e, sigma);
    return (exact()(x, sigma) - c_skip(e, sigma) * x) / c_out(e, sigma);
  };
  CHECK(at::allclose(sample_dpmpp_2s(make_denoiser(e, ideal), n, e, steps(20)),
                     sample_dpmpp_2s(exact(), n, e, steps(20)), 1e-9, 1e-9));
}

TEST_CASE("churn keeps the Gaussian's variance; noise inflation S_noise > 1 grows it monotonically") {
  EdmSpec e;
  const auto n = unit_noise({2, 0, 0});
  SamplerSpec sp;
  sp.s_tmin = 0.05;
  sp.s_tmax = 50.0;
  // With an exact denoiser and S_noise = 1 churn is consistent: it converges to the right
  // variance (160 steps with gamma = 0.2 per step: measured std -0.1% Heun, -0.9% DPM++2S).
  for (auto kind : {SamplerKind::heun, SamplerKind::dpmpp_2s}) {
    sp.steps = 160;
    sp.s_churn = 0.2 * sp.steps;
    const auto m = moments(sample(kind, exact(), n, e, sp, churn_source({2, 0, 0})));
    if (verbose()) std::printf("%s churn 160 steps: mean %.5f std %+.2f%%\n", to_string(kind).c_str(), m.mean, 100 * (m.std / s - 1));
    CAPTURE(to_string(kind), m.mean, m.std);
    CHECK(m.mean == Approx(mu).margin(0.01));
    CHECK(m.std == Approx(s).epsilon(0.02));
  }
  // GenCast-like: 20 steps, churn 2.5, inflation: the std grows with S_noise (same churn draws).
  for (auto kind : {SamplerKind::heun, SamplerKind::dpmpp_2s}) {
    sp.steps = 20;
    sp.s_churn = 2.5;
    double previous = 0;
    for (double inflation : {1.0, 1.01, 1.05, 1.2}) {
      sp.s_noise = inflation;
      const double sd = moments(sample(kind, exact(), n, e, sp, churn_source({2, 0, 0}))).std;
      if (verbose()) std::printf("%s 20 steps churn 2.5 S_noise %.2f: std %.5f\n", to_string(kind).c_str(), inflation, sd);
      CAPTURE(to_string(kind), inflation, sd, previous);
      CHECK(sd > previous * 1.001);
      previous = sd;
    }
    sp.s_noise = 1.0;
  }
  // S_churn = 0 never draws churn noise: identical to the deterministic sampler.
  sp.s_churn = 0;
  CHECK(at::equal(sample_heun(exact(), n, e, sp, churn_source({9, 9, 9})), sample_heun(exact(), n, e, sp)));
  sp.s_churn = 1;
  CHECK_THROWS_AS(sample_heun(exact(), n, e, sp), InternalError);
}

TEST_CASE("the same key gives identical samples, different keys different ones") {
  EdmSpec e;
  SamplerSpec sp;
  sp.s_churn = 2.5;
  sp.s_tmin = 0.05;
  sp.s_tmax = 50;
  sp.s_noise = 1.05;
  auto run = [&](StepKey key) { return sample_dpmpp_2s(exact(), unit_noise(key), e, sp, churn_source(key)); };
  const auto a = run({5, 1, 3});
  CHECK(at::equal(run({5, 1, 3}), a));
  for (StepKey other : {StepKey{5, 2, 3}, StepKey{5, 1, 4}, StepKey{6, 1, 3}}) {
    const auto b = run(other);
    CHECK_FALSE(at::equal(a, b));
    CHECK((a - b).abs().mean().item<double>() > 0.1);  // independent samples differ by ~0.56 on average
  }
  // Only the churn stream changes: still different samples.
  const auto c = sample_dpmpp_2s(exact(), unit_noise({5, 1, 3}), e, sp, churn_source({5, 1, 4}));
  CHECK_FALSE(at::equal(a, c));
}
