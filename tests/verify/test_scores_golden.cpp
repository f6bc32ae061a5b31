// Golden values from independent implementations (properscoring, xskillscore and numpy brute
// force, see tests/golden/make_verify_golden.py): Gale's verification scores on random
// ensembles (M = 5, 10, 2 members x 300 points, random area weights) must reproduce them.
//
// Conventions (checked in the generator, not assumed):
//  * properscoring.crps_ensemble and xskillscore.crps_ensemble are the STANDARD CRPS
//    (1/(2 M^2)) -> compared with gale::ensemble_crps; the FAIR CRPS (1/(2 M (M-1))) of
//    gale::fair_crps and EnsembleScores::crps is compared with a numpy brute-force sum.
//  * xskillscore's weighted means are sum(w s) / sum(w), as ours.
//  * Brier: event = value > threshold, probability = fraction of members above, as ours.
//  * rank_histogram: xskillscore rank r (1..M+1) is our bin r-1 (members below the truth);
//    the inputs have no ties, so xskillscore's random tie breaking never applies.
//  * ACC: ours is the uncentred WeatherBench 2 ACC; xskillscore.pearson_r is centred, so
//    the generator feeds it the anomalies mirrored (a, -a), whose weighted mean is 0.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "verify/scores.hpp"

using namespace gale;

namespace {
struct Case {
  int m = 0, n = 0;
  std::vector<double> thresholds;
  std::vector<double> w;
  std::vector<float> y, c;
  std::vector<std::vector<float>> x;  // x[k][p]
  std::vector<double> crps, fair;     // per point: properscoring, numpy brute force
  double crps_xs = NAN, crps_fair_mean = NAN, rmse_mean = NAN;
  std::vector<double> brier_xs, brier_ps;
  std::vector<double> rank_hist;
  double det_rmse = NAN, det_me = NAN, det_mae = NAN, acc_xs = NAN, acc_np = NAN;
};
struct GaussianRef {
  double mean, sd, y, crps;
};
struct Golden {
  std::vector<GaussianRef> gaussian;
  std::vector<Case> cases;
};

// Next line that is neither empty nor a '#' comment; the part after '#' is dropped.
bool next_data_line(std::istream& in, std::string& line) {
  while (std::getline(in, line)) {
    if (auto h = line.find('#'); h != std::string::npos) line.erase(h);
    if (line.find_first_not_of(" \t\r") != std::string::npos) return true;
  }
  return false;
}

Golden read_golden(const std::string& path) {
  std::ifstream in(path);
  INFO(path);
  REQUIRE(in.good());
  Golden g;
  std::string line;
  bool ended = false;
  while (next_data_line(in, line)) {
    std::istringstream row(line);
    std::string key;
    row >> key;
    INFO("line: " << line);
    if (key == "gaussian") {
      int k = 0;
      REQUIRE(bool(row >> k));
      for (int i = 0; i < k; ++i) {
        REQUIRE(next_data_line(in, line));
        GaussianRef r{};
        REQUIRE(bool(std::istringstream(line) >> r.mean >> r.sd >> r.y >> r.crps));
        g.gaussian.push_back(r);
      }
    } else if (key == "case") {
      Case c;
      int nt = 0;
      REQUIRE(bool(row >> c.m >> c.n >> nt));
      REQUIRE(next_data_line(in, line));
      std::istringstream th(line);
      th >> key;
      REQUIRE(key == "thresholds");
      double t;
      while (th >> t) c.thresholds.push_back(t);
      REQUIRE(int(c.thresholds.size()) == nt);
      c.x.assign(std::size_t(c.m), std::vector<float>(std::size_t(c.n)));
      for (int p = 0; p < c.n; ++p) {
        REQUIRE(next_data_line(in, line));
        std::istringstream pr(line);
        double w, crps, fair;
        float y, cl;  // float32 values printed with %.9g: strtof gives them back exactly
        REQUIRE(bool(pr >> w >> y >> cl));
        for (int k = 0; k < c.m; ++k) REQUIRE(bool(pr >> c.x[std::size_t(k)][std::size_t(p)]));
        REQUIRE(bool(pr >> crps >> fair));
        c.w.push_back(w), c.y.push_back(y), c.c.push_back(cl), c.crps.push_back(crps), c.fair.push_back(fair);
      }
      g.cases.push_back(std::move(c));
    } else if (key == "crps_xs") {
      REQUIRE(bool(row >> g.cases.back().crps_xs));
    } else if (key == "crps_fair_mean") {
      REQUIRE(bool(row >> g.cases.back().crps_fair_mean));
    } else if (key == "brier") {
      double t, bx, bp;
      REQUIRE(bool(row >> t >> bx >> bp));
      auto& c = g.cases.back();
      REQUIRE(t == c.thresholds[c.brier_xs.size()]);
      c.brier_xs.push_back(bx), c.brier_ps.push_back(bp);
    } else if (key == "rank_hist") {
      double v;
      while (row >> v) g.cases.back().rank_hist.push_back(v);
    } else if (key == "rmse_mean") {
      REQUIRE(bool(row >> g.cases.back().rmse_mean));
    } else if (key == "det") {
      auto& c = g.cases.back();
      REQUIRE(bool(row >> c.det_rmse >> c.det_me >> c.det_mae));
    } else if (key == "acc") {
      auto& c = g.cases.back();
      REQUIRE(bool(row >> c.acc_xs >> c.acc_np));
    } else if (key == "end") {
      ended = true;
      break;
    } else {
      FAIL("unknown key " << key);
    }
  }
  REQUIRE(ended);
  return g;
}

// 1e-6 relative, or 1e-9 absolute where the reference is tiny.
bool close(double ours, double ref) { return std::abs(ours - ref) <= std::max(1e-9, 1e-6 * std::abs(ref)); }
double rel(double ours, double ref) { return std::abs(ours - ref) / std::max(1e-3, std::abs(ref)); }

const Golden& golden() {
  static const Golden g = read_golden(std::string(GALE_GOLDEN_DIR) + "/verify_golden.txt");
  return g;
}
}  // namespace

