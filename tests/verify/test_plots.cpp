#include <cairo.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/errors.hpp"
#include "tests/png_checks.hpp"
#include "tests/scratch_dir.hpp"
#include "verify/plots.hpp"

namespace {
namespace fs = std::filesystem;

using gale::test::Png;

bool greenish(const std::array<int, 3>& c) { return c[1] > c[0] + 40 && c[1] > c[2] + 40; }
bool reddish(const std::array<int, 3>& c) { return c[0] > c[1] + 40 && c[0] > c[2] + 40; }

std::vector<gale::ScoreRow> synthetic_rows(double rmse_scale) {
  std::vector<gale::ScoreRow> rows;
  for (const std::string variable : {"z500", "t850"})
    for (const std::string region : {"global", "tropics"})
      for (double lead : {12.0, 24.0, 48.0, 72.0, 120.0}) {
        const double base = (variable == "z500" ? 100.0 : 0.8) * (1 + lead / 48.0);
        rows.push_back({variable, lead, region, "rmse", base * rmse_scale});
        rows.push_back({variable, lead, region, "rmse_persistence", base * 1.6});
        rows.push_back({variable, lead, region, "rmse_climatology", base * 2.5});
        rows.push_back({variable, lead, region, "spread", base * 0.8});
        rows.push_back({variable, lead, region, "acc", 0.99 - lead / 400.0});
        rows.push_back({variable, lead, region, "crps", base * 0.5 * rmse_scale});
        rows.push_back({variable, lead, region, "spread_skill", 0.85});
        rows.push_back({variable, lead, region, "bias", 0.1});
      }
  return rows;
}
}  // namespace

TEST_CASE("verification plots are PNGs with content; scorecard colours follow the reference") {
  const auto dir = gale::test::scratch_dir("plots");
  const auto rows = synthetic_rows(1.0);

  SECTION("score against lead time") {
    gale::plot_score_vs_lead(rows, "z500", "global", (dir / "score.png").string());
    REQUIRE(fs::exists(dir / "score.png.sha256"));
    const Png png(dir / "score.png");
    CHECK(png.width == gale::kScorePlotWidth);
    CHECK(png.height == gale::kScorePlotHeight);
    CHECK(png.non_white() > 10000);
    // The rmse line is blue: many strongly blue pixels.
    CHECK(png.fraction(0, 0, png.width, png.height,
                       [](auto c) { return c[2] > c[0] + 80 && c[2] > c[1] + 40; }) > 0.002);
    // No temporary file left behind.
    for (const auto& e : fs::directory_iterator(dir))
      CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
  }

  SECTION("rank histogram") {
    std::vector<double> freq{0.2, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.25};
    gale::plot_rank_histogram(freq, "rank histogram z500 +24 h", (dir / "rank.png").string());
    const Png png(dir / "rank.png");
    CHECK(png.width == gale::kRankPlotWidth);
    CHECK(png.height == gale::kRankPlotHeight);
    CHECK(png.non_white() > 20000);
    CHECK(png.fraction(0, 0, png.width, png.height, reddish) > 0.001);  // the flat line
  }

  SECTION("scorecard against a reference run") {
    const auto reference = synthetic_rows(1.3);  // rmse and crps 30 % worse than `rows`
    gale::plot_scorecard(rows, &reference, (dir / "scorecard.png").string());
    const Png png(dir / "scorecard.png");
    // Rows: z500 and t850 x (rmse, acc, crps, spread_skill); columns: five leads.
    const auto g = gale::scorecard_geometry(8, 5);
    CHECK(png.width == g.width);
    CHECK(png.height == g.height);
    CHECK(png.non_white() > 20000);
    // Row 0 = z500 rmse, better than the reference: the cell is green (the centre row of
    // the cell, ignoring the dark text pixels).
    for (int c = 0; c < 5; ++c) {
      const int x0 = g.left + c * g.cell_width, y0 = g.top;
      const int cx = x0 + g.cell_width / 2, cy = y0 + g.cell_height / 2;
      CHECK(greenish(png.rgb(x0 + 4, cy)));  // the centre row, left of the centred text
      CHECK(greenish(png.rgb(cx, y0 + 3)));  // the centre column, above the text
      CHECK(png.fraction(x0 + 3, y0 + 3, x0 + g.cell_width - 3, y0 + g.cell_height - 3, greenish) > 0.6);
    }
    // Row 1 = z500 acc, equal to the reference: neither green nor red.
    CHECK(png.fraction(g.left + 3, g.top + g.cell_height + 3, g.left + g.cell_width - 3,
                       g.top + 2 * g.cell_height - 3, [](auto px) { return greenish(px) || reddish(px); }) < 0.05);

    // The reference better instead: red.
    gale::plot_scorecard(reference, &rows, (dir / "scorecard_worse.png").string());
    const Png worse(dir / "scorecard_worse.png");
    CHECK(worse.fraction(g.left + 3, g.top + 3, g.left + g.cell_width - 3, g.top + g.cell_height - 3, reddish) >
          0.6);
  }

  SECTION("scorecard without a reference: rmse against persistence, the rest neutral") {
    gale::plot_scorecard(rows, nullptr, (dir / "scorecard.png").string());
    const Png png(dir / "scorecard.png");
    const auto g = gale::scorecard_geometry(8, 5);
    CHECK(png.width == g.width);
    CHECK(png.fraction(g.left + 3, g.top + 3, g.left + g.cell_width - 3, g.top + g.cell_height - 3, greenish) > 0.6);
    CHECK(png.fraction(g.left + 3, g.top + g.cell_height + 3, g.left + g.cell_width - 3,
                       g.top + 2 * g.cell_height - 3, [](auto px) { return greenish(px) || reddish(px); }) < 0.05);
  }

  SECTION("scores CSV round trip and malformed CSV") {
    const auto csv = (dir / "scores.csv").string();
    gale::write_scores_csv(rows, csv);
    const auto back = gale::read_scores_csv(csv);
    REQUIRE(back.size() == rows.size());
    CHECK(back[3].variable == rows[3].variable);
    CHECK(back[3].score == rows[3].score);
    CHECK(back[3].lead_hours == rows[3].lead_hours);
    CHECK(back[3].value == Approx(rows[3].value).epsilon(1e-8));
    std::ofstream(dir / "bad.csv") << "variable,lead_hours,region,score,value\nz500,12,global,rmse,1\nz500,x,global,rmse,2\n";
    CHECK_THROWS_AS(gale::read_scores_csv((dir / "bad.csv").string()), gale::InputError);
    CHECK_THROWS_WITH(gale::read_scores_csv((dir / "bad.csv").string()),
                      Catch::Contains("bad.csv:3") && Catch::Contains("lead_hours"));
    std::ofstream(dir / "short.csv") << "variable,lead_hours,region,score,value\nz500,12,global\n";
    CHECK_THROWS_AS(gale::read_scores_csv((dir / "short.csv").string()), gale::InputError);
    CHECK_THROWS_WITH(gale::read_scores_csv((dir / "short.csv").string()), Catch::Contains("short.csv:2"));
    CHECK_THROWS_AS(gale::read_scores_csv((dir / "missing.csv").string()), gale::InputError);
  }

  SECTION("an unwritable path is an InputError naming it") {
    CHECK_THROWS_AS(gale::plot_rank_histogram({0.5, 0.5}, "t", (dir / "no" / "such" / "x.png").string()),
                    gale::InputError);
  }
  fs::remove_all(dir);
}
