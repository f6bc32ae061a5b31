// The one-pass generator (FGN): conditional LayerNorm that starts as the plain network and
// learns from its gradient, the fair CRPS against the Gaussian closed form (large
// ensembles) and its unbiasedness (many small ones), members identical under zero noise and
// independent of which members run in which order, and a tiny generator trained on the
// nature run that lowers its CRPS, keeps a positive spread, round-trips its checkpoint and
// resumes bit for bit.
#include <ATen/ATen.h>
#include <mpi.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "ensemble/global_mean_fixer.hpp"
#include "gnn/conditional_norm.hpp"
#include "gnn/crps_loss.hpp"
#include "gnn/gnn_stepper.hpp"
#include "gnn/model_io.hpp"
#include "gnn/trainer.hpp"
#include "grids/cells.hpp"
#include "tests/gnn/gnn_fixtures.hpp"

// After LibTorch's headers: c10 defines its own CHECK, which Catch must override.
#include <catch2/catch.hpp>

using namespace gale;
using gale::test::ensure_mpi;
using gale::test::gnn_test_path;
using gale::test::small_grid;
using gale::test::tiny_training_config;
using gale::test::TrainedModel;

namespace {

// CRPS of N(m, s^2) at y (CONVENTIONS.md).
double gaussian_crps(double m, double s, double y) {
  const double z = (y - m) / s;
  const double Phi = 0.5 * std::erfc(-z / std::sqrt(2.0)), phi = std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
  return s * (z * (2 * Phi - 1) + 2 * phi - 1 / std::sqrt(M_PI));
}

// The definition, pairwise: (1/M) sum|Xi - y| - 1/(2M(M-1)) sum_ij |Xi - Xj|.
at::Tensor pairwise_fair_crps(const at::Tensor& x, const at::Tensor& y) {
  const auto M = double(x.size(0));
  return (x - y.unsqueeze(0)).abs().mean(0) - (x.unsqueeze(0) - x.unsqueeze(1)).abs().sum(at::IntArrayRef{0, 1}) / (2 * M * (M - 1));
}

const std::string kFgn = "  model: fgn\n  noise_dim: 8\n  members_per_sample: 2\n";
constexpr int kSteps = 150;

const TrainedModel& trained_fgn() {
  static const TrainedModel t = gale::test::train_tiny_model("fgn.gale", kSteps, kFgn);
  return t;
}

}  // namespace

