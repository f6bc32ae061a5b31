#pragma once
// The nature run: a long shallow-water integration that stands in for a reanalysis
// archive. It yields ERA5-like States (one member, one valid time each) of z, u, v, t and
// wind speed at a nominal 500 hPa on the model's Gaussian grid, after a discarded spin-up,
// and perturbed-initial-state ensembles for forecasts that start from GRIB.
#include <functional>
#include <string>

#include "core/config.hpp"
#include "core/state.hpp"
#include "ingest/shallow_water.hpp"

namespace gale {

struct NatureRunSpec {
  ShallowWaterConfig model;
  TimePoint start{};         // valid time of the first output (after spin-up)
  double spinup_days = 60;   // integrated and discarded before `start`
  double length_days = 365;  // output period
  double output_hours = 6;
  std::string file_span = "month";  // month | day | run: how outputs are grouped into files
  // Perturbed initial ensemble (GRIB2): members, vorticity perturbation RMS (s^-1).
  int ensemble_members = 0;
  double ensemble_perturbation = 1e-6;
};

// Parses the `naturerun:` section (every key validated; unknown keys rejected).
NatureRunSpec parse_nature_run_config(const ConfigNode& node);

// The variables every nature-run State holds, in order.
std::vector<Variable> nature_run_variables();
// Writes the model's current z, u, v, t and wind speed into (member, time) of a State
// holding nature_run_variables().
void store_model_fields(const ShallowWaterModel& model, State& state, std::size_t member, std::size_t time);

// Runs spin-up then the output period, calling `sink` with each output State in time
// order and `progress` with the fraction done (0..1) after each model day.
void run_nature(const NatureRunSpec& spec, const std::function<void(State)>& sink,
                const std::function<void(double)>& progress = nullptr);

// An ensemble of perturbed initial states at `start - output_hours` and `start` (two input
// times, as a two-step forecaster needs): member 0 unperturbed, members 1.. with seeded
// vorticity perturbations added at `start - output_hours`.
State perturbed_initial_ensemble(const NatureRunSpec& spec);

}  // namespace gale
