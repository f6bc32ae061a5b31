#include "ingest/shallow_water.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/errors.hpp"
#include "ingest/field.hpp"

namespace gale {

namespace {
constexpr double kDay = 86400;
}

ShallowWaterConfig shallow_water_config(int truncation) {
  ShallowWaterConfig c;
  c.truncation = truncation;
  c.nlon = int(4 * std::ceil((3 * truncation + 1) / 4.0));
  c.nlat = c.nlon / 2;
  c.forcing_n_max = std::min(c.forcing_n_max, truncation);
  c.forcing_n_min = std::min(c.forcing_n_min, std::max(1, c.forcing_n_max * 2 / 5));
  return c;
}

ShallowWaterModel::ShallowWaterModel(ShallowWaterConfig config)
    : config_(config), sht_(config.truncation, config.nlat, config.nlon), rng_(config.seed) {
  if (!(config_.dt_seconds > 0)) throw UserError("shallow water: dt_seconds must be positive");
  if (config_.forcing_n_min < 1 || config_.forcing_n_max > config_.truncation ||
      config_.forcing_n_min > config_.forcing_n_max)
    throw UserError(fmt::format("shallow water: forcing wavenumbers {}..{} must lie in 1..T{}",
                                config_.forcing_n_min, config_.forcing_n_max, config_.truncation));
  const std::size_t nc = sht_.coefficients(), ng = sht_.grid_size();
  for (auto* s : {&previous_, &current_})
    for (auto* v : {&s->vorticity, &s->divergence, &s->geopotential, &s->tracer}) v->assign(nc, 0.0);
  jet_vorticity_.assign(nc, 0.0);
  forcing_.assign(nc, 0.0);
  coriolis_.resize(ng);
  tracer_base_.resize(ng);
  for (int j = 0; j < sht_.nlat(); ++j) {
    const double mu = sht_.mu()[j];
    for (int k = 0; k < sht_.nlon(); ++k) {
      coriolis_[j * sht_.nlon() + k] = 2 * config_.omega * mu;
      tracer_base_[j * sht_.nlon() + k] =
          config_.tracer_equator_k - (config_.tracer_equator_k - config_.tracer_pole_k) * mu * mu;
    }
  }
  for (int k = 0; k < sht_.nlon(); ++k) {
    cos_lon_.push_back(std::cos(2 * M_PI * k / sht_.nlon()));
    sin_lon_.push_back(std::sin(2 * M_PI * k / sht_.nlon()));
  }
  const int T = sht_.truncation();
  const double hyper = config_.hyperdiffusion_hours > 0 ? 1 / (config_.hyperdiffusion_hours * 3600) : 0;
  for (int n = 0; n <= T; ++n)
    hyperdiffusion_rate_.push_back(hyper * std::pow(double(n * (n + 1)) / double(T * (T + 1)), config_.hyperdiffusion_order));
  if (config_.forcing) forcing_ = random_field(config_.forcing_n_min, config_.forcing_n_max, config_.forcing_rms);
}

std::vector<Complex> ShallowWaterModel::random_field(int n_min, int n_max, double grid_rms) {
  std::normal_distribution<double> gauss;
  std::vector<Complex> c(sht_.coefficients(), 0.0);
  double variance = 0;  // grid variance = (1/2)(sum |c(0,n)|^2 + 2 sum_{m>0} |c(m,n)|^2)
  for (int m = 0; m <= sht_.truncation(); ++m)
    for (int n = std::max(m, n_min); n <= n_max; ++n) {
      const Complex x(gauss(rng_), m == 0 ? 0.0 : gauss(rng_));
      c[sht_.index(m, n)] = x;
      variance += 0.5 * (m == 0 ? 1 : 2) * std::norm(x);
    }
  const double scale = variance > 0 ? grid_rms / std::sqrt(variance) : 0;
  for (auto& x : c) x *= scale;
  return c;
}

void ShallowWaterModel::initialise_williamson2(double u0, double gh0, double alpha) {
  const double a = config_.radius, omega = config_.omega;
  config_.mean_geopotential = gh0;
  const std::size_t ng = sht_.grid_size(), nc = sht_.coefficients();
  std::vector<double> phi(ng), U(ng), V(ng), zeros(ng, 0.0), minus_U(ng);
  for (int j = 0; j < sht_.nlat(); ++j) {
    const double mu = sht_.mu()[j], c = std::sqrt(1 - mu * mu);
    for (int k = 0; k < sht_.nlon(); ++k) {
      const double lambda = 2 * M_PI * k / sht_.nlon();
      const double s = -std::cos(lambda) * c * std::sin(alpha) + mu * std::cos(alpha);
      const std::size_t p = std::size_t(j) * sht_.nlon() + k;
      phi[p] = -(a * omega * u0 + u0 * u0 / 2) * s * s;  // Phi - gh0
      coriolis_[p] = 2 * omega * s;  // the test case rotates the Coriolis parameter with the flow
      U[p] = u0 * (c * std::cos(alpha) + std::cos(lambda) * mu * std::sin(alpha)) * c;
      V[p] = -u0 * std::sin(lambda) * std::sin(alpha) * c;
    }
  }
  Spectral st;
  for (auto* v : {&st.vorticity, &st.divergence, &st.geopotential, &st.tracer}) v->assign(nc, 0.0);
  for (std::size_t p = 0; p < ng; ++p) minus_U[p] = -U[p];
  sht_.analyse_divergence(V.data(), minus_U.data(), a, st.vorticity.data());  // curl of (U, V)
  sht_.analyse_divergence(U.data(), V.data(), a, st.divergence.data());      // zero up to rounding
  sht_.analyse(phi.data(), st.geopotential.data());
  previous_ = current_ = st;
  jet_vorticity_ = st.vorticity;
  time_ = 0;
  steps_ = 0;
}

void ShallowWaterModel::initialise_jet(double perturbation) {
  const double a = config_.radius;
  const std::size_t ng = sht_.grid_size(), nc = sht_.coefficients();
  std::vector<double> U(ng), zeros(ng, 0.0), minus_U(ng), A(ng), E(ng);
  for (int j = 0; j < sht_.nlat(); ++j) {
    const double mu = sht_.mu()[j], lat = std::asin(mu) * 180 / M_PI;
    auto bump = [&](double centre) {
      const double x = (lat - centre) / config_.jet_width_deg;
      return std::exp(-x * x);
    };
    const double u = config_.jet_speed * (bump(config_.jet_latitude) + bump(-config_.jet_latitude));
    for (int k = 0; k < sht_.nlon(); ++k) U[j * sht_.nlon() + k] = u * std::sqrt(1 - mu * mu);
  }
  for (std::size_t p = 0; p < ng; ++p) minus_U[p] = -U[p];
  Spectral s;
  s.vorticity.assign(nc, 0.0);
  s.divergence.assign(nc, 0.0);
  s.geopotential.assign(nc, 0.0);
  s.tracer.assign(nc, 0.0);
  sht_.analyse_divergence(zeros.data(), minus_U.data(), a, s.vorticity.data());  // curl of (U, 0)
  jet_vorticity_ = s.vorticity;
  // Balance: with no divergence and no tendency, del^2 (Phi' + E) = curl((zeta + f) v).
  std::vector<double> zeta(ng);
  sht_.synthesise(s.vorticity.data(), zeta.data());
  std::vector<double> minus_A(ng);
  for (std::size_t p = 0; p < ng; ++p) {
    const double eta = zeta[p] + coriolis_[p];
    minus_A[p] = -U[p] * eta;
    const double mu = sht_.mu()[p / sht_.nlon()];
    E[p] = U[p] * U[p] / (2 * (1 - mu * mu));
  }
  std::vector<Complex> curl(nc), e_spec(nc);
  sht_.analyse_divergence(zeros.data(), minus_A.data(), a, curl.data());
  sht_.analyse(E.data(), e_spec.data());
  for (int m = 0; m <= sht_.truncation(); ++m)
    for (int n = std::max(m, 1); n <= sht_.truncation(); ++n) {
      const std::size_t k = sht_.index(m, n);
      s.geopotential[k] = -a * a / double(n * (n + 1)) * curl[k] - e_spec[k];
    }
  sht_.analyse(tracer_base_.data(), s.tracer.data());
  previous_ = current_ = s;
  time_ = 0;
  steps_ = 0;
  if (perturbation > 0) perturb_vorticity(perturbation, config_.seed + 1);
}

void ShallowWaterModel::set_fields(const ShallowWaterFields& f, double time_seconds) {
  const std::size_t ng = sht_.grid_size(), nc = sht_.coefficients();
  if (f.u.size() != ng || f.v.size() != ng || f.geopotential.size() != ng || f.tracer.size() != ng)
    throw InternalError("shallow water: set_fields with fields of the wrong size");
  std::vector<double> U(ng), V(ng), minus_U(ng), phi(ng);
  for (std::size_t p = 0; p < ng; ++p) {
    const double mu = sht_.mu()[p / sht_.nlon()], c = std::sqrt(1 - mu * mu);
    U[p] = f.u[p] * c;
    V[p] = f.v[p] * c;
    minus_U[p] = -U[p];
    phi[p] = f.geopotential[p] - config_.mean_geopotential;
  }
  Spectral s;
  for (auto* v : {&s.vorticity, &s.divergence, &s.geopotential, &s.tracer}) v->assign(nc, 0.0);
  sht_.analyse_divergence(V.data(), minus_U.data(), config_.radius, s.vorticity.data());
  sht_.analyse_divergence(U.data(), V.data(), config_.radius, s.divergence.data());
  sht_.analyse(phi.data(), s.geopotential.data());
  sht_.analyse(f.tracer.data(), s.tracer.data());
  previous_ = current_ = std::move(s);
  time_ = time_seconds;
  steps_ = 0;
}

void ShallowWaterModel::reseed(std::uint64_t seed) {
  rng_.seed(seed);
  if (config_.forcing) forcing_ = random_field(config_.forcing_n_min, config_.forcing_n_max, config_.forcing_rms);
}

void ShallowWaterModel::perturb_vorticity(double rms, std::uint64_t seed) {
  const auto saved = rng_;
  rng_.seed(seed);
  const auto delta = random_field(1, sht_.truncation(), rms);
  rng_ = saved;
  for (std::size_t k = 0; k < delta.size(); ++k) {
    current_.vorticity[k] += delta[k];
    previous_.vorticity[k] += delta[k];
  }
}

void ShallowWaterModel::tendencies(const Spectral& s, Spectral& t) {
  const std::size_t ng = sht_.grid_size(), nc = sht_.coefficients();
  const double a = config_.radius;
  auto& w = work_;
  for (auto* v : {&w.U, &w.V, &w.zeta, &w.phi, &w.div, &w.T, &w.A, &w.B, &w.minus_A, &w.C, &w.D, &w.E, &w.UT,
                  &w.VT, &w.source})
    v->resize(ng);
  w.e_spec.resize(nc);
  w.s_spec.resize(nc);
  auto &U = w.U, &V = w.V, &zeta = w.zeta, &phi = w.phi, &div = w.div, &T = w.T;
  auto &A = w.A, &B = w.B, &minus_A = w.minus_A, &C = w.C, &D = w.D, &E = w.E;
  sht_.winds_from_vorticity_divergence(s.vorticity.data(), s.divergence.data(), a, U.data(), V.data());
  sht_.synthesise(s.vorticity.data(), zeta.data());
  sht_.synthesise(s.geopotential.data(), phi.data());
  for (std::size_t p = 0; p < ng; ++p) {
    const double mu = sht_.mu()[p / sht_.nlon()];
    const double eta = zeta[p] + coriolis_[p];
    A[p] = U[p] * eta;
    B[p] = V[p] * eta;
    minus_A[p] = -A[p];
    C[p] = U[p] * phi[p];
    D[p] = V[p] * phi[p];
    E[p] = (U[p] * U[p] + V[p] * V[p]) / (2 * (1 - mu * mu));
  }
  for (auto* v : {&t.vorticity, &t.divergence, &t.geopotential, &t.tracer}) v->assign(nc, 0.0);
  sht_.analyse_divergence(A.data(), B.data(), a, t.vorticity.data());
  for (std::size_t k = 0; k < nc; ++k) t.vorticity[k] = -t.vorticity[k] + forcing_[k];
  auto& e_spec = w.e_spec;
  sht_.analyse_divergence(B.data(), minus_A.data(), a, t.divergence.data());  // curl((zeta + f) v)
  sht_.analyse(E.data(), e_spec.data());
  for (int m = 0; m <= sht_.truncation(); ++m)
    for (int n = m; n <= sht_.truncation(); ++n) {
      const std::size_t k = sht_.index(m, n);
      t.divergence[k] += double(n * (n + 1)) / (a * a) * e_spec[k];  // - del^2 E
    }
  sht_.analyse_divergence(C.data(), D.data(), a, t.geopotential.data());
  for (auto& x : t.geopotential) x = -x;

  if (!config_.tracer) return;
  sht_.synthesise(s.tracer.data(), T.data());
  sht_.synthesise(s.divergence.data(), div.data());
  auto &UT = w.UT, &VT = w.VT, &source = w.source;
  const double relax = 1 / (config_.tracer_relaxation_days * kDay);
  // Diurnal wave: warmest where the sun is overhead (local noon).
  const double sun_lon = M_PI - 2 * M_PI * std::fmod(time_, kDay) / kDay;
  const double cos_sun = std::cos(sun_lon), sin_sun = std::sin(sun_lon);
  for (std::size_t p = 0; p < ng; ++p) {
    const std::size_t k = p % std::size_t(sht_.nlon());
    const double mu = sht_.mu()[p / sht_.nlon()];
    const double cos_hour = cos_lon_[k] * cos_sun + sin_lon_[k] * sin_sun;  // cos(lambda - sun_lon)
    const double t_eq = tracer_base_[p] + config_.tracer_diurnal_k * std::sqrt(1 - mu * mu) * cos_hour;
    UT[p] = U[p] * T[p];
    VT[p] = V[p] * T[p];
    source[p] = T[p] * div[p] - relax * (T[p] - t_eq);
  }
  auto& s_spec = w.s_spec;
  sht_.analyse_divergence(UT.data(), VT.data(), a, t.tracer.data());
  sht_.analyse(source.data(), s_spec.data());
  for (std::size_t k = 0; k < nc; ++k) t.tracer[k] = s_spec[k] - t.tracer[k];
}

void ShallowWaterModel::implicit_update(const Spectral& old, const Spectral& tend, double dt2,
                                        Spectral& out) const {
  const double a = config_.radius, phi_bar = config_.mean_geopotential, h = dt2 / 2;
  const int T = sht_.truncation();
  const double drag = config_.drag_days > 0 ? 1 / (config_.drag_days * kDay) : 0;
  for (int m = 0; m <= T; ++m)
    for (int n = m; n <= T; ++n) {
      const std::size_t k = sht_.index(m, n);
      const double L = double(n * (n + 1)) / (a * a);
      // Semi-implicit gravity waves: the linear terms averaged over n-1 and n+1.
      const Complex phi_new =
          (old.geopotential[k] * (1 - h * h * phi_bar * L) + dt2 * tend.geopotential[k] -
           2 * h * phi_bar * old.divergence[k] - h * dt2 * phi_bar * tend.divergence[k]) /
          (1 + h * h * phi_bar * L);
      const Complex div_new = old.divergence[k] + dt2 * tend.divergence[k] + h * L * (phi_new + old.geopotential[k]);
      const Complex vort_new = old.vorticity[k] + dt2 * tend.vorticity[k];
      const Complex tracer_new = old.tracer[k] + dt2 * tend.tracer[k];
      // Implicit hyperdiffusion (zero at n = 0, so mass is untouched) and drag toward the jet.
      const double nu = hyperdiffusion_rate_[n];
      const double damp = 1 / (1 + dt2 * nu);
      out.vorticity[k] = (vort_new + dt2 * drag * jet_vorticity_[k]) / (1 + dt2 * (nu + drag));
      out.divergence[k] = div_new * damp;
      out.geopotential[k] = phi_new * damp;
      out.tracer[k] = tracer_new * damp;
    }
}

void ShallowWaterModel::update_forcing() {
  if (!config_.forcing) return;
  const double r = std::exp(-config_.dt_seconds / (config_.forcing_decorrelation_hours * 3600));
  const auto fresh = random_field(config_.forcing_n_min, config_.forcing_n_max, config_.forcing_rms);
  const double q = std::sqrt(1 - r * r);
  for (std::size_t k = 0; k < forcing_.size(); ++k) forcing_[k] = r * forcing_[k] + q * fresh[k];
}

void ShallowWaterModel::step() {
  const double dt = config_.dt_seconds;
  Spectral tend, next = current_;
  tendencies(current_, tend);
  if (steps_ == 0) {
    // Start the leapfrog with one semi-implicit forward step.
    implicit_update(current_, tend, dt, next);
    previous_ = current_;
  } else {
    implicit_update(previous_, tend, 2 * dt, next);
    // Robert-Asselin filter on the middle time level damps the computational mode.
    const double alpha = config_.robert_filter;
    auto filter = [&](std::vector<Complex>& prev, const std::vector<Complex>& cur, const std::vector<Complex>& nxt) {
      for (std::size_t k = 0; k < cur.size(); ++k) prev[k] = cur[k] + alpha * (prev[k] - 2.0 * cur[k] + nxt[k]);
    };
    filter(previous_.vorticity, current_.vorticity, next.vorticity);
    filter(previous_.divergence, current_.divergence, next.divergence);
    filter(previous_.geopotential, current_.geopotential, next.geopotential);
    filter(previous_.tracer, current_.tracer, next.tracer);
  }
  current_ = std::move(next);
  time_ += dt;
  ++steps_;
  update_forcing();
}

std::shared_ptr<const Grid> ShallowWaterModel::grid() const {
  auto lats = sht_.latitudes_deg(), lons = sht_.longitudes_deg();
  for (auto& x : lats) x = round_degrees(x);
  for (auto& x : lons) x = canonical_longitude(x);
  return Grid::regular(GridKind::regular_gaussian, std::move(lats), std::move(lons));
}

ShallowWaterModel::Snapshot ShallowWaterModel::snapshot() const {
  return {previous_, current_, forcing_, jet_vorticity_, coriolis_, config_.mean_geopotential, rng_, time_, steps_};
}

void ShallowWaterModel::restore(const Snapshot& s) {
  previous_ = s.previous;
  current_ = s.current;
  forcing_ = s.forcing;
  jet_vorticity_ = s.jet_vorticity;
  coriolis_ = s.coriolis;
  config_.mean_geopotential = s.mean_geopotential;
  rng_ = s.rng;
  time_ = s.time;
  steps_ = s.steps;
}

void ShallowWaterModel::run(double seconds) {
  const long n = std::lround(seconds / config_.dt_seconds);
  for (long i = 0; i < n; ++i) step();
}

ShallowWaterFields ShallowWaterModel::fields() const {
  const std::size_t ng = sht_.grid_size();
  ShallowWaterFields f;
  f.u.resize(ng);
  f.v.resize(ng);
  f.geopotential.resize(ng);
  f.tracer.resize(ng);
  sht_.winds_from_vorticity_divergence(current_.vorticity.data(), current_.divergence.data(), config_.radius,
                                       f.u.data(), f.v.data());
  sht_.synthesise(current_.geopotential.data(), f.geopotential.data());
  sht_.synthesise(current_.tracer.data(), f.tracer.data());
  for (std::size_t p = 0; p < ng; ++p) {
    const double mu = sht_.mu()[p / sht_.nlon()], c = std::sqrt(1 - mu * mu);
    f.u[p] /= c;
    f.v[p] /= c;
    f.geopotential[p] += config_.mean_geopotential;
  }
  return f;
}

double ShallowWaterModel::integrate(const std::vector<double>& grid) const {
  double total = 0;
  for (int j = 0; j < sht_.nlat(); ++j) {
    double row = 0;
    for (int k = 0; k < sht_.nlon(); ++k) row += grid[j * sht_.nlon() + k];
    total += sht_.weights()[j] * row * 2 * M_PI / sht_.nlon();
  }
  return total;
}

double ShallowWaterModel::mass() const {
  std::vector<double> phi(sht_.grid_size());
  sht_.synthesise(current_.geopotential.data(), phi.data());
  for (auto& x : phi) x += config_.mean_geopotential;
  return integrate(phi);
}

double ShallowWaterModel::energy() const {
  const auto f = fields();
  std::vector<double> e(f.u.size());
  for (std::size_t p = 0; p < e.size(); ++p)
    e[p] = 0.5 * (f.geopotential[p] * (f.u[p] * f.u[p] + f.v[p] * f.v[p]) + f.geopotential[p] * f.geopotential[p]);
  return integrate(e);
}

double ShallowWaterModel::potential_enstrophy() const {
  const auto f = fields();
  std::vector<double> zeta(f.u.size()), q(f.u.size());
  sht_.synthesise(current_.vorticity.data(), zeta.data());
  for (std::size_t p = 0; p < q.size(); ++p) {
    const double eta = zeta[p] + coriolis_[p];
    q[p] = eta * eta / (2 * f.geopotential[p]);
  }
  return integrate(q);
}

double ShallowWaterModel::kinetic_energy_per_area() const {
  const auto f = fields();
  std::vector<double> k(f.u.size());
  for (std::size_t p = 0; p < k.size(); ++p) k[p] = 0.5 * (f.u[p] * f.u[p] + f.v[p] * f.v[p]);
  return integrate(k) / (4 * M_PI);
}

}  // namespace gale
