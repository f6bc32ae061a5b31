#pragma once
// Gaussian grid latitudes (roots of the Legendre polynomial P_2N) and quadrature weights.
#include <vector>


namespace gale {

struct GaussianLatitudes {
  std::vector<double> latitudes_deg;  // 2N values, north -> south
  std::vector<double> weights;        // Gauss-Legendre weights, summing to 2
};

// Newton iteration on P_2N(sin lat) to machine precision; N >= 1.
GaussianLatitudes gaussian_latitudes(int n);


}  // namespace gale
