#pragma once
// Cells of structured grids: latitude edges and area weights (WeatherBench 2 style).
#include <vector>

#include "core/grid.hpp"

namespace gale {

// Row edges north -> south (rows + 1 values, degrees): midpoints between rows; the
// outermost edges extend to the pole when the grid is global in longitude and its
// outermost row lies within one row spacing of the pole (pole rows then get half cells,
// offset grids like WeatherBench's 5.625 deg tile the sphere exactly), otherwise half a
// spacing beyond the outermost row.
std::vector<double> latitude_edges(const Grid& grid);

// Per point: sin(phi_upper) - sin(phi_lower) of its row, divided by the points in that
// row (so reduced grids weigh each row by its area), normalised to mean 1.
std::vector<double> latitude_weights(const Grid& grid);

}  // namespace gale
