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

}  // namespace gale