TEST_CASE("verification scores match properscoring / xskillscore golden values") {
  const Golden& g = golden();
  REQUIRE(g.cases.size() == 3);

  SECTION("Gaussian CRPS vs properscoring.crps_gaussian") {
    double worst = 0;
    for (const auto& r : g.gaussian) {
      const double ours = gaussian_crps(r.mean, r.sd, r.y);
      INFO("mean=" << r.mean << " sd=" << r.sd << " y=" << r.y << " ours=" << ours << " ref=" << r.crps);
      CHECK(close(ours, r.crps));
      worst = std::max(worst, rel(ours, r.crps));
    }
    WARN("gaussian_crps: max rel diff " << worst);
  }

  for (const auto& c : g.cases) {
    DYNAMIC_SECTION("M=" << c.m << " members x " << c.n << " points") {
      REQUIRE(c.rank_hist.size() == std::size_t(c.m + 1));
      REQUIRE(c.brier_xs.size() == c.thresholds.size());
      std::vector<const float*> ptrs;
      for (const auto& v : c.x) ptrs.push_back(v.data());
      const std::size_t n = std::size_t(c.n);

      // per point: standard CRPS vs properscoring, fair CRPS vs numpy brute force
      double worst_std = 0, worst_fair = 0, sum_w = 0, sum_std = 0;
      std::vector<double> x(std::size_t(c.m));
      for (std::size_t p = 0; p < n; ++p) {
        for (std::size_t k = 0; k < x.size(); ++k) x[k] = c.x[k][p];
        const double s = ensemble_crps(x, c.y[p]);
        for (std::size_t k = 0; k < x.size(); ++k) x[k] = c.x[k][p];
        const double f = fair_crps(x, c.y[p]);
        INFO("point " << p << " ensemble_crps=" << s << " properscoring=" << c.crps[p] << " fair_crps=" << f
                      << " brute=" << c.fair[p]);
        CHECK(close(s, c.crps[p]));
        CHECK(close(f, c.fair[p]));
        worst_std = std::max(worst_std, rel(s, c.crps[p]));
        worst_fair = std::max(worst_fair, rel(f, c.fair[p]));
        sum_w += c.w[p], sum_std += c.w[p] * s;
      }

      // area-weighted means: standard CRPS vs xskillscore, EnsembleScores::crps (fair) vs numpy
      const auto es = ensemble_scores(ptrs, c.y.data(), c.w);
      CHECK(es.weight == Approx(sum_w).epsilon(1e-12));
      const double mean_std = sum_std / sum_w;
      INFO("weighted standard CRPS ours=" << mean_std << " xskillscore=" << c.crps_xs);
      CHECK(close(mean_std, c.crps_xs));
      INFO("EnsembleScores::crps=" << es.crps << " numpy fair mean=" << c.crps_fair_mean);
      CHECK(close(es.crps, c.crps_fair_mean));

      // weighted RMSE of the ensemble mean vs xskillscore.rmse
      const double rmse_mean = std::sqrt(es.mean_mse);
      INFO("sqrt(mean_mse)=" << rmse_mean << " xskillscore.rmse=" << c.rmse_mean);
      CHECK(close(rmse_mean, c.rmse_mean));

      // rank histogram, unweighted (weights 1) vs xskillscore.rank_histogram: exact counts
      const std::vector<double> ones(n, 1.0);
      const auto eu = ensemble_scores(ptrs, c.y.data(), ones);
      CHECK(eu.rank_histogram == c.rank_hist);

      // Brier score per threshold vs xskillscore.brier_score and properscoring.threshold_brier_score
      double worst_brier = 0;
      for (std::size_t i = 0; i < c.thresholds.size(); ++i) {
        const auto ps = probability_scores(ptrs, c.y.data(), c.w, c.thresholds[i]);
        INFO("threshold " << c.thresholds[i] << " brier=" << ps.brier << " xskillscore=" << c.brier_xs[i]
                          << " properscoring=" << c.brier_ps[i]);
        CHECK(close(ps.brier, c.brier_xs[i]));
        CHECK(close(ps.brier, c.brier_ps[i]));
        worst_brier = std::max(worst_brier, rel(ps.brier, c.brier_xs[i]));
      }

      // deterministic scores and ACC of member 1
      const auto ds = deterministic_scores(c.x[0].data(), c.y.data(), c.w);
      INFO("rmse=" << std::sqrt(ds.mse) << "/" << c.det_rmse << " bias=" << ds.bias << "/" << c.det_me
                   << " mae=" << ds.mae << "/" << c.det_mae);
      CHECK(close(std::sqrt(ds.mse), c.det_rmse));
      CHECK(close(ds.bias, c.det_me));
      CHECK(close(ds.mae, c.det_mae));
      const double acc = anomaly_correlation(c.x[0].data(), c.y.data(), c.c.data(), c.w);
      INFO("acc=" << acc << " xskillscore=" << c.acc_xs << " numpy=" << c.acc_np);
      CHECK(close(acc, c.acc_xs));
      CHECK(close(acc, c.acc_np));

      WARN("M=" << c.m << " max rel diff: ensemble_crps " << worst_std << ", fair_crps " << worst_fair
                << ", weighted std CRPS " << rel(mean_std, c.crps_xs) << ", EnsembleScores::crps "
                << rel(es.crps, c.crps_fair_mean) << ", rmse(ens mean) " << rel(rmse_mean, c.rmse_mean)
                << ", brier " << worst_brier << ", det rmse/me/mae " << rel(std::sqrt(ds.mse), c.det_rmse) << "/"
                << rel(ds.bias, c.det_me) << "/" << rel(ds.mae, c.det_mae) << ", acc " << rel(acc, c.acc_xs));
    }
  }
}
