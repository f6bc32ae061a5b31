#pragma once
// PNG figures of verification scores, drawn with cairo and written atomically
// (AtomicOutput: temp file, fsync, rename, `<path>.sha256`). Every function throws
// InputError naming the path when the PNG cannot be written.
#include <cstddef>
#include <string>
#include <vector>

#include "verify/verification.hpp"

namespace gale {

// Fixed figure sizes (pixels).
inline constexpr int kScorePlotWidth = 960, kScorePlotHeight = 600;
inline constexpr int kRankPlotWidth = 720, kRankPlotHeight = 480;

// Line plot against lead time (h) of rmse, and of rmse_persistence, rmse_climatology and
// spread when present, for one variable and region: one labelled line per score, legend
// on the right, title "<variable> <region>". Rows of other variables/regions are ignored.
void plot_score_vs_lead(const std::vector<ScoreRow>& rows, const std::string& variable, const std::string& region,
                        const std::string& path);

// Bars of the relative frequencies of the truth's rank (M + 1 bins) with the flat
// 1/(M + 1) line of a reliable ensemble.
void plot_rank_histogram(const std::vector<double>& frequencies, const std::string& title, const std::string& path);

// Scorecard layout: a table whose rows are (variable, score) and columns lead times.
// Cell (row r, column c) covers x in [left + c * cell_width, left + (c + 1) * cell_width)
// and y in [top + r * cell_height, top + (r + 1) * cell_height).
struct ScorecardGeometry {
  int width, height, left, top, cell_width, cell_height;
};
ScorecardGeometry scorecard_geometry(std::size_t table_rows, std::size_t lead_times);

// Scorecard of the global region: rows variable x score (rmse, acc, crps, spread_skill,
// those present, variables in order of first appearance), columns lead times. Each cell
// shows the value, coloured by skill relative to `reference` (nullable; same variable,
// lead and score): green better, red worse, intensity by the relative difference
// (saturating at 25 %); rmse and crps lower is better, acc higher is better (relative to
// 1 - acc), spread_skill closer to 1 is better. Without a reference, rmse is coloured
// against rmse_persistence and every other cell is neutral grey; a missing reference
// value is neutral too.
void plot_scorecard(const std::vector<ScoreRow>& rows, const std::vector<ScoreRow>* reference,
                    const std::string& path);

}  // namespace gale
