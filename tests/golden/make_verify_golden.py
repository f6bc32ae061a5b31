#!/usr/bin/env python3
"""Golden values for Gale's verification scores (verify/scores.*) from independent implementations.

References (PyPI, benchmark / reference tools only -- never runtime dependencies of Gale):
  * properscoring  -- crps_ensemble (standard, NON-fair CRPS), threshold_brier_score, crps_gaussian
  * xskillscore    -- crps_ensemble / brier_score / rank_histogram / rmse / me / mae / pearson_r,
                      area-weighted means via xarray's `.weighted(w).mean(dim)`
  * numpy          -- brute-force O(M^2) fair CRPS, weighted means
Run with

    /work/main/.venv/bin/python tests/golden/make_verify_golden.py

It writes tests/golden/verify_golden.txt (read by tests/verify/test_scores_golden.cpp).
Format (whitespace separated; '#' starts a comment that runs to the end of the line):

    gaussian <K>                         then K lines: mean sd y crps_gaussian(properscoring)
    case <M> <N> <T>                     M members, N points, T thresholds
    thresholds t_1 .. t_T                (doubles, never float32-representable -> no ties)
    N lines:  w y c x_1 .. x_M crps fair
              w    area weight (double, %.17g)
              y    truth, c climatology, x_k members: float32 values printed with %.9g, which
                   round-trip exactly through strtof (the C++ side reads them as float)
              crps properscoring.crps_ensemble(y, x)            (standard CRPS, 1/(2 M^2))
              fair numpy brute force: mean|x_i - y| - sum_ij |x_i - x_j| / (2 M (M - 1))
    crps_xs <v>           xskillscore.crps_ensemble(weights=w): weighted mean of the STANDARD CRPS
    crps_fair_mean <v>    numpy sum(w fair) / sum(w)     (what EnsembleScores::crps is)
    brier <t> <xs> <ps>   xskillscore.brier_score(y > t, x > t [member dim], weights=w) and
                          numpy weighted mean of properscoring.threshold_brier_score(y, x, t)
    rank_hist c_0 .. c_M  xskillscore.rank_histogram counts; bin r = number of members below y
                          (xskillscore rank r+1); the script checks there are no ties
    rmse_mean <v>         xskillscore.rmse(ensemble mean, y, weights=w)
    det <rmse> <me> <mae> xskillscore rmse / me (forecast - truth) / mae of member 1 vs y, weights=w
    acc <xs> <np>         uncentred anomaly correlation of member 1 vs y about c:
                          xs = xskillscore.pearson_r of the anomalies mirrored (a, -a) with
                          weights (w, w) -- the mirrored sample has weighted mean exactly 0, so the
                          centred Pearson r equals the uncentred ACC (WeatherBench 2);
                          np = sum(w f' t') / sqrt(sum(w f'^2) sum(w t'^2))
    end

All reference computations are in float64 on the float32 inputs converted exactly to float64.
"""
import os
import sys
from importlib.metadata import version

import numpy as np
import properscoring as ps
import xarray as xr
import xskillscore as xs

SEED = 20240612
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "verify_golden.txt")
# (members, points, centre offset, scale of the truth's spread, ensemble spread, bias)
CASES = [(5, 300, 0.0, 1.0, 0.8, 0.1), (10, 300, 280.0, 3.0, 2.0, -0.5), (2, 300, 5.0, 2.0, 1.5, 0.3)]


def fmt32(v):
    s = "%.9g" % v
    assert np.float32(s) == np.float32(v), (s, v)  # exact round trip through strtof
    return s


def fair_crps_brute(x, y):
    m = x.shape[-1]
    a = np.abs(x - y[:, None]).mean(axis=-1)
    b = np.abs(x[:, :, None] - x[:, None, :]).sum(axis=(-1, -2))
    return a - b / (2.0 * m * (m - 1))


def standard_crps_brute(x, y):
    m = x.shape[-1]
    a = np.abs(x - y[:, None]).mean(axis=-1)
    b = np.abs(x[:, :, None] - x[:, None, :]).sum(axis=(-1, -2))
    return a - b / (2.0 * m * m)


def make_case(rng, m, n, offset, tscale, spread, bias):
    while True:
        centre = offset + tscale * rng.standard_normal(n)
        sd = spread * rng.uniform(0.3, 1.7, n)  # spread varies from point to point
        truth32 = (centre + sd * rng.standard_normal(n)).astype(np.float32)
        mem32 = (centre[:, None] + bias + sd[:, None] * rng.standard_normal((n, m))).astype(np.float32)
        clim32 = (offset + 0.5 * tscale * rng.standard_normal(n)).astype(np.float32)
        # no ties between the truth and a member (xskillscore breaks ties randomly)
        if not np.any(mem32 == truth32[:, None]):
            break
    w = rng.uniform(0.05, 1.0, n)  # random positive area weights (doubles)
    # thresholds: doubles that are not float32-representable, so no value equals one
    thresholds = [float(np.quantile(truth32.astype(np.float64), q)) + 1.0 / 3.0 * 1e-3 for q in (0.3, 0.75)]
    for t in thresholds:
        assert float(np.float32(t)) != t
        assert not np.any(mem32.astype(np.float64) == t) and not np.any(truth32.astype(np.float64) == t)
    return mem32, truth32, clim32, w, thresholds


