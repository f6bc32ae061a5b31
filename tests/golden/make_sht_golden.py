#!/usr/bin/env python3
"""Golden values for gale::SphericalHarmonicTransform from an independent implementation.

Reference: torch-harmonics (NVIDIA, PyPI `torch-harmonics`), used here as a benchmark /
reference tool only -- it is never a runtime dependency of Gale.  Run with

    /work/main/.venv/bin/python tests/golden/make_sht_golden.py

It writes tests/golden/sht_t21_golden.txt (read by tests/grids/test_sht_golden.cpp):

    line 1      : "nlat nlon T  # provenance comment"
    lines '#...': further comments
    nlat lines  : the grid field, nlon values each, rows north -> south, longitudes 2 pi k / nlon
    (T+1)(T+2)/2 lines, m-major (m = 0..T, n = m..T):
                  m n  ours_re ours_im  th_re th_im
                  ours = Gale's coefficient f(m, n), th = raw torch-harmonics coefficient.

Conventions and the conversion (all verified numerically below, not assumed):

  * torch-harmonics RealSHT(nlat, nlon, lmax, mmax, grid="legendre-gauss", norm="ortho")
    returns coeffs[l, m] = integral over the sphere of f conj(Y_l^m) dOmega, with
    Y_l^m = Pbar_l^m(cos theta) e^{i m phi} orthonormal on the sphere (integral |Y|^2 = 1).
    Its latitude axis is colatitude theta = flip(arccos(leggauss nodes)), i.e. increasing
    theta = rows north -> south, the same order as Gale (checked below with f = sin(lat)).
    Longitudes are 2 pi k / nlon as in Gale (rfft over the last axis).
  * With csphase=True torch-harmonics multiplies odd m by -1 (Condon-Shortley); Gale has no
    Condon-Shortley phase.
  * Gale: P(m,n) orthonormal on [-1, 1] (integral over mu of P^2 = 1), so
    Pbar_l^m = P(m,l) / sqrt(2 pi) (times (-1)^m with csphase) and
    f(m, n) = (1 / 2 pi) integral f P(m,n) e^{-i m lambda} dOmega.

    Hence  ours(m, n) = theirs[n, m] * (-1)^m / sqrt(2 pi)      (csphase=True)
           ours(m, n) = theirs[n, m] / sqrt(2 pi)               (csphase=False)

  The script checks this mapping against an independent numpy evaluation of Gale's
  definition (own Legendre recurrence + numpy Gauss-Legendre quadrature + numpy FFT),
  coefficient by coefficient, and that csphase=False gives the same answer without the sign.
"""
import math
import os
import sys

import numpy as np
import torch
import torch_harmonics as th

T = 21
NLAT, NLON = 32, 64
LMAX = MMAX = T + 1  # torch-harmonics: l in [0, lmax), m in [0, mmax)
SEED = 20240521
CSPHASE = True
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sht_t21_golden.txt")


def gale_legendre(T, mu):
    """Gale's P(m, n)(mu): orthonormal on [-1, 1], no Condon-Shortley phase. Returns p[m, n, j]."""
    p = np.zeros((T + 1, T + 1, mu.size))
    s = np.sqrt(1.0 - mu * mu)
    pmm = np.full(mu.size, math.sqrt(0.5))
    for m in range(T + 1):
        if m > 0:
            pmm = pmm * math.sqrt((2 * m + 1) / (2.0 * m)) * s
        p[m, m] = pmm
        if m + 1 <= T:
            p[m, m + 1] = math.sqrt(2 * m + 3) * mu * pmm
        for n in range(m + 2, T + 1):
            a = math.sqrt((4.0 * n * n - 1) / (n * n - m * m))
            b = math.sqrt((4.0 * (n - 1) ** 2 - 1) / ((n - 1) ** 2 - m * m))
            p[m, n] = a * (mu * p[m, n - 1] - p[m, n - 2] / b)
    return p


def gale_analyse_numpy(grid, T):
    """Independent numpy version of Gale's analysis (rows north -> south)."""
    x, w = np.polynomial.legendre.leggauss(grid.shape[0])  # ascending mu = south -> north
    mu, w = x[::-1].copy(), w[::-1].copy()                # north -> south
    p = gale_legendre(T, mu)
    fm = np.fft.rfft(grid, axis=1)[:, : T + 1] / grid.shape[1]  # (1/2pi) int f e^{-im lambda} dlambda
    c = np.zeros((T + 1, T + 1), dtype=complex)
    for m in range(T + 1):
        for n in range(m, T + 1):
            c[m, n] = np.sum(w * p[m, n] * fm[:, m])
    return c, mu