TEST_CASE("conditional LayerNorm starts as the plain network and its maps receive gradient") {
  const auto grid = small_grid();
  at::manual_seed(1);
  GraphNetwork plain(GraphNetworkSpec{2, 16, 2, 0.6}, *grid, 11, 4);
  GraphNetwork conditioned(GraphNetworkSpec{2, 16, 2, 0.6, 8}, *grid, 11, 4);
  // The conditioned network has exactly the plain parameters plus one map per LayerNorm.
  const int maps = gale::test::copy_into_conditioned(plain, conditioned);
  CHECK(maps == 2 * (1 + 2 + 1 + 2 * 2 + 2));  // grid embed, encoder, grid update, 2 processor blocks, decoder
  CHECK(conditioned->named_parameters().size() == plain->named_parameters().size() + std::size_t(maps));
  const auto x = at::randn({3, 512, 11});
  const auto c = at::randn({3, 8});
  // Identity at initialisation (scale 1, shift 0): the same bits as the plain network.
  CHECK(at::equal(conditioned->forward(x, c), plain->forward(x)));
  CHECK(at::equal(conditioned->forward(x.narrow(0, 0, 1), c.narrow(0, 0, 1)), plain->forward(x.narrow(0, 0, 1))));
  CHECK_THROWS(conditioned->forward(x));  // a conditioned network needs its conditioning

  // Gradient reaches every conditioning map (weights and biases).
  const auto loss = conditioned->forward(x, c).square().mean();
  loss.backward();
  for (const auto& p : conditioned->named_parameters()) {
    if (p.key().find(".condition.") == std::string::npos) continue;
    INFO(p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(p.value().grad().abs().sum().item<double>() > 0);
  }
  // Once the maps are not zero, the output depends on the conditioning.
  {
    at::NoGradGuard no_grad;
    for (auto& p : conditioned->named_parameters())
      if (p.key().find(".condition.") != std::string::npos) p.value().normal_(0, 0.1);
    const auto a = conditioned->forward(x, c), b = conditioned->forward(x, at::randn({3, 8}));
    CHECK((a - b).abs().max().item<double>() > 1e-3);
    // A single sample (a member's forecast step) takes the path with the conditioning folded
    // into the LayerNorm's affine: the same function as the batched path, to float rounding.
    for (std::int64_t i = 0; i < 3; ++i) {
      const auto one = conditioned->forward(x.narrow(0, i, 1), c.narrow(0, i, 1));
      CHECK((one[0] - a[i]).abs().max().item<double>() < 1e-5 * (1 + a[i].abs().max().item<double>()));
    }
  }
}

TEST_CASE("the fair CRPS is the pairwise definition, with the same gradient") {
  auto x = at::randn({5, 7, 3}, at::kDouble).requires_grad_(true);
  const auto y = at::randn({7, 3}, at::kDouble);
  const auto sorted_form = fair_crps_pointwise(x, y);
  const auto pairwise = pairwise_fair_crps(x, y);
  CHECK(at::allclose(sorted_form, pairwise, 1e-12, 1e-12));
  const auto g1 = torch::autograd::grad({sorted_form.sum()}, {x})[0];
  const auto g2 = torch::autograd::grad({pairwise.sum()}, {x})[0];
  CHECK(at::allclose(g1, g2, 1e-12, 1e-12));
  // The weighted mean.
  const auto w = at::rand({7, 1}, at::kDouble);
  CHECK(fair_crps(x, y, w).item<double>() == Approx((pairwise * w).mean().item<double>()).epsilon(1e-12));
  CHECK_THROWS(fair_crps(x.slice(0, 0, 1), y, w));  // one member has no fair CRPS
}

TEST_CASE("the fair CRPS of a large Gaussian ensemble is the closed form") {
  const double m = 1.5, s = 2.0;
  const std::vector<double> ys{1.5, 2.5, 5.5, -0.5, 9.0};
  const auto y = at::tensor(ys, at::kDouble);
  const std::int64_t M = 2000;
  // Quantile (stratified) members: the closed form within 0.5% (the midpoint quantiles
  // clip the tails a little).
  const auto p = (at::arange(M, at::kDouble) + 0.5) / double(M);
  const auto quantiles = m + s * std::sqrt(2.0) * at::erfinv(2 * p - 1);
  const auto q = fair_crps_pointwise(quantiles.unsqueeze(1).expand({M, 5}).contiguous(), y);
  // Random members, 200 independent ensembles per truth: the mean within 1%.
  at::manual_seed(3);
  const std::int64_t K = 200;
  const auto random = m + s * at::randn({M, 5, K}, at::kDouble);
  const auto r = fair_crps_pointwise(random, y.unsqueeze(1).expand({5, K}).contiguous()).mean(1);
  for (std::size_t i = 0; i < ys.size(); ++i) {
    const double exact = gaussian_crps(m, s, ys[i]);
    INFO("y " << ys[i] << " closed form " << exact << " quantile ensemble " << q[std::int64_t(i)].item<double>()
              << " random ensembles " << r[std::int64_t(i)].item<double>());
    CHECK(q[std::int64_t(i)].item<double>() == Approx(exact).epsilon(5e-3));
    CHECK(r[std::int64_t(i)].item<double>() == Approx(exact).epsilon(0.01));
  }
}

TEST_CASE("the fair CRPS of small ensembles is unbiased; the plain ensemble CRPS is not") {
  at::manual_seed(4);
  const double m = 0.0, s = 1.0, yv = 0.3, exact = gaussian_crps(m, s, yv);
  const std::int64_t N = 200000;
  for (const std::int64_t M : {2, 4}) {
    const auto x = m + s * at::randn({M, N}, at::kDouble);
    const auto y = at::full({N}, yv, at::kDouble);
    const double fair = fair_crps_pointwise(x, y).mean().item<double>();
    // The plain estimator divides the spread sum by 2 M^2: biased high by s / (M sqrt(pi)).
    const double plain =
        ((x - yv).abs().mean(0) - (x.unsqueeze(0) - x.unsqueeze(1)).abs().sum(at::IntArrayRef{0, 1}) / double(2 * M * M))
            .mean()
            .item<double>();
    INFO("M " << M << " closed form " << exact << " fair " << fair << " plain " << plain);
    CHECK(fair == Approx(exact).epsilon(0.01));
    CHECK(plain > exact * 1.1);
    // The almost fair CRPS is the blend: alpha 0 the plain estimator, 0.95 95% of the way.
    CHECK(fair_crps_pointwise(x, y, 0.0).mean().item<double>() == Approx(plain).epsilon(1e-12));
    CHECK(fair_crps_pointwise(x, y, 0.95).mean().item<double>() == Approx(0.95 * fair + 0.05 * plain).epsilon(1e-12));
  }
}

TEST_CASE("the almost fair CRPS penalises a spread pair around the truth; the fair CRPS of two does not") {
  // Two members at y -/+ d: the fair CRPS is d - 2d/2 = 0 for every d; the almost fair
  // CRPS is (1 - alpha) d / 2, growing with the spread, so its gradient pulls them together.
  for (const double d : {0.5, 2.0, 8.0}) {
    auto x = at::tensor({-d, d}, at::kDouble).view({2, 1}).requires_grad_(true);
    const auto y = at::zeros({1}, at::kDouble);
    CHECK(fair_crps_pointwise(x, y).item<double>() == Approx(0.0).margin(1e-15));
    const auto almost = fair_crps_pointwise(x, y, 0.95);
    CHECK(almost.item<double>() == Approx(0.05 * d / 2).epsilon(1e-12));
    const auto g = torch::autograd::grad({almost.sum()}, {x})[0];
    // A descent step (x - lr g) raises the lower member and lowers the upper one.
    CHECK(g[0][0].item<double>() == Approx(-0.05 / 4).epsilon(1e-12));
    CHECK(g[1][0].item<double>() == Approx(0.05 / 4).epsilon(1e-12));
  }
}

TEST_CASE("a tiny generator trained on the nature run lowers its CRPS and keeps a spread") {
  const auto& t = trained_fgn();
  const auto& losses = t.result.losses;
  REQUIRE(losses.size() == std::size_t(kSteps));
  const auto [first, last] = gale::test::first_and_last_mean(losses, 10);

  // Held-out CRPS (test period, 4 members, one step) of the trained generator against the
  // same network at its initial weights.
  const gale::test::HeldOutCase h(t, kSteps, kFgn);
  const auto& spec = h.spec;
  const auto& data = h.data;
  const auto& starts = h.starts;
  const auto& weights = h.weights;
  auto model = h.trained, initial = h.initial;
  REQUIRE(model->spec().generative());
  REQUIRE(starts.size() >= 8);
  const std::int64_t M = 4, V = 4, P = 512;
  at::NoGradGuard no_grad;
  model->eval();
  initial->eval();
  double persistence = 0;  // the CRPS of persistence (a one-point forecast: its MAE)
  auto held_out = [&](ForecasterImpl& f, double* spread, double* rmse) {
    double crps = 0, var = 0, se = 0;
    persistence = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      const auto t0 = starts[i * starts.size() / 8];
      const auto prev = at::tensor(data.load(t0 - spec.step)).reshape({1, V, P}).expand({M, V, P});
      const auto cur = at::tensor(data.load(t0)).reshape({1, V, P}).expand({M, V, P});
      const auto truth = at::tensor(data.load(t0 + spec.step)).reshape({V, P});
      std::vector<at::Tensor> noise;
      for (int m = 0; m < M; ++m) noise.push_back(member_noise(StepKey{77, m, int(i)}.hash(), 8));
      const auto next = f.forward(prev, cur, std::vector<TimePoint>(std::size_t(M), t0), at::stack(noise));
      const auto scale = f.difference_scale();
      const auto x = (next - cur) / scale, y = ((truth - cur[0]) / scale);
      crps += fair_crps(x, y, weights).item<double>() / 8;
      var += (x.var(0) * weights).mean().item<double>() / 8;
      se += ((x.mean(0) - y).square() * weights).mean().item<double>() / 8;
      persistence += (y.abs() * weights).mean().item<double>() / 8;
    }
    if (spread) *spread = std::sqrt(var);
    if (rmse) *rmse = std::sqrt(se);
    return crps;
  };
  double spread = 0, rmse = 0;
  const double trained = held_out(*model, &spread, &rmse);
  const double untrained = held_out(*initial, nullptr, nullptr);
  std::printf("fgn tiny: training CRPS %.4f (first 10 steps) -> %.4f (last 10); held-out CRPS %.4f untrained -> %.4f "
              "trained (persistence %.4f); spread %.4f, ensemble-mean RMSE %.4f (normalised units)\n",
              first, last, untrained, trained, persistence, spread, rmse);
  CHECK(last < 0.8 * first);
  CHECK(trained < 0.7 * untrained);
  CHECK(trained < 0.8 * persistence);
  CHECK(spread > 0.01 * rmse);  // the members differ
  CHECK(!t.result.validation_losses.empty());
}

