// Ensemble product writing against nccopy: a synthetic 1 deg global ensemble (360x181,
// M members x L leads of 6 h, t850 and z500: smooth large-scale structure, member
// perturbations growing with lead, small-scale noise) is written once with
// write_state_netcdf (deflate 1 + shuffle): the members file, the baseline's input.
//
//   gale    write_ensemble_netcdf per variable: members + mean + std + p10/p50/p90 + two
//           threshold probabilities, deflate 1 + shuffle, one field per chunk (statistics
//           computed from the in-memory EnsembleVariable, inside the timing; the file is
//           fsynced and its .sha256 written, as Gale always does)
//   nccopy  `nccopy -d1 -s members.nc copy.nc`: the same member data re-compressed
//           (deflate 1 + shuffle, input chunking kept: one field per chunk)
//
// Best of R runs each, interleaved. MB = 10^6 bytes of uncompressed float32 payload. Prints both rates,
// the ratio gale (member payload) / nccopy, the file sizes, and checks the members Gale
// wrote (read back with netCDF-C) equal the input values bit for bit.
// Usage: bench_products DIR [members=20] [leads=20] [repeats=3]
#include <fmt/format.h>
#include <netcdf.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/grid.hpp"
#include "core/state.hpp"
#include "core/time.hpp"
#include "core/variable.hpp"
#include "export/netcdf_writer.hpp"
#include "products/ensemble_products.hpp"

