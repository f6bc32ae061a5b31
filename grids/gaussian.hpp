#pragma once
// Gaussian grid latitudes (roots of the Legendre polynomial P_2N) and quadrature weights,
// and cell-area latitude weights for structured grids.
#include <vector>

#include "core/grid.hpp"

namespace gale {

struct GaussianLatitudes {
  std::vector<double> latitudes_deg;  // 2N values, north -> south
  std::vector<double> weights;        // Gauss-Legendre weights, summing to 2
};

// Newton iteration on P_2N(sin lat) to machine precision; N >= 1.
GaussianLatitudes gaussian_latitudes(int n);

// WeatherBench-2 latitude weights per point: sin(phi_upper) - sin(phi_lower) of each
// row's cell (cell edges half-way between rows, clipped at the poles), normalised to mean 1
// over the points. Regular and reduced grids; for reduced rows the weight is divided
// by the points in the row relative to the mean so every row carries its area.
std::vector<double> latitude_weights(const Grid& grid);

}  // namespace gale