def main():
    torch.manual_seed(SEED)
    dt = torch.float64

    # 1) random band-limited field: random coefficients (torch-harmonics layout [l, m]),
    #    triangular (m <= l), real for m = 0, synthesised with InverseRealSHT.
    rng = np.random.default_rng(SEED)
    spec = np.zeros((LMAX, MMAX), dtype=complex)
    for l in range(LMAX):
        for m in range(min(l, MMAX - 1) + 1):
            spec[l, m] = complex(rng.standard_normal(), 0.0 if m == 0 else rng.standard_normal())
    # coefficients ~ N(0,1) in Gale's normalisation after / sqrt(2 pi); scale so they stay O(1)
    spec *= math.sqrt(2 * math.pi)
    isht = th.InverseRealSHT(NLAT, NLON, lmax=LMAX, mmax=MMAX, grid="legendre-gauss", norm="ortho", csphase=CSPHASE).to(dt)
    grid = isht(torch.as_tensor(spec, dtype=torch.complex128)).numpy()
    assert grid.shape == (NLAT, NLON)

    # 2) analyse with RealSHT in float64
    def sht(csphase):
        s = th.RealSHT(NLAT, NLON, lmax=LMAX, mmax=MMAX, grid="legendre-gauss", norm="ortho", csphase=csphase).to(dt)
        assert (s.lmax, s.mmax) == (LMAX, MMAX), (s.lmax, s.mmax)
        return s

    sht_cs = sht(CSPHASE)
    theirs = sht_cs(torch.as_tensor(grid, dtype=dt)).numpy()  # [l, m]
    assert theirs.shape == (LMAX, MMAX)
    print("round trip through torch-harmonics:", np.abs(theirs - spec).max())

    # 3) latitude order: torch-harmonics' nodes are cos(theta) = flip(leggauss) -> descending
    #    (north -> south). Check empirically: f = mu = cos(theta) on its rows must give
    #    coeff[1, 0] = +sqrt(4 pi / 3) (Y_1^0 = sqrt(3 / 4 pi) cos theta).
    x, _ = np.polynomial.legendre.leggauss(NLAT)
    mu_ns = x[::-1]
    assert np.all(np.diff(mu_ns) < 0)
    c_mu = sht_cs(torch.as_tensor(np.repeat(mu_ns[:, None], NLON, axis=1), dtype=dt)).numpy()
    assert abs(c_mu[1, 0] - math.sqrt(4 * math.pi / 3)) < 1e-12, c_mu[1, 0]
    print("latitude order: rows north -> south (coeff[1,0] of sin(lat) = %.15f)" % c_mu[1, 0].real)

    # 4) conversion to Gale's convention, verified against an independent numpy evaluation
    ours_ref, _ = gale_analyse_numpy(grid, T)
    sign = lambda m: (-1) ** m if CSPHASE else 1
    ours = np.zeros((T + 1, T + 1), dtype=complex)
    max_conv = 0.0
    ratios = []
    for m in range(T + 1):
        for n in range(m, T + 1):
            ours[m, n] = theirs[n, m] * sign(m) / math.sqrt(2 * math.pi)
            max_conv = max(max_conv, abs(ours[m, n] - ours_ref[m, n]))
            if abs(ours_ref[m, n]) > 1e-3:
                ratios.append(theirs[n, m] / ours_ref[m, n] * sign(m))
    ratios = np.array(ratios)
    print("theirs * (-1)^m / ours_numpy: min %.15f max %.15f (sqrt(2 pi) = %.15f), imag max %.2e"
          % (ratios.real.min(), ratios.real.max(), math.sqrt(2 * math.pi), np.abs(ratios.imag).max()))
    print("max |converted - numpy Gale definition| = %.3e" % max_conv)
    assert max_conv < 1e-12
    # csphase=False must equal theirs without the sign
    nocs = sht(not CSPHASE)(torch.as_tensor(grid, dtype=dt)).numpy()
    msign = np.array([(-1) ** m for m in range(MMAX)])
    assert np.abs(nocs - theirs * msign[None, :]).max() < 1e-13
    # the input coefficients, converted, must also be recovered (band-limited field)
    assert np.abs(theirs - spec).max() < 1e-11

    # 5) write the golden file
    with open(OUT, "w") as f:
        f.write("%d %d %d  # torch-harmonics %s (torch %s) RealSHT grid=legendre-gauss norm=ortho csphase=%s float64\n"
                % (NLAT, NLON, T, th.__version__, torch.__version__, CSPHASE))
        f.write("# generated by tests/golden/make_sht_golden.py (seed %d); do not edit by hand\n" % SEED)
        f.write("# ours(m,n) = theirs[l=n,m] * (-1)^m / sqrt(2*pi)   (ortho: int |Y|^2 dOmega = 1; Gale: int P^2 dmu = 1, no CS phase)\n")
        f.write("# grid: %d rows north->south at Gauss-Legendre latitudes, %d longitudes 2*pi*k/nlon\n" % (NLAT, NLON))
        for j in range(NLAT):
            f.write(" ".join("%.17g" % v for v in grid[j]) + "\n")
        f.write("# coefficients m-major: m n ours_re ours_im theirs_re theirs_im\n")
        for m in range(T + 1):
            for n in range(m, T + 1):
                f.write("%d %d %.17g %.17g %.17g %.17g\n" % (m, n, ours[m, n].real, ours[m, n].imag,
                                                             theirs[n, m].real, theirs[n, m].imag))
    print("wrote %s (%d bytes)" % (OUT, os.path.getsize(OUT)))


if __name__ == "__main__":
    sys.exit(main())
