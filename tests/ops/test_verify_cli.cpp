#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../data.hpp"
#include "../run_command.hpp"
#include "../scratch_dir.hpp"
#include "export/netcdf_writer.hpp"
#include "ingest/selection.hpp"
#include "verify/plots.hpp"

TEST_CASE("gale verify scores a forecast file against GRIB truth and a NetCDF climatology") {
  GALE_REQUIRE_DATA();
  namespace fs = std::filesystem;
  const auto dir = gale::test::scratch_dir("verify");
  const std::string eda = gale::test::data_file("era5-levels-members.grib");
  // A forecast file: the ten EDA members at 00 UTC persisted to +12..+36 h.
  std::vector<std::unique_ptr<gale::Reader>> readers;
  readers.push_back(gale::open_reader(eda));
  gale::Request request;
  request.variables = {gale::parse_variable_key("z500")};
  const auto analyses = gale::Selection(std::move(readers), request).load();
  std::vector<gale::TimePoint> valid(analyses.valid_times().begin() + 1, analyses.valid_times().end());
  gale::State forecast(10, valid, analyses.variables(), analyses.grid(), analyses.valid_times()[0]);
  for (std::size_t m = 0; m < 10; ++m)
    for (std::size_t t = 0; t < valid.size(); ++t)
      std::copy(analyses.field(m, 0, 0), analyses.field(m, 0, 0) + analyses.points(), forecast.field(m, t, 0));
  gale::write_state_netcdf(forecast, (dir / "forecast.nc").string());

  const auto cfg = (dir / "verify.yaml").string();
  std::ofstream(cfg) << "verify:\n  forecasts:\n    - sources: [{path: forecast.nc}]\n"
                        "  truth: {sources: [{path: " << eda << "}], member: 0}\n"
                        "  climatology: {sources: [{path: " << gale::test::data_file("eraint_uvz.nc") << "}]}\n"
                        "  variables: [z500]\n  output: out\n";
  std::string out;
  REQUIRE(gale::test::run_gale("verify -q -c " + cfg, out) == 0);
  CHECK_THAT(out, Catch::Contains("rmse_persistence") && Catch::Contains("z500"));
  std::ifstream csv(dir / "out" / "scores.csv");
  std::stringstream text;
  text << csv.rdbuf();
  CHECK_THAT(text.str(), Catch::StartsWith("variable,lead_hours,region,score,value"));
  CHECK_THAT(text.str(), Catch::Contains("z500,36,tropics,acc,"));
  CHECK(std::system(("ncdump -h " + (dir / "out" / "scores.nc").string() + " > /dev/null").c_str()) == 0);
  CHECK(fs::exists(dir / "out" / "scores.nc.sha256"));

  // PNG figures: signature, then the IHDR chunk's big-endian width and height.
  auto png_size = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::array<unsigned char, 24> head{};
    in.read(reinterpret_cast<char*>(head.data()), head.size());
    REQUIRE(in.gcount() == 24);
    const std::array<unsigned char, 8> signature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CHECK(std::equal(signature.begin(), signature.end(), head.begin()));
    CHECK(std::string(head.begin() + 12, head.begin() + 16) == "IHDR");
    auto be32 = [&](int at) {
      return int(head[at]) << 24 | int(head[at + 1]) << 16 | int(head[at + 2]) << 8 | int(head[at + 3]);
    };
    return std::pair<int, int>{be32(16), be32(20)};
  };
  for (const std::string region : {"global", "tropics", "northern_extratropics", "southern_extratropics"}) {
    const auto png = dir / "out" / ("score_z500_" + region + ".png");
    INFO(png);
    REQUIRE(fs::exists(png));
    CHECK(png_size(png) == std::pair<int, int>{gale::kScorePlotWidth, gale::kScorePlotHeight});
    CHECK(fs::exists(png.string() + ".sha256"));
  }
  for (const std::string lead : {"12", "24", "36"}) {
    const auto png = dir / "out" / ("rank_histogram_z500_" + lead + "h.png");
    INFO(png);
    REQUIRE(fs::exists(png));
    CHECK(png_size(png) == std::pair<int, int>{gale::kRankPlotWidth, gale::kRankPlotHeight});
  }
  CHECK_FALSE(fs::exists(dir / "out" / "rank_histogram_z500_48h.png"));
  // Scorecard: z500 x (rmse, acc, crps, spread_skill) by three leads.
  const auto card = gale::scorecard_geometry(4, 3);
  REQUIRE(fs::exists(dir / "out" / "scorecard.png"));
  CHECK(png_size(dir / "out" / "scorecard.png") == std::pair<int, int>{card.width, card.height});

  // A reference run's scores colour the scorecard; a malformed one is an input error
  // naming the file and line.
  fs::copy_file(dir / "out" / "scores.csv", dir / "reference.csv");
  std::ofstream(cfg, std::ios::app) << "  reference: reference.csv\n";
  out.clear();
  CHECK(gale::test::run_gale("verify -q -c " + cfg, out) == 0);
  CHECK(png_size(dir / "out" / "scorecard.png") == std::pair<int, int>{card.width, card.height});
  std::ofstream(dir / "reference.csv", std::ios::app) << "z500,12,global,rmse\n";
  out.clear();
  CHECK(gale::test::run_gale("verify -q -c " + cfg, out) == 3);
  CHECK_THAT(out, Catch::Contains("reference.csv:") && Catch::Contains("expected 5 comma-separated fields"));

  out.clear();
  std::ofstream(cfg) << "verify:\n  forecasts: [{sources: [{path: forecast.nc}]}]\n"
                        "  truth: {sources: [{path: " << eda << "}]}\n  variables: [z500]\n  regions: [arctic]\n";
  CHECK(gale::test::run_gale("verify -c " + cfg, out) == 2);
  CHECK_THAT(out, Catch::Contains("verify.regions[0]") && Catch::Contains("unknown region 'arctic'"));
  fs::remove_all(dir);
}
