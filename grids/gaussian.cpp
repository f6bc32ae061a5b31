#include "grids/gaussian.hpp"

#include <cmath>
#include <numeric>

#include "core/errors.hpp"

namespace gale {

GaussianLatitudes gaussian_latitudes(int n) {
  if (n < 1) throw UserError("Gaussian grid: N must be at least 1");
  const int nlat = 2 * n;
  GaussianLatitudes out;
  out.latitudes_deg.resize(nlat);
  out.weights.resize(nlat);
  for (int i = 0; i < n; ++i) {
    // Tricomi's initial guess for the i-th root of P_nlat, then Newton.
    double x = std::cos(M_PI * (i + 0.75) / (nlat + 0.5));
    double dp = 1;
    for (int iter = 0; iter < 100; ++iter) {
      double p0 = 1, p1 = x;
      for (int k = 2; k <= nlat; ++k) {
        const double pk = ((2.0 * k - 1) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = pk;
      }
      dp = nlat * (x * p1 - p0) / (x * x - 1);
      const double dx = p1 / dp;
      x -= dx;
      if (std::abs(dx) < 1e-16) break;
    }
    const double w = 2 / ((1 - x * x) * dp * dp);
    const double lat = std::asin(x) * 180 / M_PI;
    out.latitudes_deg[i] = lat;
    out.latitudes_deg[nlat - 1 - i] = -lat;
    out.weights[i] = out.weights[nlat - 1 - i] = w;
  }
  return out;
}

std::vector<double> latitude_weights(const Grid& grid) {
  if (grid.rows() == 0) throw UserError("latitude weights need a structured (row) grid");
  const auto& lat = grid.row_latitudes();
  const std::size_t rows = lat.size();
  auto rad = [](double d) { return d * M_PI / 180; };
  std::vector<double> per_point(grid.size());
  const auto& offsets = grid.row_offsets();
  for (std::size_t j = 0; j < rows; ++j) {
    const double upper = j == 0 ? std::min(90.0, lat[0] + (lat[0] - (rows > 1 ? lat[1] : lat[0] - 180)) / 2)
                                : (lat[j - 1] + lat[j]) / 2;
    const double lower = j + 1 == rows ? std::max(-90.0, lat[j] - (rows > 1 ? (lat[j - 1] - lat[j]) / 2 : 90))
                                       : (lat[j] + lat[j + 1]) / 2;
    const double band = std::sin(rad(upper)) - std::sin(rad(lower));
    const double count = double(offsets[j + 1] - offsets[j]);
    for (std::size_t p = offsets[j]; p < offsets[j + 1]; ++p) per_point[p] = band / count;
  }
  const double mean = std::accumulate(per_point.begin(), per_point.end(), 0.0) / double(per_point.size());
  for (auto& w : per_point) w /= mean;
  return per_point;
}

}  // namespace gale