using namespace gale;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {
double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void nc_ok(int rc, const std::string& what) {
  if (rc != NC_NOERR) throw std::runtime_error(what + ": " + nc_strerror(rc));
}

// Member (t, m) of variable `name` in a file laid out (realization, time, [level,] y, x),
// as write_state_netcdf writes it.
std::vector<float> read_field(const std::string& path, const std::string& name, std::size_t t, std::size_t m,
                              std::size_t points) {
  int nc = 0, var = 0, ndims = 0;
  nc_ok(nc_open(path.c_str(), NC_NOWRITE, &nc), "open " + path);
  nc_ok(nc_inq_varid(nc, name.c_str(), &var), name + " in " + path);
  nc_ok(nc_inq_varndims(nc, var, &ndims), "ndims");
  const auto n = static_cast<std::size_t>(ndims);
  std::vector<std::size_t> start(n, 0), count(n, 1);
  start[0] = m;
  start[1] = t;
  std::vector<int> dims(n, 0);
  nc_ok(nc_inq_vardimid(nc, var, dims.data()), "dims");
  nc_ok(nc_inq_dimlen(nc, dims[n - 2], &count[n - 2]), "y");
  nc_ok(nc_inq_dimlen(nc, dims[n - 1], &count[n - 1]), "x");
  std::vector<float> v(points);
  if (count[n - 2] * count[n - 1] != points)
    throw std::runtime_error("unexpected shape of " + name + " in " + path);
  nc_ok(nc_get_vara_float(nc, var, start.data(), count.data(), v.data()), "read " + name);
  nc_close(nc);
  return v;
}

// The whole variable `name` of a file.
std::vector<float> read_all(const std::string& path, const std::string& name, std::size_t size) {
  int nc = 0, var = 0;
  nc_ok(nc_open(path.c_str(), NC_NOWRITE, &nc), "open " + path);
  nc_ok(nc_inq_varid(nc, name.c_str(), &var), name + " in " + path);
  std::vector<float> v(size);
  nc_ok(nc_get_var_float(nc, var, v.data()), "read " + name);
  nc_close(nc);
  return v;
}

bool same_bits(const float* a, const float* b, std::size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// Smooth synthetic weather: climatology + travelling planetary waves + member
// perturbations (random low-wavenumber waves whose amplitude grows with lead) + a little
// small-scale noise. Separable waves: row factor x column factor.
void fill(State& s, const Grid& grid, std::mt19937& rng) {
  const std::size_t nlat = grid.rows(), nlon = grid.longitudes().size(), P = grid.size();
  const auto& lats = grid.row_latitudes();
  const auto& lons = grid.longitudes();
  std::uniform_real_distribution<double> phase(0, 2 * M_PI), unit(-1, 1);
  std::uniform_int_distribution<int> wavenumber(1, 8);
  std::normal_distribution<float> small(0, 1);
  std::vector<double> row(nlat), col(nlon);
  std::vector<float> base(P), pert(P);
  for (std::size_t v = 0; v < s.variable_count(); ++v) {
    const bool z = s.variables()[v].name == "z";
    // t850 [K]: 290 at the equator, ~250 at the poles, waves of 6 K, noise 0.15 K.
    // z500 [m2 s-2]: 57800 .. 49500 (5890 .. 5050 gpm), waves of 1500, noise 20.
    const double mean = z ? 49500 : 250, equator = z ? 8300 : 40, wave = z ? 1500 : 6;
    const float noise = z ? 20.f : 0.15f;
    for (std::size_t t = 0; t < s.times(); ++t) {
      const double hours = 6.0 * double(t + 1);
      // Unperturbed forecast: zonal mean + waves 3..6 drifting eastwards.
      for (std::size_t p = 0; p < P; ++p) {
        const double c = std::cos(grid.lat()[p] * M_PI / 180);
        base[p] = float(mean + equator * c * c);
      }
      for (int k = 3; k <= 6; ++k) {
        for (std::size_t j = 0; j < nlat; ++j) row[j] = wave / k * std::pow(std::cos(lats[j] * M_PI / 180), 2) * std::sin(2 * lats[j] * M_PI / 180 + k);
        for (std::size_t i = 0; i < nlon; ++i) col[i] = std::cos(k * (lons[i] - 2.0 * hours / k) * M_PI / 180 + k);
        for (std::size_t j = 0; j < nlat; ++j)
          for (std::size_t i = 0; i < nlon; ++i) base[j * nlon + i] += float(row[j] * col[i]);
      }
      const double spread = wave * (0.05 + 0.4 * hours / 120);  // grows with lead
      for (std::size_t m = 0; m < s.members(); ++m) {
        std::fill(pert.begin(), pert.end(), 0.f);
        for (int w = 0; w < 6; ++w) {
          const int k = wavenumber(rng), l = wavenumber(rng);
          const double a = spread * unit(rng) / 2, pl = phase(rng), pk = phase(rng);
          for (std::size_t j = 0; j < nlat; ++j) row[j] = a * std::cos(lats[j] * M_PI / 180) * std::sin(l * lats[j] * M_PI / 180 + pl);
          for (std::size_t i = 0; i < nlon; ++i) col[i] = std::cos(k * lons[i] * M_PI / 180 + pk);
          for (std::size_t j = 0; j < nlat; ++j)
            for (std::size_t i = 0; i < nlon; ++i) pert[j * nlon + i] += float(row[j] * col[i]);
        }
        float* f = s.field(m, t, v);
        for (std::size_t p = 0; p < P; ++p) f[p] = base[p] + pert[p] + noise * small(rng);
      }
    }
  }
}
}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_products DIR [members=20] [leads=20] [repeats=3]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::size_t members = argc > 2 ? std::size_t(std::atoi(argv[2])) : 20;
  const std::size_t leads = argc > 3 ? std::size_t(std::atoi(argv[3])) : 20;
  const int repeats = argc > 4 ? std::atoi(argv[4]) : 3;

  std::vector<double> lats, lons;
  for (int j = 0; j <= 180; ++j) lats.push_back(90 - j);
  for (int i = 0; i < 360; ++i) lons.push_back(i);
  const auto grid = Grid::regular(GridKind::regular_ll, lats, lons);
  const std::size_t P = grid->size();
  const TimePoint t0 = parse_iso8601("2024-01-01T00");
  std::vector<TimePoint> valid;
  for (std::size_t t = 0; t < leads; ++t) valid.push_back(t0 + std::chrono::hours(6 * (t + 1)));
  const std::vector<std::string> keys{"t850", "z500"};
  std::vector<Variable> variables;
  for (const auto& k : keys) variables.push_back(parse_variable_key(k));

  auto phase = Clock::now();
  State state(members, valid, variables, grid, t0);
  std::mt19937 rng(11);
  fill(state, *grid, rng);
  const double make_s = seconds(phase);

  // The members file: the baseline's input.
  const std::string members_nc = dir + "/members.nc";
  phase = Clock::now();
  NetcdfWriteOptions o;
  o.deflate_level = 1;
  o.history = {"2024-01-01T00:00:00Z bench_products"};
  write_state_netcdf(state, members_nc, o);
  const double input_s = seconds(phase);

  std::vector<EnsembleVariable> ensemble;
  for (std::size_t v = 0; v < variables.size(); ++v) ensemble.push_back(ensemble_variable(state, v));
  EnsembleProductSpec spec;
  spec.percentiles = {10, 50, 90};
  spec.thresholds["t850"] = {273.15, 283.15};
  spec.thresholds["z500"] = {5500 * 9.80665, 5700 * 9.80665};
  spec.members = true;
  spec.deflate_level = 1;
  spec.globals.history = {"2024-01-01T00:00:00Z bench_products"};

  // Statistics alone (informational: what of Gale's time is not I/O or compression).
  phase = Clock::now();
  for (const auto& e : ensemble)
    for (std::size_t t = 0; t < leads; ++t) (void)ensemble_fields(e, t, spec);
  const double stats_s = seconds(phase);

  // Gale and the baseline, best of R each, runs interleaved (gale, nccopy, gale, ...) so
  // that a background load shifting during the run falls on both alike.
  const std::string gale_dir = dir + "/gale", copy_nc = dir + "/nccopy.nc";
  fs::create_directories(gale_dir);
  double gale_s = 1e300, nccopy_s = 1e300;
  std::vector<double> gale_runs, nccopy_runs;
  std::vector<std::string> gale_files;
  for (int r = 0; r < repeats; ++r) {
    for (const auto& e : fs::directory_iterator(gale_dir)) fs::remove(e.path());
    gale_files.clear();
    phase = Clock::now();
    for (const auto& e : ensemble) gale_files.push_back(write_ensemble_netcdf(e, ensemble_statistics(e, spec), gale_dir, spec));
    gale_runs.push_back(seconds(phase));
    gale_s = std::min(gale_s, gale_runs.back());

    fs::remove(copy_nc);
    phase = Clock::now();
    if (std::system(fmt::format("nccopy -d1 -s '{}' '{}'", members_nc, copy_nc).c_str()) != 0)
      throw std::runtime_error("nccopy failed");
    nccopy_runs.push_back(seconds(phase));
    nccopy_s = std::min(nccopy_s, nccopy_runs.back());
  }

  // Honesty checks: every member field Gale wrote (read back whole) equals the input bit for
  // bit; one field of the members file and of nccopy's copy too (both hold the same data).
  std::size_t checked = 0, bad = 0;
  for (std::size_t v = 0; v < ensemble.size(); ++v) {
    const auto& name = ensemble[v].description.name;
    const auto x = read_all(gale_files[v], name, leads * members * P);  // (time, realization, y, x)
    for (std::size_t t = 0; t < leads; ++t)
      for (std::size_t m = 0; m < members; ++m) {
        bad += !same_bits(x.data() + (t * members + m) * P, state.field(m, t, v), P);
        ++checked;
      }
    const std::size_t t = leads - 1, m = members / 2;
    bad += !same_bits(read_field(members_nc, name, t, m, P).data(), state.field(m, t, v), P);
    bad += !same_bits(read_field(copy_nc, name, t, m, P).data(), state.field(m, t, v), P);
    checked += 2;
  }

  const std::size_t nstat = 2 + spec.percentiles.size() + 2;  // mean, std, percentiles, 2 thresholds
  const double mb = 1e6;
  const double member_mb = double(variables.size() * leads * members * P) * 4 / mb;
  const double stats_mb = double(variables.size() * leads * nstat * P) * 4 / mb;
  const double gale_mb = member_mb + stats_mb;
  std::uintmax_t gale_bytes = 0;
  for (const auto& f : gale_files) gale_bytes += fs::file_size(f);
  const double input_bytes = double(fs::file_size(members_nc)), copy_bytes = double(fs::file_size(copy_nc));
  auto runs = [](const std::vector<double>& r) {
    std::string s;
    for (double x : r) s += fmt::format("{}{:.2f}", s.empty() ? "" : " ", x);
    return s;
  };

  fmt::print("ensemble: {} members x {} leads x {} variables (t850, z500) on {} ({} points)\n", members, leads,
             variables.size(), grid->describe(), P);
  fmt::print("  synthetic data {:.1f} s; members file (write_state_netcdf, deflate 1 + shuffle) {:.2f} s, {:.1f} MB\n",
             make_s, input_s, input_bytes / mb);
  fmt::print("  payload (uncompressed float32): members {:.1f} MB, statistics {:.1f} MB ({} fields per lead: mean, std, "
             "p10 p50 p90, 2 probabilities)\n", member_mb, stats_mb, nstat);
  fmt::print("  statistics alone (ensemble_fields, in memory): {:.2f} s\n\n", stats_s);
  fmt::print("  {:<44} {:>8} {:>12} {:>14} {:>10}\n", "best of " + std::to_string(repeats), "s", "MB/s all", "MB/s members",
             "file MB");
  fmt::print("  {:<44} {:>8.2f} {:>12.1f} {:>14.1f} {:>10.1f}\n", "gale   write_ensemble_netcdf (2 files)", gale_s,
             gale_mb / gale_s, member_mb / gale_s, double(gale_bytes) / mb);
  fmt::print("  {:<44} {:>8.2f} {:>12} {:>14.1f} {:>10.1f}\n", "nccopy -d1 -s members.nc (baseline)", nccopy_s, "-",
             member_mb / nccopy_s, copy_bytes / mb);
  fmt::print("  runs: gale [{}] s, nccopy [{}] s\n", runs(gale_runs), runs(nccopy_runs));
  fmt::print("\n  ratio gale / nccopy, MB/s of member payload: {:.2f}x (> 1: Gale faster, while also computing and "
             "writing {:.0f}% more payload)\n", (member_mb / gale_s) / (member_mb / nccopy_s), 100 * stats_mb / member_mb);
  fmt::print("  compression: members file {:.2f}x, nccopy copy {:.2f}x, gale files {:.2f}x (uncompressed / file size)\n",
             member_mb * mb / input_bytes, member_mb * mb / copy_bytes, gale_mb * mb / double(gale_bytes));
  fmt::print("  check: {} of {} member fields read back with netCDF-C equal the input bit for bit ({})\n",
             checked - bad, checked, bad == 0 ? "OK" : "DIFFERS");
  return bad == 0 ? 0 : 1;
} catch (const std::exception& e) {
  fmt::print(stderr, "bench_products: {}\n", e.what());
  return 1;
}
