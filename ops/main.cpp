// gale: the command-line entry point. Every subcommand validates its whole config before
// work starts; user errors exit non-zero with one clear message, never a stack trace.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "core/errors.hpp"
#include "core/log.hpp"
#include "ingest/inspect.hpp"
#include "ops/ingest_config.hpp"
#include "ops/naturerun_command.hpp"
#include "ops/verify_command.hpp"
#include "ops/products_command.hpp"
#include "ops/climate_command.hpp"
#include "ops/forecast_command.hpp"
#ifdef GALE_ML
#include "ops/model_factory.hpp"
#include "ops/train_command.hpp"
#endif

#include <mpi.h>
#include "ops/state_summary.hpp"

#include <unistd.h>

#include <array>
#include <filesystem>
#include "ops/version.hpp"

namespace {

using namespace gale;

Config load_config(const std::string& file, const std::vector<std::string>& overrides) {
  Config config = Config::from_file(file);
  for (const auto& o : overrides) config.set(o);
  return config;
}

// Runs the executable `name` beside this one with this process's arguments (less `drop`).
// Two commands live in their own executables: `gale schedule` (gale-schedule, which must
// not load LibTorch) and everything with a learned model (gale-ml, the LibTorch build:
// loading LibTorch costs ~0.5 s and ~450 MB resident, which the other commands should not pay).
[[noreturn]] void exec_sibling(const std::string& name, int argc, char** argv, const std::string& drop = "") {
  std::array<char, 4096> self{};
  const auto n = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
  const auto dir = n > 0 ? std::filesystem::path(std::string(self.data(), std::size_t(n))).parent_path()
                         : std::filesystem::path(".");
  const auto program = (dir / name).string();
  std::vector<char*> args{const_cast<char*>(program.c_str())};
  for (int i = 1; i < argc; ++i)
    if (drop.empty() || std::string(argv[i]) != drop) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(program.c_str(), args.data());
  throw InputError(program + ": cannot run it (" + (name == "gale-ml" ? "learned models need the LibTorch build, "
                                                                         "GALE_WITH_TORCH=ON" : "is it installed beside gale?") + ")");
}

int run_inspect(const std::vector<std::string>& files) {
  int status = 0;
  for (const auto& file : files) {
    // Each file on its own: one bad file does not hide what the others hold.
    try {
      const auto reader = open_reader(file);
      std::cout << format_inspect_table(file, inspect(*reader)) << std::flush;
    } catch (const Error& e) {
      std::cerr << "gale inspect: " << e.what() << "\n";
      status = std::max(status, e.exit_code());
    }
  }
  return status;
}

int run_ingest(const std::string& config_file, const std::vector<std::string>& overrides) {
  const Config config = load_config(config_file, overrides);
  const IngestPlan plan = parse_ingest_config(config);
  spdlog::info("ingest: {} source(s), {} variable(s)", plan.sources.size(),
               plan.request.variables.size());
  const Selection selection = plan_selection(plan);
  std::cout << selection.report().text() << "\n";
  const State state = selection.load();
  std::cout << summarise_state(state) << std::flush;
  return 0;
}

int run_naturerun(const std::string& config_file, const std::vector<std::string>& overrides,
                  const std::string& out_dir, bool quiet) {
  const Config config = load_config(config_file, overrides);
  const auto outputs = run_naturerun_command(config, out_dir, !quiet);
  for (const auto& f : outputs.netcdf_files) std::cout << f << "\n";
  if (!outputs.ensemble_grib.empty()) std::cout << outputs.ensemble_grib << "\n";
  return 0;
}

int run_verify(const std::string& config_file, const std::vector<std::string>& overrides) {
  const auto outputs = run_verify_command(load_config(config_file, overrides));
  std::cout << outputs.table << "scores: " << outputs.netcdf << "\nscorecard: " << outputs.csv << "\n";
  return 0;
}

int run_products(const std::string& config_file, const std::vector<std::string>& overrides) {
  const auto outputs = run_products_command(load_config(config_file, overrides));
  for (const auto& f : outputs.files) std::cout << f << "\n";
  std::cout << "manifest: " << outputs.manifest << "\n";
  return 0;
}

int run_climate(const std::string& config_file, const std::vector<std::string>& overrides) {
  std::cout << run_climate_command(load_config(config_file, overrides)) << "\n";
  return 0;
}

// MPI is initialised only for the commands that use it (a plain `gale inspect` should not
// pay for it); errors on any rank end the whole job with that rank's exit code.
int run_forecast(const std::string& config_file, const std::vector<std::string>& overrides, bool resume, [[maybe_unused]] int argc,
                 [[maybe_unused]] char** argv) {
#ifdef GALE_ML
  set_learned_stepper_factory(&make_gnn_stepper);
#else
  // Before MPI_Init: under mpirun every rank replaces itself with gale-ml.
  if (forecast_uses_learned_model(load_config(config_file, overrides))) exec_sibling("gale-ml", argc, argv);
#endif
  MPI_Init(nullptr, nullptr);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  try {
    const auto out = run_forecast_command(load_config(config_file, overrides), resume);
    if (rank == 0)
      std::cout << fmt::format("{}: {} lead(s), {} computed now; statistics in {}/stats\n", out.run_dir, out.leads,
                               out.computed, out.run_dir)
                << (out.products.manifest.empty() ? "" : fmt::format("products: {}\n", out.products.manifest))
                << (out.verification.csv.empty() ? "" : fmt::format("verification (ensemble vs truth):\n{}scores: {}\n",
                                                                    out.verification.table, out.verification.csv));
  } catch (const gale::Error& e) {
    if (rank == 0) std::cerr << "gale forecast: " << e.what() << "\n";
    MPI_Finalize();
    return e.exit_code();
  }
  MPI_Finalize();
  return 0;
}

#ifdef GALE_ML
int run_train(const std::string& config_file, const std::vector<std::string>& overrides, bool resume) {
  MPI_Init(nullptr, nullptr);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  try {
    const auto checkpoint = run_train_command(load_config(config_file, overrides), resume);
    if (rank == 0) std::cout << "checkpoint: " << checkpoint << "\n";
  } catch (const gale::Error& e) {
    if (rank == 0) std::cerr << "gale train: " << e.what() << "\n";
    MPI_Finalize();
    return e.exit_code();
  }
  MPI_Finalize();
  return 0;
}

int run_evaluate(const std::string& config_file, const std::vector<std::string>& overrides, int cases) {
  std::cout << run_evaluate_command(load_config(config_file, overrides), cases) << std::flush;
  return 0;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  // The daemon has its own executable and options (gale-schedule --help).
  if (argc > 1 && std::string(argv[1]) == "schedule") {
    try {
      exec_sibling("gale-schedule", argc, argv, "schedule");
    } catch (const gale::Error& e) {
      std::cerr << "gale schedule: " << e.what() << "\n";
      return e.exit_code();
    }
  }
  CLI::App app{"gale: machine-learned global ensemble weather forecasting"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags (-v, -q) may follow the subcommand
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "debug logging");
  app.add_flag("-q,--quiet", quiet, "warnings and errors only");
  app.set_version_flag("--version", std::string(gale::kVersion));

  std::vector<std::string> files;
  auto* inspect_cmd = app.add_subcommand("inspect", "print what GRIB/NetCDF files hold");
  inspect_cmd->add_option("files", files, "GRIB or NetCDF files")->required()->check(CLI::ExistingFile);

  std::string config_file;
  std::vector<std::string> overrides;
  auto* ingest_cmd = app.add_subcommand("ingest", "read, select and check input data into a State");
  ingest_cmd->add_option("-c,--config", config_file, "YAML config")->required()->check(CLI::ExistingFile);
  ingest_cmd->add_option("--set", overrides, "override a config value: key.path=value");

  std::string out_dir;
  auto* naturerun_cmd = app.add_subcommand("naturerun", "run the shallow-water nature run and write NetCDF/GRIB2");
  naturerun_cmd->add_option("-c,--config", config_file, "YAML config")->required()->check(CLI::ExistingFile);
  naturerun_cmd->add_option("--set", overrides, "override a config value: key.path=value");
  naturerun_cmd->add_option("-o,--out", out_dir, "output directory")->required();

  auto* verify_cmd = app.add_subcommand("verify", "score forecasts against truth, persistence and climatology");
  verify_cmd->add_option("-c,--config", config_file, "YAML config")->required()->check(CLI::ExistingFile);
  verify_cmd->add_option("--set", overrides, "override a config value: key.path=value");

  auto* products_cmd = app.add_subcommand("products", "ensemble products (CF NetCDF, GRIB2, energy, hazards, maps) from member files");
  products_cmd->add_option("-c,--config", config_file, "YAML config")->required()->check(CLI::ExistingFile);
  products_cmd->add_option("--set", overrides, "override a config value: key.path=value");

  auto* climate_cmd = app.add_subcommand("climate", "model climate (percentiles per point) for the Extreme Forecast Index");
  climate_cmd->add_option("-c,--config", config_file, "YAML config")->required()->check(CLI::ExistingFile);
  climate_cmd->add_option("--set", overrides, "override a config value: key.path=value");

  bool resume = false;
  auto* forecast_cmd = app.add_subcommand("forecast", "run an ensemble forecast (under mpirun for several ranks)");
  forecast_cmd->add_option("-c,--config", config_file, "YAML config")->required()->check(CLI::ExistingFile);
  forecast_cmd->add_option("--set", overrides, "override a config value: key.path=value");
  forecast_cmd->add_flag("--resume", resume, "continue a run: only leads without statistics are computed");

  auto* train_cmd = app.add_subcommand("train", "train the GNN forecaster (under mpirun for data parallelism)");
  train_cmd->add_option("-c,--config", config_file, "YAML config")->required()->check(CLI::ExistingFile);
  train_cmd->add_option("--set", overrides, "override a config value: key.path=value");
  train_cmd->add_flag("--resume", resume, "continue from the checkpoint at train.output, bit for bit");

  int cases = 40;
  auto* evaluate_cmd = app.add_subcommand("evaluate", "RMSE of a trained model vs persistence and climatology");
  evaluate_cmd->add_option("-c,--config", config_file, "the training YAML config")->required()->check(CLI::ExistingFile);
  evaluate_cmd->add_option("--set", overrides, "override a config value: key.path=value");
  evaluate_cmd->add_option("--cases", cases, "forecasts started through the test period")->check(CLI::Range(1, 100000));

  std::vector<std::string> checkpoints;
  std::string averaged_output;
  auto* average_cmd = app.add_subcommand("average-checkpoints",
                                         "the mean of the weights of checkpoints of one training run (weight averaging)");
  average_cmd->add_option("checkpoints", checkpoints, "two or more checkpoints of the same model")
      ->required()
      ->check(CLI::ExistingFile);
  average_cmd->add_option("-o,--out", averaged_output, "the averaged checkpoint to write")->required();

  app.add_subcommand("schedule", "the forecast daemon (runs gale-schedule; see gale-schedule --help)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help or the usage error
    return rc == 0 ? 0 : 2;      // usage errors are configuration errors (exit 2)
  }
  gale::setup_logging(quiet ? gale::Verbosity::quiet
                            : verbose ? gale::Verbosity::verbose : gale::Verbosity::normal);
  const std::string command = app.get_subcommands().front()->get_name();
  try {
    if (*inspect_cmd) return run_inspect(files);
    if (*ingest_cmd) return run_ingest(config_file, overrides);
    if (*naturerun_cmd) return run_naturerun(config_file, overrides, out_dir, quiet);
    if (*verify_cmd) return run_verify(config_file, overrides);
    if (*products_cmd) return run_products(config_file, overrides);
    if (*climate_cmd) return run_climate(config_file, overrides);
    if (*forecast_cmd) return run_forecast(config_file, overrides, resume, argc, argv);
#ifdef GALE_ML
    if (*train_cmd) return run_train(config_file, overrides, resume);
    if (*evaluate_cmd) return run_evaluate(config_file, overrides, cases);
    if (*average_cmd) {
      std::cout << run_average_command(checkpoints, averaged_output) << std::flush;
      return 0;
    }
#else
    if (*train_cmd || *evaluate_cmd || *average_cmd) exec_sibling("gale-ml", argc, argv);
#endif
  } catch (const gale::InternalError& e) {
    std::cerr << "gale " << command << ": internal error (please report): " << e.what() << "\n";
    return e.exit_code();
  } catch (const gale::Error& e) {
    std::cerr << "gale " << command << ": " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::cerr << "gale " << command << ": out of memory\n";
    return 71;
  } catch (const std::exception& e) {
    std::cerr << "gale " << command << ": unexpected error (please report): " << e.what() << "\n";
    return 70;
  }
  return 0;
}