TEST_CASE("zero noise gives identical members; a member's trajectory depends only on its StepKey") {
  const auto& file = trained_fgn().file;
  const auto spec = parse_training_config(tiny_training_config(file, kSteps, kFgn));
  const DatasetIndex data(training_files(spec), spec.variables);
  const TimePoint t = parse_iso8601("2001-02-05T00");
  const auto six = std::chrono::hours(6);
  auto stepper = [&](bool zero) { return GnnStepper(load_forecaster(file), file, zero); };
  auto a = stepper(false);
  CHECK(a.name() == "fgn");
  State inputs(1, {t - six, t}, a.variables(), data.grid(), t);
  for (std::size_t k = 0; k < 2; ++k) {
    const auto values = data.load(inputs.valid_times()[k]);
    for (std::size_t v = 0; v < 4; ++v) std::copy_n(values.data() + v * 512, 512, inputs.field(0, k, v));
    for (std::size_t p = 0; p < 512; ++p)
      inputs.field(0, k, 4)[p] = std::hypot(inputs.field(0, k, 1)[p], inputs.field(0, k, 2)[p]);
  }
  auto fields = [](const State& s) { return std::vector<float>(s.field(0, 0, 0), s.field(0, 0, 0) + 5 * 512); };
  // Two steps of a member: the second from (input 1, first output).
  auto trajectory = [&](GnnStepper& s, int member) {
    const auto one = s.step(inputs, StepKey{42, member, 0});
    State window(1, {t, t + six}, s.variables(), data.grid(), t);
    for (std::size_t v = 0; v < 5; ++v) {
      std::copy_n(inputs.field(0, 1, v), 512, window.field(0, 0, v));
      std::copy_n(one.field(0, 0, v), 512, window.field(0, 1, v));
    }
    auto out = fields(one);
    const auto two = fields(s.step(window, StepKey{42, member, 1}));
    out.insert(out.end(), two.begin(), two.end());
    return out;
  };

  auto zero = stepper(true);
  const auto z0 = trajectory(zero, 0);
  for (int m = 1; m < 4; ++m) CHECK(trajectory(zero, m) == z0);

  // Members 0..3 in order on one stepper, then 3, 1 alone, in reverse, on a fresh one.
  std::vector<std::vector<float>> in_order;
  for (int m = 0; m < 4; ++m) in_order.push_back(trajectory(a, m));
  auto b = stepper(false);
  CHECK(trajectory(b, 3) == in_order[3]);
  CHECK(trajectory(b, 1) == in_order[1]);
  CHECK(in_order[0] != in_order[1]);  // different keys, different members
  CHECK(in_order[0] != z0);
  double diff = 0;
  for (std::size_t i = 0; i < 512; ++i) diff = std::max(diff, double(std::abs(in_order[0][i] - in_order[1][i])));
  INFO("largest z500 difference between members 0 and 1 after 6 h: " << diff);
  CHECK(diff > 0.1);  // m^2 s^-2: a visible spread
}

