#pragma once
// A global spectral-transform shallow-water model on the sphere: the dynamics behind
// Gale's nature run. Vorticity / divergence / geopotential formulation, semi-implicit
// leapfrog time stepping with a Robert-Asselin filter, implicit hyperdiffusion, Gaussian
// grid with triangular truncation (grids/spectral_transform.hpp), a passive temperature-like
// tracer, an optional stochastic vorticity forcing balanced by drag toward a jet.
#include <cstdint>
#include <random>
#include <vector>

#include "core/grid.hpp"
#include "grids/spectral_transform.hpp"

namespace gale {

struct ShallowWaterConfig {
  int truncation = 42, nlat = 64, nlon = 128;  // T42 on 128 x 64
  double dt_seconds = 900;
  double radius = 6.371e6, omega = 7.292e-5;
  double mean_geopotential = 9.80665 * 5700;  // near 500 hPa geopotential height
  double robert_filter = 0.02;
  // Implicit hyperdiffusion del^(2 order): e-folding time at the truncation wavenumber.
  int hyperdiffusion_order = 4;
  double hyperdiffusion_hours = 24;  // <= 0: none
  // Drag of vorticity toward the jet (the equilibrium the forcing works against).
  double drag_days = 20;  // <= 0: none
  double jet_speed = 30, jet_latitude = 45, jet_width_deg = 10;
  // Stochastic vorticity forcing: a Gaussian random field in spectral space on total
  // wavenumbers [forcing_n_min, forcing_n_max], red in time (AR(1) with the given
  // decorrelation time), grid RMS amplitude forcing_rms in s^-2. The defaults were tuned
  // (bench/bench_naturerun) for a stationary flow with global mean kinetic energy near
  // 130 m2 s-2, z within the physical z500 range, and growing small perturbations.
  bool forcing = true;
  double forcing_rms = 1e-10;
  int forcing_n_min = 10, forcing_n_max = 25;
  double forcing_decorrelation_hours = 48;
  std::uint64_t seed = 20240601;
  // Tracer: relaxed toward T_eq = equator - (equator - pole) sin^2(lat) + a diurnal wave.
  bool tracer = true;
  double tracer_equator_k = 262, tracer_pole_k = 232, tracer_diurnal_k = 1.5;
  double tracer_relaxation_days = 5;
};

// The default configuration at truncation T: the smallest FFT-friendly alias-free Gaussian
// grid (nlon = 4 ceil((3T + 1) / 4), nlat = nlon / 2: 128 x 64 at T42) and the default
// forcing band clipped to T.
ShallowWaterConfig shallow_water_config(int truncation);

// Grid fields in physical units, rows north -> south (Gaussian latitudes).
struct ShallowWaterFields {
  std::vector<double> u, v, geopotential, tracer;
};

class ShallowWaterModel {
 public:
  explicit ShallowWaterModel(ShallowWaterConfig config);

  const ShallowWaterConfig& config() const { return config_; }
  const SphericalHarmonicTransform& transform() const { return sht_; }
  // The model's Gaussian grid with coordinates rounded as ingest rounds them, so that a
  // State read back from the model's own files is on the identical Grid.
  std::shared_ptr<const Grid> grid() const;
  double time_seconds() const { return time_; }
  long steps_taken() const { return steps_; }

  // Initial states. The jet: zonal jets at +-jet_latitude in gradient balance, plus a small
  // seeded vorticity perturbation (amplitude in s^-1) to break the symmetry.
  void initialise_jet(double perturbation = 1e-6);
  // Williamson et al. (1992) test case 2: steady geostrophic flow, its axis tilted by
  // alpha (radians) from the Earth's, so that it crosses the poles for alpha near pi/2.
  // As in the test case's definition, the Coriolis parameter is tilted with it.
  void initialise_williamson2(double u0, double gh0, double alpha = 0);
  // Restarts from grid fields (u, v in m/s, geopotential, tracer) at the given model time
  // (seconds; its phase in the day drives the diurnal cycle). The leapfrog starts afresh
  // with a forward step, so a restart depends only on the fields.
  void set_fields(const ShallowWaterFields& fields, double time_seconds);
  // Re-seeds the stochastic forcing (a fresh random stream and forcing field).
  void reseed(std::uint64_t seed);
  // Adds a random vorticity perturbation with the given grid RMS (s^-1) on n in [1, T].
  void perturb_vorticity(double rms, std::uint64_t seed);

  void step();
  void run(double seconds);

  // The complete prognostic state (both leapfrog levels, forcing, random stream, clock):
  // restoring a snapshot continues the run bit for bit.
  struct Snapshot;
  Snapshot snapshot() const;
  void restore(const Snapshot& snapshot);

  ShallowWaterFields fields() const;
  // Integrals over the sphere (unit radius area weights, i.e. global sums x 4 pi).
  double mass() const;                // integral of geopotential
  double energy() const;              // integral of (Phi |v|^2 + Phi^2) / 2
  double potential_enstrophy() const; // integral of (zeta + f)^2 / (2 Phi)
  double kinetic_energy_per_area() const;  // mean of |v|^2 / 2, m2 s-2

 private:
  struct Spectral {
    std::vector<Complex> vorticity, divergence, geopotential, tracer;  // geopotential: Phi - mean
  };

 public:
  struct Snapshot {
    Spectral previous, current;
    std::vector<Complex> forcing, jet_vorticity;
    std::vector<double> coriolis;
    double mean_geopotential;
    std::mt19937_64 rng;
    double time;
    long steps;
  };

 private:
  void tendencies(const Spectral& s, Spectral& t);
  void implicit_update(const Spectral& old, const Spectral& tend, double dt2, Spectral& out) const;
  void update_forcing();
  std::vector<Complex> random_field(int n_min, int n_max, double grid_rms);
  double integrate(const std::vector<double>& grid) const;

  ShallowWaterConfig config_;
  SphericalHarmonicTransform sht_;
  Spectral previous_, current_;
  std::vector<Complex> jet_vorticity_, forcing_;
  std::vector<double> coriolis_, tracer_base_;  // grid
  std::vector<double> cos_lon_, sin_lon_;       // per grid column
  std::vector<double> hyperdiffusion_rate_;     // per total wavenumber n, s^-1
  // Grid and spectral scratch for tendencies(), kept between steps: allocating them per
  // step made the allocator return and re-fault pages (a third of the run time).
  struct Workspace {
    std::vector<double> U, V, zeta, phi, div, T, A, B, minus_A, C, D, E, UT, VT, source;
    std::vector<Complex> e_spec, s_spec;
  } work_;
  std::mt19937_64 rng_;
  double time_ = 0;
  long steps_ = 0;
};

}  // namespace gale