def main():
    rng = np.random.default_rng(SEED)
    np.random.seed(SEED)  # xskillscore.rank_histogram's random tie breaking (no ties here anyway)
    lines = []
    lines.append("# generated by tests/golden/make_verify_golden.py (seed %d); do not edit by hand" % SEED)
    lines.append("# properscoring %s, xskillscore %s, xarray %s, numpy %s, scipy %s"
                 % (version("properscoring"), version("xskillscore"), version("xarray"),
                    version("numpy"), version("scipy")))
    lines.append("# properscoring.crps_ensemble = standard CRPS (1/(2M^2)); fair CRPS (1/(2M(M-1))) by numpy brute force")
    lines.append("# xskillscore weighted means: sum(w s)/sum(w) (xarray .weighted(w).mean)")

    # Gaussian CRPS against properscoring.crps_gaussian
    g = []
    for mu, sd, y in [(0.0, 1.0, 0.0), (1.5, 2.0, -0.7), (-3.0, 0.25, 2.0), (280.0, 3.0, 283.5), (0.0, 1.0, 6.0)]:
        g.append((mu, sd, y, float(ps.crps_gaussian(y, mu, sd))))
    lines.append("gaussian %d  # mean sd y properscoring.crps_gaussian" % len(g))
    for mu, sd, y, c in g:
        lines.append("%.17g %.17g %.17g %.17g" % (mu, sd, y, c))

    for (m, n, offset, tscale, spread, bias) in CASES:
        mem32, truth32, clim32, w, thresholds = make_case(rng, m, n, offset, tscale, spread, bias)
        x = mem32.astype(np.float64)
        y = truth32.astype(np.float64)
        c = clim32.astype(np.float64)
        X = xr.DataArray(x, dims=("point", "member"))
        Y = xr.DataArray(y, dims=("point",))
        W = xr.DataArray(w, dims=("point",))

        crps_ps = ps.crps_ensemble(y, x)  # standard CRPS per point
        fair = fair_crps_brute(x, y)
        d = np.abs(crps_ps - standard_crps_brute(x, y)).max()
        assert d < 1e-12 * max(1.0, np.abs(crps_ps).max()), d
        crps_xs = float(xs.crps_ensemble(Y, X, member_dim="member", dim="point", weights=W))
        assert abs(crps_xs - np.sum(w * crps_ps) / np.sum(w)) < 1e-12
        fair_mean = float(np.sum(w * fair) / np.sum(w))

        brier = []
        for t in thresholds:
            b_xs = float(xs.brier_score(Y > t, X > t, member_dim="member", dim="point", weights=W))
            b_ps = float(np.sum(w * ps.threshold_brier_score(y, x, t)) / np.sum(w))
            assert abs(b_xs - b_ps) < 1e-12, (b_xs, b_ps)
            brier.append((t, b_xs, b_ps))

        rh = xs.rank_histogram(Y, X, dim="point", member_dim="member")
        counts = np.asarray(rh.values)
        assert counts.shape == (m + 1,) and counts.sum() == n
        below = (x < y[:, None]).sum(axis=1)
        assert np.array_equal(counts, np.bincount(below, minlength=m + 1)), (counts, np.bincount(below))

        mean = x.mean(axis=1)
        rmse_mean = float(xs.rmse(xr.DataArray(mean, dims=("point",)), Y, dim="point", weights=W))
        assert abs(rmse_mean - np.sqrt(np.sum(w * (mean - y) ** 2) / np.sum(w))) < 1e-12

        F = xr.DataArray(x[:, 0], dims=("point",))
        det = [float(fn(F, Y, dim="point", weights=W)) for fn in (xs.rmse, xs.me, xs.mae)]
        fa, ta = x[:, 0] - c, y - c
        acc_np = float(np.sum(w * fa * ta) / np.sqrt(np.sum(w * fa * fa) * np.sum(w * ta * ta)))
        mirror = lambda a: xr.DataArray(np.concatenate([a, -a]), dims=("point",))
        acc_xs = float(xs.pearson_r(mirror(fa), mirror(ta), dim="point", weights=xr.DataArray(np.concatenate([w, w]), dims=("point",))))
        assert abs(acc_xs - acc_np) < 1e-12, (acc_xs, acc_np)

        lines.append("case %d %d %d  # members points thresholds" % (m, n, len(thresholds)))
        lines.append("thresholds " + " ".join("%.17g" % t for t in thresholds))
        lines.append("# w y c x_1..x_%d crps(properscoring) fair(numpy)" % m)
        for p in range(n):
            lines.append(" ".join(["%.17g" % w[p], fmt32(truth32[p]), fmt32(clim32[p])]
                                  + [fmt32(v) for v in mem32[p]]
                                  + ["%.17g" % crps_ps[p], "%.17g" % fair[p]]))
        lines.append("crps_xs %.17g  # xskillscore.crps_ensemble weighted (standard CRPS)" % crps_xs)
        lines.append("crps_fair_mean %.17g  # numpy weighted mean of brute-force fair CRPS" % fair_mean)
        for t, b_xs, b_ps in brier:
            lines.append("brier %.17g %.17g %.17g  # threshold xskillscore.brier_score properscoring.threshold_brier_score" % (t, b_xs, b_ps))
        lines.append("rank_hist " + " ".join("%d" % v for v in counts) + "  # xskillscore.rank_histogram")
        lines.append("rmse_mean %.17g  # xskillscore.rmse of the ensemble mean, weighted" % rmse_mean)
        lines.append("det %.17g %.17g %.17g  # xskillscore rmse me mae of member 1, weighted" % tuple(det))
        lines.append("acc %.17g %.17g  # xskillscore.pearson_r (mirrored anomalies) numpy uncentred ACC" % (acc_xs, acc_np))
        print("case M=%d N=%d: crps_xs %.6f fair %.6f brier %s rank_hist %s rmse_mean %.6f acc %.6f"
              % (m, n, crps_xs, fair_mean, ["%.4f" % b[1] for b in brier], counts.tolist(), rmse_mean, acc_np))
    lines.append("end")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s (%d bytes)" % (OUT, os.path.getsize(OUT)))


if __name__ == "__main__":
    sys.exit(main())