TEST_CASE("generator checkpoints round-trip, carry model fgn, and resume bit for bit") {
  const auto& file = trained_fgn().file;
  const auto checkpoint = read_checkpoint_file(file);
  const auto& meta = checkpoint.metadata;
  CHECK(meta.at("model") == "fgn");
  CHECK(meta.at("noise_dim") == 8);
  CHECK(meta.at("config").at("model") == "fgn");
  CHECK(meta.at("config").at("members_per_sample") == "2");
  CHECK(!meta.at("network").contains("conditioning"));
  auto a = load_forecaster(file);
  const auto copy = gnn_test_path("fgn-copy.gale");
  write_checkpoint_file(copy, checkpoint);
  auto b = load_forecaster(copy);
  CHECK(b->spec().network.conditioning == 8);
  const auto x = at::randn({2, 4, 512}) * 5 + at::tensor({5e4f, 0.f, 0.f, 250.f}).reshape({1, 4, 1});
  const auto z = at::randn({2, 8});
  const TimePoint t = parse_iso8601("2001-02-05T00");
  {
    at::NoGradGuard no_grad;
    CHECK(at::equal(a->forward(x, x, {t, t}, z), b->forward(x, x, {t, t}, z)));
    CHECK_THROWS(a->forward(x, x, {t, t}));  // a generator needs its noise
  }

  // Config checks: the generator keys only with model fgn, two members at least.
  CHECK_THROWS_AS(parse_training_config(tiny_training_config(copy, 5, "  noise_dim: 8\n")), ConfigError);
  CHECK_THROWS_AS(parse_training_config(tiny_training_config(copy, 5, "  model: fgn\n  members_per_sample: 1\n")),
                  ConfigError);
  // The deterministic config is unchanged by the new keys.
  CHECK(!parse_training_config(tiny_training_config(copy, 5)).run_config.contains("model"));

  ensure_mpi();
  const auto whole = gnn_test_path("fgn-whole.gale"), split = gnn_test_path("fgn-split.gale");
  const auto extra = kFgn + "  rollout: [{from_step: 0, steps: 1}, {from_step: 3, steps: 2}]\n";
  const auto w = train_forecaster(MPI_COMM_WORLD, parse_training_config(tiny_training_config(whole, 5, extra)), false);
  train_forecaster(MPI_COMM_WORLD, parse_training_config(tiny_training_config(split, 2, extra)), false);
  const auto s = train_forecaster(MPI_COMM_WORLD, parse_training_config(tiny_training_config(split, 5, extra)), true);
  CHECK(s.steps_run == 3);
  CHECK(w.losses == s.losses);
  CHECK(read_checkpoint_file(whole).weights == read_checkpoint_file(split).weights);

  // A generator may start from a deterministic checkpoint of the same network (not the reverse).
  const auto det = gnn_test_path("fgn-det.gale"), from_det = gnn_test_path("fgn-from-det.gale");
  train_forecaster(MPI_COMM_WORLD, parse_training_config(tiny_training_config(det, 2)), false);
  train_forecaster(MPI_COMM_WORLD,
                   parse_training_config(tiny_training_config(from_det, 1, kFgn + "  init_from: " + det + "\n")), false);
  CHECK(read_checkpoint_file(from_det).metadata.at("init_from").at("sha256") == sha256_file(det));
  CHECK_THROWS_AS(train_forecaster(MPI_COMM_WORLD,
                                   parse_training_config(tiny_training_config(gnn_test_path("det-from-fgn.gale"), 1,
                                                                              "  init_from: " + file + "\n")),
                                   false),
                  ConfigError);
}

