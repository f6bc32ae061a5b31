#include "ops/train_command.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include "core/errors.hpp"
#include "gnn/checkpoint_average.hpp"
#include "gnn/model_io.hpp"
#include "gnn/tensor_bridge.hpp"
#include "gnn/trainer.hpp"
#include "ops/run_metrics.hpp"

namespace gale {

std::string run_train_command(const Config& config, bool resume) {
  const auto spec = parse_training_config(config);
  const auto train = config.root().at("train");  // metrics: pushed by rank 0 at the end, success or failure
  RunMetrics metrics(RunKind::train, train.has("metrics") ? parse_pushgateway(train.at("metrics"), "gale_train") : std::nullopt);
  const auto result = train_forecaster(MPI_COMM_WORLD, spec, resume);
  metrics.train_progress(result.steps_run, result.losses, result.validation_losses, double(result.steps_run) * spec.batch_size);
  metrics.finish(true);
  return spec.output;
}

std::string run_evaluate_command(const Config& config, int cases) {
  const auto spec = parse_training_config(config);
  configure_torch_threads(spec.threads);
  auto checkpoint = read_checkpoint_file(spec.output);
  auto model = load_forecaster(checkpoint, spec.output);
  const DatasetIndex data(training_files(spec), spec.variables);
  const std::vector<int> leads{1, 4, 12, 20};  // 6 h, 24 h, 72 h, 120 h at a 6 h step
  const auto all = sample_times(data, spec.test, spec.step, leads.back());
  if (all.empty()) throw DataError("evaluate: the test period holds no 5-day forecast case");
  std::vector<TimePoint> starts;
  const int n = std::min<int>(cases, int(all.size()));
  for (int i = 0; i < n; ++i) starts.push_back(all[std::size_t(i) * all.size() / std::size_t(n)]);
  std::vector<TimePoint> climate;
  for (const auto t : data.times())
    if (spec.train.contains(t)) climate.push_back(t);
  const auto table = evaluate_skill(*model, data, starts, leads, climate);
  return fmt::format("checkpoint {} (sha256 {})\n{}", spec.output, checkpoint_digest(spec.output),
                     table.text(spec.step));
}

std::string run_average_command(const std::vector<std::string>& inputs, const std::string& output) {
  const auto average = average_checkpoints(inputs);
  write_checkpoint_file(output, average);
  return fmt::format("checkpoint {} (sha256 {}): the mean of {} checkpoints' weights\n", output,
                     checkpoint_digest(output), inputs.size());
}

}  // namespace gale
