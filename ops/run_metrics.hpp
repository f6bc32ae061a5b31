#pragma once
// Metrics of one batch run (`gale forecast`, `gale train`) pushed to a Prometheus
// Pushgateway (prometheus-cpp's push library, over libcurl) when the config asks for it:
//
//   metrics: {pushgateway: http://127.0.0.1:9091, job: gale_forecast, instance: node17, timeout_ms: 5000}
//
// (`forecast.metrics` or `train.metrics`; job defaults to gale_forecast / gale_train, instance
// to the host name: together they are the Pushgateway group.) Only rank 0 of an MPI run
// pushes. The run's end pushes success or failure; a failed push is one warning in the log,
// never a failed run (the products matter more than their metrics).
//
// A successful end replaces the group (PUT), gale_last_success_timestamp_seconds included;
// a failure and a push during a run (training's validations) only replace the metrics they
// carry (POST), so the last success timestamp of an earlier run stays for alerting.
// No per-run or per-member labels.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
class Gateway;
}  // namespace prometheus

namespace gale {

struct PushgatewaySpec {
  std::string url;                 // http(s)://host[:port][/prefix]
  std::string job = "gale_forecast";
  std::string instance;            // grouping key label; default: the host name
  int timeout_ms = 5000;           // a push that takes longer is abandoned (with the warning)
};

// The `metrics:` section (a map with `pushgateway`); nullopt when it has no pushgateway.
// ConfigError naming the key for a bad URL, job or instance.
std::optional<PushgatewaySpec> parse_pushgateway(const ConfigNode& node, const std::string& default_job = "gale_forecast");

enum class RunKind { forecast, train };

class RunMetrics {
 public:
  // No spec (or not MPI rank 0): every call is a no-op. The run's clock starts here.
  RunMetrics(RunKind kind, std::optional<PushgatewaySpec> spec);
  // A run that never reached finish() (an exception on its way out) is pushed as failed.
  ~RunMetrics();
  RunMetrics(const RunMetrics&) = delete;
  RunMetrics& operator=(const RunMetrics&) = delete;

  bool enabled() const { return bool(gateway_); }
  // By full name, e.g. set("gale_forecast_members", 10), add("gale_train_steps_total", 100);
  // std::logic_error for a name this kind of run does not have.
  void set(const std::string& gauge, double value);
  void add(const std::string& counter, double value);

  // A forecast's end: members, leads computed, member-steps, the products' bytes.
  void forecast_completed(int members, int leads_computed, const std::vector<std::string>& product_files);
  // A training run so far: optimiser steps run, the losses per step and per validation (the
  // last of each is pushed) and the training samples processed (for samples per second).
  void train_progress(int steps_run, const std::vector<double>& losses, const std::vector<double>& validation_losses,
                      double samples);

  // Pushes the metrics now, keeping the group's other metrics (POST). False (and the warning,
  // once per run) when the Pushgateway did not take them.
  bool push_progress();
  // Duration, success (1/0), on success the last success timestamp; then pushes. Once.
  void finish(bool success);

 private:
  bool push(bool replace_group);
  double elapsed_seconds() const;

  RunKind kind_;
  std::optional<PushgatewaySpec> spec_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Gateway> gateway_;
  std::map<std::string, prometheus::Gauge*> gauges_;
  std::map<std::string, prometheus::Counter*> counters_;
  std::chrono::steady_clock::time_point start_;
  bool finished_ = false, warned_ = false;
};

}  // namespace gale
