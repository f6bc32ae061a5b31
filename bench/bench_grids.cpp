// Grids benchmark (issue 3): building the icosahedral multi-mesh and both grid<->mesh
// graphs at GraphCast's configuration (M6, 0.25 deg), and applying a cached lat-lon ->
// mesh regridder, against named baselines in the same run:
//   - graph building vs a brute-force O(grid x mesh) radius search, timed on a random
//     sample of grid points and scaled to the whole grid;
//   - regridding vs CDO (`cdo remapbil` and `cdo remap` with weights from `cdo genbil`)
//     to the same unstructured target (the mesh nodes), values compared.
// Usage: bench_grids [--skip-cdo]
#include <eccodes.h>
#include <fmt/format.h>
#include <netcdf.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "grids/grid_mesh_graph.hpp"
#include "grids/regrid.hpp"

using namespace gale;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}
std::shared_ptr<const Grid> latlon(double step) {
  std::vector<double> lats, lons;
  const int rows = int(std::lround(180 / step)) + 1, cols = int(std::lround(360 / step));
  for (int j = 0; j < rows; ++j) lats.push_back(90 - step * j);
  for (int i = 0; i < cols; ++i) lons.push_back(step * i);
  return Grid::regular(GridKind::regular_ll, lats, lons);
}

struct GraphTiming {
  double mesh_s, encoder_s, decoder_s, total_s;
  std::size_t encoder_edges, decoder_edges;
};

GraphTiming build_graphs(int level, const Grid& grid) {
  const auto t0 = Clock::now();
  const auto mesh = build_multimesh(level);
  const double mesh_s = seconds_since(t0);
  const auto t1 = Clock::now();
  const auto xyz = grid_points_xyz(grid);
  const auto g2m = grid_to_mesh_graph(xyz, mesh);
  const double enc_s = seconds_since(t1);
  const auto t2 = Clock::now();
  const auto m2g = mesh_to_grid_graph(locate_in_mesh(mesh, xyz));
  const double dec_s = seconds_since(t2);
  return {mesh_s, enc_s, dec_s, seconds_since(t0), g2m.size(), m2g.size()};
}

// Brute force: every sampled grid point against every mesh node.
double brute_force_seconds(int level, const Grid& grid, std::size_t samples) {
  const auto mesh = build_multimesh(level);
  const double r2 = std::pow(0.6 * mesh.max_finest_edge_length, 2);
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, grid.size() - 1);
  std::size_t found = 0;
  const auto t0 = Clock::now();
  for (std::size_t s = 0; s < samples; ++s) {
    const std::size_t p = pick(rng);
    const Vec3 q = lat_lon_to_xyz(grid.lat()[p], grid.lon()[p]);
    for (const auto& v : mesh.finest.vertices) {
      const Vec3 d = q - v;
      found += dot(d, d) <= r2;
    }
  }
  const double t = seconds_since(t0);
  if (found == 0) std::abort();
  return t / double(samples) * double(grid.size());
}

void write_grib(const std::string& path, const Grid& grid, const std::vector<float>& values) {
  codes_handle* h = codes_grib_handle_new_from_samples(nullptr, "regular_ll_sfc_grib2");
  const auto nlon = grid.longitudes().size(), nlat = grid.rows();
  codes_set_long(h, "paramId", 167);
  codes_set_long(h, "Ni", long(nlon));
  codes_set_long(h, "Nj", long(nlat));
  codes_set_double(h, "latitudeOfFirstGridPointInDegrees", grid.row_latitudes().front());
  codes_set_double(h, "latitudeOfLastGridPointInDegrees", grid.row_latitudes().back());
  codes_set_double(h, "longitudeOfFirstGridPointInDegrees", 0);
  codes_set_double(h, "longitudeOfLastGridPointInDegrees", grid.longitudes().back());
  codes_set_double(h, "iDirectionIncrementInDegrees", 360.0 / double(nlon));
  codes_set_double(h, "jDirectionIncrementInDegrees", 180.0 / double(nlat - 1));
  codes_set_string(h, "packingType", "grid_ieee", nullptr);
  std::vector<double> v(values.begin(), values.end());
  codes_set_double_array(h, "values", v.data(), v.size());
  codes_write_message(h, path.c_str(), "w");
  codes_handle_delete(h);
}

void write_cdo_unstructured_grid(const std::string& path, const Grid& mesh) {
  std::ofstream out(path);
  out << "gridtype = unstructured\ngridsize = " << mesh.size() << "\nxvals =";
  for (double x : mesh.lon()) out << fmt::format(" {:.12f}", x);
  out << "\nyvals =";
  for (double y : mesh.lat()) out << fmt::format(" {:.12f}", y);
  out << "\n";
}

std::vector<float> read_cdo_output(const std::string& path) {
  int nc = 0, var = 0, nvars = 0;
  if (nc_open(path.c_str(), NC_NOWRITE, &nc) != NC_NOERR) throw std::runtime_error("cannot open " + path);
  nc_inq_nvars(nc, &nvars);
  for (int v = 0; v < nvars; ++v) {
    int ndims = 0;
    nc_inq_varndims(nc, v, &ndims);
    char name[NC_MAX_NAME + 1];
    nc_inq_varname(nc, v, name);
    if (std::string(name) == "2t" || std::string(name) == "t2m" || std::string(name) == "var167") var = v;
  }
  int ndims = 0, dims[NC_MAX_VAR_DIMS];
  nc_inq_varndims(nc, var, &ndims);
  nc_inq_vardimid(nc, var, dims);
  std::size_t n = 1;
  for (int d = 0; d < ndims; ++d) {
    std::size_t len = 0;
    nc_inq_dimlen(nc, dims[d], &len);
    n *= len;
  }
  std::vector<float> out(n);
  nc_get_var_float(nc, var, out.data());
  nc_close(nc);
  return out;
}