TEST_CASE("a frozen backbone keeps the deterministic weights while the noise maps learn a spread") {
  ensure_mpi();
  // The tiny config's optimiser with a backbone learning-rate scale.
  auto with_scale = [](const std::string& out, int steps, const std::string& scale, const std::string& extra) {
    auto yaml = gale::test::tiny_training_yaml(out, steps, extra);
    const std::string weight_decay = "weight_decay: 0.0}";
    yaml.replace(yaml.find(weight_decay), weight_decay.size(),
                 "weight_decay: 0.0, backbone_learning_rate_scale: " + scale + "}");
    return parse_training_config(Config::from_string(yaml, "tiny-train.yaml"));
  };
  const auto det = gnn_test_path("frozen-det.gale"), frozen = gnn_test_path("frozen-fgn.gale");
  train_forecaster(MPI_COMM_WORLD, parse_training_config(tiny_training_config(det, 3)), false);
  const auto from_det = kFgn + "  init_from: " + det + "\n";
  const auto run = train_forecaster(MPI_COMM_WORLD, with_scale(frozen, 30, "0", from_det), false);
  REQUIRE(run.losses.size() == 30);

  // Every backbone parameter is the deterministic model's, bit for bit; the maps moved off zero.
  auto deterministic = load_forecaster(det), generator = load_forecaster(frozen);
  auto det_params = deterministic->named_parameters();
  int maps = 0, backbone = 0;
  for (const auto& p : generator->named_parameters()) {
    if (is_conditioning_map(p.key())) {
      ++maps;
      CHECK(p.value().abs().max().item<double>() > 1e-4);
    } else {
      ++backbone;
      INFO(p.key());
      CHECK(at::equal(p.value(), det_params[p.key()]));
    }
  }
  CHECK(maps > 0);
  CHECK(backbone == int(det_params.size()));

  // Its members differ: two noise draws give two forecasts.
  {
    at::NoGradGuard no_grad;
    generator->eval();
    const auto x = at::randn({2, 4, 512}) * 5 + at::tensor({5e4f, 0.f, 0.f, 250.f}).reshape({1, 4, 1});
    const TimePoint t = parse_iso8601("2001-02-05T00");
    const auto y = generator->forward(x, x, {t, t}, at::randn({2, 8}));
    CHECK((y[0] - y[1]).abs().max().item<double>() > 1e-3);
  }

  // A scale between 0 and 1 trains the backbone too, and resumes bit for bit with its two
  // parameter groups.
  const auto whole = gnn_test_path("scaled-whole.gale"), split = gnn_test_path("scaled-split.gale");
  const auto w = train_forecaster(MPI_COMM_WORLD, with_scale(whole, 4, "0.1", from_det), false);
  train_forecaster(MPI_COMM_WORLD, with_scale(split, 2, "0.1", from_det), false);
  const auto s = train_forecaster(MPI_COMM_WORLD, with_scale(split, 4, "0.1", from_det), true);
  CHECK(s.steps_run == 2);
  CHECK(w.losses == s.losses);
  CHECK(read_checkpoint_file(whole).weights == read_checkpoint_file(split).weights);
  auto scaled = load_forecaster(whole);
  bool backbone_moved = false;
  for (const auto& p : scaled->named_parameters())
    if (!is_conditioning_map(p.key()) && !at::equal(p.value(), det_params[p.key()])) backbone_moved = true;
  CHECK(backbone_moved);

  // Only a generator has maps to spare: the key is refused for the deterministic model.
  CHECK_THROWS_AS(with_scale(det, 3, "0.5", ""), ConfigError);
  // So is the almost fair CRPS share; a generator takes it.
  const auto alpha = "  loss: {crps_alpha: 0.95}\n";
  CHECK_THROWS_AS(parse_training_config(tiny_training_config(det, 3, alpha)), ConfigError);
  CHECK(parse_training_config(tiny_training_config(det, 3, kFgn + alpha)).crps_alpha == 0.95);
}

