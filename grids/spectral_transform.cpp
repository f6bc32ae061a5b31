#include "grids/spectral_transform.hpp"

#include <fftw3.h>
#include <fmt/format.h>

#include <cmath>
#include <mutex>

#include "core/errors.hpp"
#include "grids/gaussian.hpp"

namespace gale {

namespace {
std::mutex& fftw_planner_mutex() {  // FFTW's planner is not thread-safe
  static std::mutex m;
  return m;
}
double epsilon(int m, int n) {
  return n <= 0 ? 0.0 : std::sqrt(double(n * n - m * m) / double(4 * n * n - 1));
}
}  // namespace

struct SphericalHarmonicTransform::Fft {
  int nlat, nlon;
  double* real;
  fftw_complex* spectral;
  fftw_plan forward, inverse;
  Fft(int nlat_, int nlon_) : nlat(nlat_), nlon(nlon_) {
    const int half = nlon / 2 + 1;
    real = fftw_alloc_real(std::size_t(nlat) * std::size_t(nlon));
    spectral = fftw_alloc_complex(std::size_t(nlat) * std::size_t(half));
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    forward = fftw_plan_many_dft_r2c(1, &nlon, nlat, real, nullptr, 1, nlon, spectral, nullptr, 1, half,
                                     FFTW_ESTIMATE);
    inverse = fftw_plan_many_dft_c2r(1, &nlon, nlat, spectral, nullptr, 1, half, real, nullptr, 1, nlon,
                                     FFTW_ESTIMATE);
  }
  ~Fft() {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftw_destroy_plan(forward);
    fftw_destroy_plan(inverse);
    fftw_free(real);
    fftw_free(spectral);
  }
};

SphericalHarmonicTransform::SphericalHarmonicTransform(int truncation, int nlat, int nlon)
    : T_(truncation), nlat_(nlat), nlon_(nlon) {
  if (T_ < 1 || nlat_ < 2 || nlat_ % 2 || nlon_ < 2 * T_ + 1 || nlat_ < T_ + 1)
    throw UserError(fmt::format("spectral transform: T{} needs nlon >= 2T+1 and an even nlat >= T+1 "
                                "(got {} x {})", T_, nlon_, nlat_));
  offset_.resize(T_ + 2);
  for (int m = 0; m <= T_; ++m) offset_[m + 1] = offset_[m] + std::size_t(T_ - m + 1);
  const auto gauss = gaussian_latitudes(nlat_ / 2);
  for (int j = 0; j < nlat_; ++j) {
    mu_.push_back(std::sin(gauss.latitudes_deg[j] * M_PI / 180));
    weights_.push_back(gauss.weights[j]);
  }
  // Orthonormal associated Legendre functions by the standard stable recurrences, up to
  // degree T+1 (H at degree T needs P at T+1).
  const std::size_t nc = coefficients();
  p_.assign(std::size_t(nlat_) * nc, 0.0);
  h_.assign(std::size_t(nlat_) * nc, 0.0);
  std::vector<double> column(T_ + 2);
  for (int j = 0; j < nlat_; ++j) {
    const double x = mu_[j], s = std::sqrt(1 - x * x);
    double pmm = std::sqrt(0.5);  // P(0,0)
    for (int m = 0; m <= T_; ++m) {
      if (m > 0) pmm *= std::sqrt(double(2 * m + 1) / double(2 * m)) * s;
      column[m] = pmm;
      if (m + 1 <= T_ + 1) column[m + 1] = std::sqrt(double(2 * m + 3)) * x * pmm;
      for (int n = m + 2; n <= T_ + 1; ++n)
        column[n] = (x * column[n - 1] - epsilon(m, n - 1) * column[n - 2]) / epsilon(m, n);
      for (int n = m; n <= T_; ++n) {
        const std::size_t k = std::size_t(j) * nc + index(m, n);
        p_[k] = column[n];
        h_[k] = -n * epsilon(m, n + 1) * column[n + 1] + (n + 1) * epsilon(m, n) * (n > m ? column[n - 1] : 0.0);
      }
    }
  }
  fft_ = std::make_unique<Fft>(nlat_, nlon_);
  fourier_.resize(std::size_t(nlat_) * (T_ + 1));
  fourier2_.resize(fourier_.size());
}

SphericalHarmonicTransform::~SphericalHarmonicTransform() = default;

std::vector<double> SphericalHarmonicTransform::latitudes_deg() const {
  std::vector<double> out;
  for (double x : mu_) out.push_back(std::asin(x) * 180 / M_PI);
  return out;
}

std::vector<double> SphericalHarmonicTransform::longitudes_deg() const {
  std::vector<double> out;
  for (int k = 0; k < nlon_; ++k) out.push_back(360.0 * k / nlon_);
  return out;
}

void SphericalHarmonicTransform::fft_forward(const double* grid, Complex* fourier) const {
  std::copy(grid, grid + grid_size(), fft_->real);
  fftw_execute_dft_r2c(fft_->forward, fft_->real, fft_->spectral);
  const int half = nlon_ / 2 + 1;
  const double scale = 1.0 / nlon_;
  for (int j = 0; j < nlat_; ++j)
    for (int m = 0; m <= T_; ++m) {
      const auto& c = fft_->spectral[std::size_t(j) * half + m];
      fourier[std::size_t(j) * (T_ + 1) + m] = Complex(c[0], c[1]) * scale;
    }
}

void SphericalHarmonicTransform::fft_inverse(const Complex* fourier, double* grid) const {
  const int half = nlon_ / 2 + 1;
  std::fill(&fft_->spectral[0][0], &fft_->spectral[0][0] + 2 * std::size_t(nlat_) * half, 0.0);
  for (int j = 0; j < nlat_; ++j)
    for (int m = 0; m <= T_; ++m) {
      const Complex c = fourier[std::size_t(j) * (T_ + 1) + m];
      fft_->spectral[std::size_t(j) * half + m][0] = c.real();
      fft_->spectral[std::size_t(j) * half + m][1] = m == 0 ? 0.0 : c.imag();
    }
  fftw_execute_dft_c2r(fft_->inverse, fft_->spectral, fft_->real);
  std::copy(fft_->real, fft_->real + grid_size(), grid);
}

void SphericalHarmonicTransform::analyse(const double* grid, Complex* spec) const {
  auto& fourier = fourier_;
  fft_forward(grid, fourier.data());
  const std::size_t nc = coefficients();
  std::fill(spec, spec + nc, Complex(0));
  for (int j = 0; j < nlat_; ++j) {
    const double* p = &p_[std::size_t(j) * nc];
    for (int m = 0; m <= T_; ++m) {
      const Complex fm = weights_[j] * fourier[std::size_t(j) * (T_ + 1) + m];
      for (std::size_t k = offset_[m]; k < offset_[m + 1]; ++k) spec[k] += p[k] * fm;
    }
  }
}

void SphericalHarmonicTransform::synthesise_with_derivative(const Complex* a, const Complex* b,
                                                            double* grid) const {
  auto& fourier = fourier_;
  const std::size_t nc = coefficients();
  for (int j = 0; j < nlat_; ++j) {
    const double* p = &p_[std::size_t(j) * nc];
    const double* h = &h_[std::size_t(j) * nc];
    for (int m = 0; m <= T_; ++m) {
      Complex sum = 0;
      if (a)
        for (std::size_t k = offset_[m]; k < offset_[m + 1]; ++k) sum += p[k] * a[k];
      if (b)
        for (std::size_t k = offset_[m]; k < offset_[m + 1]; ++k) sum += h[k] * b[k];
      fourier[std::size_t(j) * (T_ + 1) + m] = sum;
    }
  }
  fft_inverse(fourier.data(), grid);
}

void SphericalHarmonicTransform::synthesise(const Complex* spec, double* grid) const {
  synthesise_with_derivative(spec, nullptr, grid);
}

void SphericalHarmonicTransform::analyse_divergence(const double* x, const double* y, double radius,
                                                    Complex* spec) const {
  auto &fx = fourier_, &fy = fourier2_;
  fft_forward(x, fx.data());
  fft_forward(y, fy.data());
  const std::size_t nc = coefficients();
  std::fill(spec, spec + nc, Complex(0));
  const Complex i(0, 1);
  for (int j = 0; j < nlat_; ++j) {
    const double* p = &p_[std::size_t(j) * nc];
    const double* h = &h_[std::size_t(j) * nc];
    const double w = weights_[j] / (radius * (1 - mu_[j] * mu_[j]));
    for (int m = 0; m <= T_; ++m) {
      // Integration by parts moves d/dmu onto P: the Y term enters with -H.
      const Complex xm = w * i * double(m) * fx[std::size_t(j) * (T_ + 1) + m];
      const Complex ym = w * fy[std::size_t(j) * (T_ + 1) + m];
      for (std::size_t k = offset_[m]; k < offset_[m + 1]; ++k) spec[k] += p[k] * xm - h[k] * ym;
    }
  }
}

void SphericalHarmonicTransform::winds_from_vorticity_divergence(const Complex* vorticity,
                                                                 const Complex* divergence, double radius,
                                                                 double* u_cos, double* v_cos) const {
  // Stream function and velocity potential: psi = -a^2 zeta / (n (n + 1)).
  const std::size_t nc = coefficients();
  std::vector<Complex> a_u(nc), b_u(nc), a_v(nc), b_v(nc);
  const Complex i(0, 1);
  for (int m = 0; m <= T_; ++m)
    for (int n = std::max(m, 1); n <= T_; ++n) {
      const std::size_t k = index(m, n);
      const double inv_lap = -radius * radius / double(n * (n + 1));
      const Complex psi = inv_lap * vorticity[k], chi = inv_lap * divergence[k];
      // U = (1/a)(-H psi + i m chi P), V = (1/a)(i m psi P + H chi)
      a_u[k] = i * double(m) * chi / radius;
      b_u[k] = -psi / radius;
      a_v[k] = i * double(m) * psi / radius;
      b_v[k] = chi / radius;
    }
  synthesise_with_derivative(a_u.data(), b_u.data(), u_cos);
  synthesise_with_derivative(a_v.data(), b_v.data(), v_cos);
}

}  // namespace gale
