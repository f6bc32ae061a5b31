#pragma once
// Spherical harmonic transform on a Gaussian grid with triangular truncation T:
// FFTW for the zonal direction, Gauss-Legendre quadrature for the meridional one.
//
// Conventions (all in one place):
//  - grid values: nlat x nlon doubles, rows north -> south at the Gaussian latitudes,
//    longitudes 2 pi k / nlon (k = 0 .. nlon-1);
//  - spectral coefficients f(m, n), 0 <= m <= n <= T, stored m-major (index(m, n));
//  - normalisation: f(lambda, mu) = sum_n f(0,n) P(0,n)(mu) + 2 Re sum_{m>0} sum_n f(m,n) P(m,n)(mu) e^{i m lambda}
//    with P(m,n) orthonormal on [-1, 1] (integral of P^2 d mu = 1), no Condon-Shortley phase;
//    so f(m,n) = (1 / 2 pi) * integral over the sphere of f P(m,n) e^{-i m lambda} d mu d lambda.
#include <complex>
#include <memory>
#include <vector>

namespace gale {

using Complex = std::complex<double>;

class SphericalHarmonicTransform {
 public:
  // nlon >= 3T + 1 and nlat >= (3T + 1) / 2 make quadratic products alias-free.
  SphericalHarmonicTransform(int truncation, int nlat, int nlon);
  ~SphericalHarmonicTransform();
  SphericalHarmonicTransform(const SphericalHarmonicTransform&) = delete;
  SphericalHarmonicTransform& operator=(const SphericalHarmonicTransform&) = delete;

  int truncation() const { return T_; }
  int nlat() const { return nlat_; }
  int nlon() const { return nlon_; }
  std::size_t grid_size() const { return std::size_t(nlat_) * std::size_t(nlon_); }
  std::size_t coefficients() const { return std::size_t(T_ + 1) * std::size_t(T_ + 2) / 2; }
  std::size_t index(int m, int n) const { return offset_[m] + std::size_t(n - m); }

  const std::vector<double>& mu() const { return mu_; }            // sin(latitude), north -> south
  const std::vector<double>& weights() const { return weights_; }  // Gauss weights (sum 2)
  std::vector<double> latitudes_deg() const;
  std::vector<double> longitudes_deg() const;

  // grid -> spectral
  void analyse(const double* grid, Complex* spec) const;
  // spectral -> grid
  void synthesise(const Complex* spec, double* grid) const;
  // grid = sum (a P + b H) e^{i m lambda}, H = (1 - mu^2) dP/dmu. Either may be null.
  void synthesise_with_derivative(const Complex* a, const Complex* b, double* grid) const;
  // Spectral coefficients of (1 / (radius (1 - mu^2))) dX/dlambda + (1 / radius) dY/dmu
  // (the divergence of a vector field given as X = u cos(phi), Y = v cos(phi) times anything).
  void analyse_divergence(const double* x, const double* y, double radius, Complex* spec) const;

  // Winds from vorticity and divergence: U = u cos(phi), V = v cos(phi) on the grid.
  void winds_from_vorticity_divergence(const Complex* vorticity, const Complex* divergence,
                                       double radius, double* u_cos, double* v_cos) const;

 private:
  void fft_forward(const double* grid, Complex* fourier) const;   // nlat x (T+1)
  void fft_inverse(const Complex* fourier, double* grid) const;

  int T_, nlat_, nlon_;
  std::vector<std::size_t> offset_;
  std::vector<double> mu_, weights_;
  std::vector<double> p_, h_;  // [lat][index(m, n)] Legendre functions and (1-mu^2) dP/dmu
  struct Fft;
  std::unique_ptr<Fft> fft_;  // with its buffers: one transform object serves one thread
  mutable std::vector<Complex> fourier_, fourier2_;  // nlat x (T+1) scratch
};

}  // namespace gale
