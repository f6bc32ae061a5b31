// Ensemble statistics against CDO (issue 7): M member files of one 0.25 deg field; Gale
// reads them (ingest), computes mean and the 90th percentile per point, and writes a
// statistics file; CDO runs `ensmean` and `enspctl,90` (NumPy "linear" percentiles, the
// same definition) on the same files, both writing deflate-1 NetCDF-4. Prints both times, the ratio and the largest
// differences of the values.
// Usage: bench_ensemble_stats DIR [members=20]
#include <fmt/format.h>
#include <netcdf.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "ensemble/statistics.hpp"
#include "export/netcdf_writer.hpp"
#include "export/statistics_writer.hpp"
#include "ingest/field.hpp"

using namespace gale;
using Clock = std::chrono::steady_clock;

namespace {
std::vector<float> read_cdo(const std::string& path) {
  int nc = 0, var = 0;
  if (nc_open(path.c_str(), NC_NOWRITE, &nc) != NC_NOERR) throw std::runtime_error("cannot open " + path);
  if (nc_inq_varid(nc, "t", &var) != NC_NOERR) throw std::runtime_error("no t in " + path);
  std::vector<float> v(1440 * 721);
  nc_get_var_float(nc, var, v.data());
  nc_close(nc);
  return v;
}
double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string dir = argv[1];
  const int members = argc > 2 ? std::atoi(argv[2]) : 20;
  std::vector<double> lats, lons;
  for (int j = 0; j <= 720; ++j) lats.push_back(90 - 0.25 * j);
  for (int i = 0; i < 1440; ++i) lons.push_back(0.25 * i);
  const auto grid = Grid::regular(GridKind::regular_ll, lats, lons);
  const TimePoint t0 = parse_iso8601("2000-01-01");
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0, 2);
  std::vector<std::string> files;
  for (int m = 0; m < members; ++m) {
    State s(1, {t0}, {parse_variable_key("t850")}, grid, t0);
    for (std::size_t p = 0; p < grid->size(); ++p) s.field(0, 0, 0)[p] = 260 + 20 * float(std::cos(grid->lat()[p] * M_PI / 180)) + g(rng);
    files.push_back(fmt::format("{}/member_{:02d}.nc", dir, m));
    NetcdfWriteOptions o;
    o.deflate_level = 0;
    o.history = {"2000-01-01T00:00:00Z bench"};
    write_state_netcdf(s, files.back(), o);
  }
  // Gale: read, compute, write.
  auto start = Clock::now();
  const std::size_t P = grid->size();
  std::vector<float> values(std::size_t(members) * P);
  // As a Selection does: all readers open together, so the members share one Grid.
  std::vector<std::unique_ptr<Reader>> readers;
  for (const auto& f : files) readers.push_back(open_reader(f));
  for (int m = 0; m < members; ++m)
    readers[std::size_t(m)]->read(
        {0}, [&](const FieldHeader&, const float* x) { std::copy_n(x, P, values.data() + std::size_t(m) * P); });
  const double read_s = seconds(start);
  auto phase = Clock::now();
  StatisticsSpec spec;
  spec.percentiles = {90};
  std::vector<float> stats(spec.names().size() * P);
  point_statistics(values.data(), std::size_t(members), P, spec, stats.data());
  const double stats_s = seconds(phase);
  // Written as cdo writes them: the mean and the 90th percentile (two fields, deflate 1).
  phase = Clock::now();
  std::vector<float> mean_p90(stats.begin(), stats.begin() + std::ptrdiff_t(P));
  mean_p90.insert(mean_p90.end(), stats.begin() + std::ptrdiff_t(4 * P), stats.begin() + std::ptrdiff_t(5 * P));
  write_statistics_netcdf(dir + "/gale_stats.nc", *grid, t0, t0, members,
                          {{"t850_mean", "K", "mean"}, {"t850_p90", "K", "p90"}}, mean_p90);
  const double write_s = seconds(phase);
  const double gale_s = seconds(start);
  // And everything the one pass computed (mean, std, min, max, p90), as a forecast writes it.
  phase = Clock::now();
  std::vector<StatisticsField> fields;
  for (const auto& n : spec.names()) fields.push_back({"t850_" + n, "K", n});
  write_statistics_netcdf(dir + "/gale_stats_all.nc", *grid, t0, t0, members, fields, stats);
  const double write_all_s = seconds(phase);

  std::string list;
  for (const auto& f : files) list += " " + f;
  start = Clock::now();
  if (std::system(fmt::format("cdo -O -s -f nc4 -z zip_1 ensmean{} {}/cdo_mean.nc", list, dir).c_str()) != 0) return 1;
  const double cdo_mean_s = seconds(start);
  start = Clock::now();
  if (std::system(fmt::format("cdo -O -s -f nc4 -z zip_1 --percentile linear enspctl,90{} {}/cdo_p90.nc", list, dir).c_str()) != 0)
    return 1;
  const double cdo_pctl_s = seconds(start);
  const auto cdo_mean = read_cdo(dir + "/cdo_mean.nc"), cdo_p90 = read_cdo(dir + "/cdo_p90.nc");
  double dmean = 0, dp90 = 0;
  for (std::size_t p = 0; p < P; ++p) {
    dmean = std::max(dmean, std::abs(double(stats[p]) - cdo_mean[p]) / std::abs(double(cdo_mean[p])));
    dp90 = std::max(dp90, std::abs(double(stats[4 * P + p]) - cdo_p90[p]) / std::abs(double(cdo_p90[p])));
  }
  fmt::print("{} members x {} points (0.25 deg), reading the member files and writing the results:\n", members, P);
  fmt::print("  gale  mean and p90 (one pass): {:.3f} s (read {:.3f}, statistics {:.3f}, write mean+p90 {:.3f})\n",
             gale_s, read_s, stats_s, write_s);
  fmt::print("        (writing all five statistics of the pass instead, as a forecast does: {:.3f} s more)\n",
             write_all_s - write_s);
  fmt::print("  cdo   ensmean {:.3f} s + enspctl,90 {:.3f} s = {:.3f} s\n", cdo_mean_s, cdo_pctl_s, cdo_mean_s + cdo_pctl_s);
  fmt::print("  ratio cdo/gale (same two outputs): {:.2f}x; with all five written: {:.2f}x\n",
             (cdo_mean_s + cdo_pctl_s) / gale_s, (cdo_mean_s + cdo_pctl_s) / (gale_s - write_s + write_all_s));
  fmt::print("  largest relative difference: mean {:.2e}, p90 {:.2e} ({})\n", dmean, dp90,
             std::max(dmean, dp90) <= 1e-5 ? "OK at 1e-5" : "DIFFERS");
  return std::max(dmean, dp90) <= 1e-5 ? 0 : 1;
}
