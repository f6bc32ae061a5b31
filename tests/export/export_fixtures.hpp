#pragma once
// States for the writer tests: 3 members x 3 times of z500, t850, u500 and 2t with smooth,
// physically plausible values (so ingest's range checks pass) and a few NaN points, on a
// regular lat-lon or a regular Gaussian (N16) grid; and helpers to read a product back.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/lexicon.hpp"
#include "core/state.hpp"
#include "grids/gaussian.hpp"
#include "ingest/field.hpp"
#include "ingest/selection.hpp"
#include "tests/scratch_dir.hpp"

namespace gale::test {

// Every file in `dir` (to prove that a failed write left nothing behind).
inline std::vector<std::string> files_in(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

inline std::shared_ptr<const Grid> latlon_grid(double step = 5) {
  std::vector<double> lats, lons;
  for (int j = 0; j * step <= 180; ++j) lats.push_back(90 - j * step);
  for (int i = 0; i * step < 360; ++i) lons.push_back(i * step);
  return Grid::regular(GridKind::regular_ll, lats, lons);
}

inline std::shared_ptr<const Grid> gaussian_grid(int n = 16) {
  std::vector<double> lats, lons;
  for (double lat : gaussian_latitudes(n).latitudes_deg) lats.push_back(round_degrees(lat));
  for (int i = 0; i < 4 * n; ++i) lons.push_back(round_degrees(360.0 * i / (4 * n)));
  return Grid::regular(GridKind::regular_gaussian, lats, lons);
}

inline Variable var(const std::string& key) {
  auto v = parse_variable_key(key);
  v.units = Lexicon::instance().at(v.name).units;
  return v;
}

inline TimePoint reference() { return parse_iso8601("2024-01-15T06:00:00Z"); }

// keys: variable keys; values are analytic in (lat, lon, member, time) per variable.
inline State make_state(std::shared_ptr<const Grid> grid, std::size_t members = 3,
                        std::vector<std::string> keys = {"z500", "t850", "u500", "2t"},
                        std::size_t times = 3) {
  std::vector<Variable> vars;
  for (const auto& k : keys) vars.push_back(var(k));
  std::vector<TimePoint> valid;
  for (std::size_t t = 0; t < times; ++t) valid.push_back(reference() + std::chrono::hours(6 * t));
  State s(members, valid, vars, grid, reference());
  for (std::size_t m = 0; m < members; ++m)
    for (std::size_t t = 0; t < times; ++t)
      for (std::size_t v = 0; v < vars.size(); ++v) {
        float* f = s.field(m, t, v);
        for (std::size_t p = 0; p < grid->size(); ++p) {
          const double lat = grid->lat()[p] * M_PI / 180, lon = grid->lon()[p] * M_PI / 180;
          const double wave = std::cos(lat) * std::sin(2 * lon + 0.3 * double(t)) + 0.1 * double(m);
          double x = 0;
          const auto& name = vars[v].name;
          if (name == "z")  // ~ g * 7500 m * ln(1000 / p): z500 ~ 5.1e4, z850 ~ 1.2e4 m2 s-2
            x = 9.80665 * 7500 * std::log(1000 / vars[v].level) +
                (12000 - 12 * vars[v].level) * std::cos(lat) + 400 * wave;
          else if (name == "t") x = 250 + 25 * std::cos(lat) + 3 * wave - 0.01 * vars[v].level;
          else if (name == "u") x = 30 * std::sin(2 * lat) + 8 * wave;
          else if (name == "2t") x = 265 + 35 * std::cos(lat) + 4 * wave;
          else if (name == "msl") x = 101325 + 1500 * wave;
          else if (name == "orography") x = std::max(0.0, 3000 * wave);
          else x = 0.5 + 0.4 * wave;  // fractions (tcc, lsm)
          f[p] = float(x);
        }
      }
  // Missing values: a few points of 2t (member 1, last time) and t850 (member 0, first time).
  if (s.has("2t") && members > 1)
    for (std::size_t p = 3; p < grid->size(); p += 97) s.field(1, times - 1, s.index_of("2t"))[p] = NAN;
  if (s.has("t850"))
    for (std::size_t p = 0; p < 5; ++p) s.field(0, 0, s.index_of("t850"))[p] = NAN;
  s.metadata()["checkpoint_sha256"] = "0123abcd";
  return s;
}

// Reads a product back through ingest: every field of `like`'s variables.
inline State read_back(const std::string& path, const State& like) {
  std::vector<std::unique_ptr<Reader>> readers;
  readers.push_back(open_reader(path));
  Request r;
  r.variables = like.variables();
  Selection sel(std::move(readers), r);
  INFO(sel.report().text());
  REQUIRE(sel.report().ok());
  REQUIRE(sel.report().extra == 0);
  return sel.load();
}

// Same shape, grid fingerprint, times and variables; values within `tolerance(v, m, t)`.
template <typename Tolerance>
void require_same(const State& a, const State& b, Tolerance tolerance, bool expect_nan = true) {
  REQUIRE(b.members() == a.members());
  REQUIRE(b.times() == a.times());
  REQUIRE(b.variable_count() == a.variable_count());
  REQUIRE(b.grid()->fingerprint() == a.grid()->fingerprint());
  REQUIRE(b.valid_times() == a.valid_times());
  REQUIRE(b.reference_time() == a.reference_time());
  for (std::size_t v = 0; v < a.variable_count(); ++v) REQUIRE(b.variables()[v].key() == a.variables()[v].key());
  std::size_t nan = 0, mismatched = 0;
  double worst = 0;
  for (std::size_t m = 0; m < a.members(); ++m)
    for (std::size_t t = 0; t < a.times(); ++t)
      for (std::size_t v = 0; v < a.variable_count(); ++v) {
        const double tol = tolerance(v, m, t);
        const float* x = a.field(m, t, v);
        const float* y = b.field(m, t, v);
        for (std::size_t p = 0; p < a.points(); ++p) {
          if (std::isnan(x[p]) || std::isnan(y[p])) {
            nan += std::isnan(x[p]);
            mismatched += std::isnan(x[p]) != std::isnan(y[p]);
            continue;
          }
          const double d = std::abs(double(x[p]) - double(y[p]));
          worst = std::max(worst, d / (tol > 0 ? tol : 1));
          if (d > tol) ++mismatched;
        }
      }
  INFO("worst error / tolerance = " << worst);
  if (expect_nan) CHECK(nan > 0);  // the fixture's NaN points came back as NaN
  CHECK(mismatched == 0);
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace gale::test
