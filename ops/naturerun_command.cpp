#include "ops/naturerun_command.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/errors.hpp"
#include "core/progress.hpp"
#include "core/hash.hpp"
#include "export/grib_writer.hpp"
#include "export/netcdf_writer.hpp"
#include "ingest/nature_run.hpp"
#include "ops/version.hpp"

namespace gale {

namespace {

// "2000-01" for month files, "2000-01-15" for day files, "run" for one file.
std::string span_key(const std::string& span, TimePoint t) {
  const std::string iso = iso8601(t);
  if (span == "month") return iso.substr(0, 7);
  if (span == "day") return iso.substr(0, 10);
  return "run";
}

// Joins single-time States of one span along the time axis.
State concatenate(const std::vector<State>& parts) {
  std::vector<TimePoint> times;
  for (const auto& s : parts) times.push_back(s.valid_times().front());
  State out(1, times, parts.front().variables(), parts.front().grid(), times.front());
  const std::size_t block = parts.front().variable_count() * parts.front().points();
  for (std::size_t t = 0; t < parts.size(); ++t)
    std::copy(parts[t].data().data(), parts[t].data().data() + block, out.field(0, t, 0));
  out.metadata() = parts.front().metadata();
  return out;
}


}  // namespace

NatureRunOutputs run_naturerun_command(const Config& config, const std::string& out_dir, bool show_progress) {
  const auto root = config.root();
  root.allow_only({"naturerun"});
  const NatureRunSpec spec = parse_nature_run_config(root.at("naturerun"));
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (!std::filesystem::is_directory(out_dir))
    throw InputError(fmt::format("{}: cannot create the output directory ({})", out_dir, ec.message()));

  NetcdfWriteOptions options;
  options.title = "Gale nature run (spectral shallow-water model)";
  options.source = fmt::format("Gale {} naturerun", kVersion);
  options.comment = "Synthetic reanalysis: z, u, v, wind speed and a temperature-like tracer at a nominal 500 hPa.";
  options.attributes["gale_config_sha256"] = sha256_hex(config.dump());
  options.attributes["gale_seed"] = std::to_string(spec.model.seed);
  // A fixed history line keeps re-runs byte-identical (same config and seed, same files).
  options.history = {fmt::format("{} gale naturerun (seed {})", iso8601(spec.start), spec.model.seed)};

  NatureRunOutputs outputs;
  std::vector<State> pending;
  auto flush = [&] {
    if (pending.empty()) return;
    const std::string key = span_key(spec.file_span, pending.front().valid_times().front());
    const std::string path = (std::filesystem::path(out_dir) / fmt::format("naturerun-{}.nc", key)).string();
    write_state_netcdf(concatenate(pending), path, options);
    outputs.netcdf_files.push_back(path);
    spdlog::debug("naturerun: wrote {} ({} times)", path, pending.size());
    pending.clear();
  };
  spdlog::info("naturerun: T{} on {}x{} Gaussian, dt {} min, spin-up {} days, {} days from {} every {} h -> {}",
               spec.model.truncation, spec.model.nlon, spec.model.nlat, spec.model.dt_seconds / 60,
               spec.spinup_days, spec.length_days, iso8601(spec.start), spec.output_hours, out_dir);
  ProgressBar bar("naturerun", 1000, show_progress);  // per mille of the simulated days
  run_nature(
      spec,
      [&](State state) {
        if (!pending.empty() && span_key(spec.file_span, state.valid_times().front()) !=
                                    span_key(spec.file_span, pending.front().valid_times().front()))
          flush();
        pending.push_back(std::move(state));
      },
      [&](double f) { bar.update(long(f * 1000 + 0.5)); });
  flush();

  if (spec.ensemble_members > 0) {
    const State ensemble = perturbed_initial_ensemble(spec);
    outputs.ensemble_grib =
        (std::filesystem::path(out_dir) /
         fmt::format("initial-ensemble-{}.grib2", iso8601(spec.start).substr(0, 13))).string();
    GribWriteOptions grib;
    grib.force_ensemble = true;
    grib.bits_per_value = 24;  // perturbations of 1e-6 must survive packing
    write_state_grib2(ensemble, outputs.ensemble_grib, grib);
  }
  return outputs;
}

}  // namespace gale