double run_seconds(const std::string& cmd) {
  const auto t0 = Clock::now();
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
  return seconds_since(t0);
}
}  // namespace

int main(int argc, char** argv) {
  const bool skip_cdo = argc > 1 && std::string(argv[1]) == "--skip-cdo";
  fmt::print("== building the multi-mesh and both graphs\n");
  fmt::print("{:<14} {:>10} {:>9} {:>10} {:>10} {:>10} {:>12} {:>11} {:>14} {:>8}\n", "config",
             "grid pts", "mesh s", "encoder s", "decoder s", "total s", "enc edges", "dec edges",
             "brute force s", "ratio");
  for (const auto& [level, step] : {std::pair{4, 1.5}, std::pair{6, 0.25}}) {
    const auto grid = latlon(step);
    const auto t = build_graphs(level, *grid);
    const double brute = brute_force_seconds(level, *grid, level == 6 ? 2000 : 5000);
    fmt::print("{:<14} {:>10} {:>9.3f} {:>10.3f} {:>10.3f} {:>10.3f} {:>12} {:>11} {:>14.1f} {:>7.0f}x\n",
               fmt::format("M{}/{}deg", level, step), grid->size(), t.mesh_s, t.encoder_s, t.decoder_s,
               t.total_s, t.encoder_edges, t.decoder_edges, brute, brute / t.total_s);
  }
  fmt::print("peak memory (max RSS): {:.0f} MiB\n\n", peak_rss_mib());

  fmt::print("== applying a cached 0.25 deg -> M6 bilinear regridder, per field\n");
  const auto grid = latlon(0.25);
  const auto mesh = build_multimesh(6).grid();
  std::vector<float> field(grid->size());
  for (std::size_t p = 0; p < grid->size(); ++p) {
    const double lat = grid->lat()[p] * kDegToRad, lon = grid->lon()[p] * kDegToRad;
    field[p] = float(280 + 25 * std::cos(lat) * std::cos(lat) + 8 * std::sin(3 * lon) * std::cos(lat) +
                     3 * std::sin(7 * lat) * std::cos(5 * lon));
  }
  const auto dir = std::filesystem::temp_directory_path() / "gale-bench-grids";
  std::filesystem::create_directories(dir);
  RegridCache cache((dir / "cache").string());
  auto build = [&] { return bilinear_weights(*grid, mesh->lat(), mesh->lon()); };
  auto t0 = Clock::now();
  cache.get("bilinear", *grid, *mesh, "", build);
  const double first = seconds_since(t0);
  t0 = Clock::now();
  const auto weights = cache.get("bilinear", *grid, *mesh, "", build);
  const double cached_load = seconds_since(t0);
  std::vector<float> ours;
  const int repeats = 50;
  t0 = Clock::now();
  for (int r = 0; r < repeats; ++r) weights.apply(field, ours);
  const double apply = seconds_since(t0) / repeats;
  fmt::print("gale: build+save weights {:.3f} s, load cached {:.4f} s, apply {:.5f} s per field\n", first,
             cached_load, apply);
  if (skip_cdo) return 0;

  const std::string in = (dir / "field.grib2").string(), target = (dir / "mesh_grid.txt").string();
  const std::string wfile = (dir / "bil_weights.nc").string(), out = (dir / "out.nc").string();
  write_grib(in, *grid, field);
  write_cdo_unstructured_grid(target, *mesh);
  const double remapbil = run_seconds(fmt::format("cdo -s -f nc4 remapbil,{} {} {}", target, in, out));
  const auto cdo_values = read_cdo_output(out);
  const double genbil = run_seconds(fmt::format("cdo -s genbil,{} {} {}", target, in, wfile));
  const double remap = run_seconds(fmt::format("cdo -s -f nc4 remap,{},{} {} {}", target, wfile, in, out));
  double max_rel = 0;
  for (std::size_t p = 0; p < ours.size(); ++p)
    max_rel = std::max(max_rel, std::abs(double(ours[p]) - cdo_values.at(p)) / std::abs(double(cdo_values[p])));
  fmt::print("sample gale/cdo: {} {} | {} {} | sizes {} {}\n", ours[0], cdo_values[0], ours[12345],
             cdo_values[12345], ours.size(), cdo_values.size());
  fmt::print("cdo remapbil (weights + apply): {:.3f} s   -> ratio {:.0f}x\n", remapbil, remapbil / apply);
  fmt::print("cdo genbil (weights only): {:.3f} s; cdo remap with those weights: {:.3f} s -> ratio {:.0f}x\n",
             genbil, remap, remap / apply);
  fmt::print("agreement with CDO's bilinear values: max relative difference {:.2e} (limit 1e-4) {}\n",
             max_rel, max_rel <= 1e-4 ? "OK" : "DIFFERS");
  std::filesystem::remove_all(dir);
  return max_rel <= 1e-4 ? 0 : 1;
}