TEST_CASE("a generator trained with conserve_global_mean keeps the global means of every member") {
  const std::string extra = kFgn + "  conserve_global_mean: [z500, t500]\n";
  const auto t = gale::test::train_tiny_model("fgn-conserving.gale", 20, extra);
  const auto checkpoint = read_checkpoint_file(t.file);
  CHECK(checkpoint.metadata.at("conserve_global_mean") == nlohmann::json({"z500", "t500"}));
  auto model = load_forecaster(t.file);
  REQUIRE(model->spec().conserve_global_mean == std::vector<std::string>{"z500", "t500"});
  // The metadata of a model without it stays as it was (no key).
  CHECK(!read_checkpoint_file(trained_fgn().file).metadata.contains("conserve_global_mean"));

  const auto spec = parse_training_config(tiny_training_config(t.file, 20, extra));
  const DatasetIndex data(training_files(spec), spec.variables);
  const TimePoint t0 = parse_iso8601("2001-02-05T00");
  const std::int64_t M = 6, V = 4, P = 512;
  const auto prev = at::tensor(data.load(t0 - spec.step)).reshape({1, V, P}).expand({M, V, P});
  const auto cur = at::tensor(data.load(t0)).reshape({1, V, P}).expand({M, V, P});
  std::vector<at::Tensor> noise;
  for (int m = 0; m < M; ++m) noise.push_back(member_noise(StepKey{5, m, 0}.hash(), 8));
  at::NoGradGuard no_grad;
  const auto next = model->forward(prev, cur, std::vector<TimePoint>(std::size_t(M), t0), at::stack(noise));
  const auto w = latitude_weights(*data.grid());
  auto global_mean = [&](const at::Tensor& field) {  // [P] float -> area-weighted mean
    const auto c = field.contiguous();
    return weighted_mean(c.data_ptr<float>(), w);
  };
  for (std::int64_t v : {0, 3}) {  // z500, t500: every member keeps the start's mean
    INFO("variable " << v);
    const double start = global_mean(cur[0][v]);
    // Float fields of 5e4 (z500) and 250 (t500): within float rounding (1e-6 relative).
    for (std::int64_t m = 0; m < M; ++m) CHECK(global_mean(next[m][v]) == Approx(start).epsilon(1e-6));
    CHECK((next[0][v] - next[1][v]).abs().max().item<double>() > 0);  // the members still differ
  }
  // u500 is not conserved: its members' global means differ.
  CHECK(std::abs(global_mean(next[0][1]) - global_mean(next[1][1])) > 1e-6);

  REQUIRE_THROWS_WITH(parse_training_config(tiny_training_config(t.file, 20, kFgn + "  conserve_global_mean: [q700]\n")),
                      Catch::Contains("train.conserve_global_mean") && Catch::Contains("not one of train.data.variables"));
  REQUIRE_THROWS_WITH(
      parse_training_config(tiny_training_config(t.file, 20, "  model: diffusion\n  conserve_global_mean: [z500]\n")),
      Catch::Contains("not for train.model: diffusion"));
}
