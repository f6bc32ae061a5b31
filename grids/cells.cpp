#include "grids/cells.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/errors.hpp"
#include "grids/sphere.hpp"

namespace gale {

std::vector<double> latitude_edges(const Grid& grid) {
  const auto& lat = grid.row_latitudes();
  const std::size_t rows = lat.size();
  if (rows == 0) throw UserError("latitude cells need a structured (row) grid");
  std::vector<double> edges(rows + 1);
  for (std::size_t j = 1; j < rows; ++j) edges[j] = (lat[j - 1] + lat[j]) / 2;
  const double north_step = rows > 1 ? lat[0] - lat[1] : 180;
  const double south_step = rows > 1 ? lat[rows - 2] - lat[rows - 1] : 180;
  const bool global = grid.global_in_longitude();
  edges[0] = global && 90 - lat[0] < north_step ? 90 : std::min(90.0, lat[0] + north_step / 2);
  edges[rows] = global && lat[rows - 1] + 90 < south_step ? -90
                                                          : std::max(-90.0, lat[rows - 1] - south_step / 2);
  return edges;
}

std::vector<double> latitude_weights(const Grid& grid) {
  const auto edges = latitude_edges(grid);
  const auto& offsets = grid.row_offsets();
  std::vector<double> w(grid.size());
  for (std::size_t j = 0; j + 1 < edges.size(); ++j) {
    const double band = std::sin(edges[j] * kDegToRad) - std::sin(edges[j + 1] * kDegToRad);
    const double count = double(offsets[j + 1] - offsets[j]);
    std::fill(w.begin() + long(offsets[j]), w.begin() + long(offsets[j + 1]), band / count);
  }
  const double mean = std::accumulate(w.begin(), w.end(), 0.0) / double(w.size());
  for (auto& x : w) x /= mean;
  return w;
}

}  // namespace gale
