"""numpy peer for bench_verify: the same scores with vectorised numpy on the same inputs.

Usage: verify_numpy.py DIR GALE_JSON [repeats]
Prints the median time, the ratio numpy/gale, and the largest relative difference of the
scores (area-weighted means over the globe, per lead: bias, RMSE of the ensemble mean,
fair CRPS, spread, persistence RMSE).
"""
import json
import sys
import time

import numpy as np

directory, gale_json = sys.argv[1], sys.argv[2]
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
lines = [json.loads(l) for l in open(gale_json) if l.strip()]
meta = lines[0]
M, L, P = meta["members"], meta["leads"], meta["points"]
forecast = np.fromfile(f"{directory}/forecast.f32", dtype=np.float32).reshape(M, L, P).astype(np.float64)
truth = np.fromfile(f"{directory}/truth.f32", dtype=np.float32).reshape(L + 1, P).astype(np.float64)
w = np.fromfile(f"{directory}/weights.f64", dtype=np.float64)


def scores():
    y = truth[1:]                                   # (L, P)
    mean = forecast.mean(axis=0)                    # (L, P)
    wsum = w.sum()
    out = {}
    out["bias"] = ((mean - y) * w).sum(axis=1) / wsum
    out["rmse"] = np.sqrt((((mean - y) ** 2) * w).sum(axis=1) / wsum)
    var = forecast.var(axis=0, ddof=1)
    out["spread"] = np.sqrt((var * w).sum(axis=1) / wsum)
    skill = np.abs(forecast - y[None]).mean(axis=0)
    s = np.sort(forecast, axis=0)
    i = np.arange(M)[:, None, None]
    pair = 2 * ((2 * i - M + 1) * s).sum(axis=0)     # sum_i sum_j |x_i - x_j|
    crps = skill - pair / (2 * M * (M - 1))
    out["crps"] = (crps * w).sum(axis=1) / wsum
    out["rmse_persistence"] = np.sqrt((((truth[0][None] - y) ** 2) * w).sum(axis=1) / wsum)
    return out


times = []
for _ in range(repeats):
    t = time.perf_counter()
    result = scores()
    times.append(time.perf_counter() - t)
numpy_s = float(np.median(times))
worst = 0.0
for l in lines[1:]:
    ours = l["value"]
    ref = result[l["score"]][int(round(l["lead"] / 6)) - 1]
    worst = max(worst, abs(ours - ref) / max(abs(ref), 1e-300))
print(f"scoring {M} members x {L} leads x {P} points (1 variable, global, fair CRPS + ensemble mean + spread + persistence):")
print(f"  gale  {meta['seconds']:.4f} s   (median of {repeats}; includes the rank histogram, which numpy does not compute)")
print(f"  numpy {numpy_s:.4f} s   (median of {repeats}, numpy {np.__version__})")
print(f"  ratio numpy/gale: {numpy_s / meta['seconds']:.2f}x")
print(f"  largest relative difference of {len(lines) - 1} scores: {worst:.2e} ({'OK' if worst <= 1e-6 else 'DIFFERS'} at 1e-6)")
sys.exit(0 if worst <= 1e-6 else 1)
