#include "ops/scheduler_metrics.hpp"

#include <fmt/format.h>
#include <CivetServer.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "core/errors.hpp"

namespace gale {

SchedulerMetrics::SchedulerMetrics(const MetricsSpec& spec) : registry_(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  auto counter = [&](const char* name, const char* help) { return &BuildCounter().Name(name).Help(help).Register(*registry_).Add({}); };
  started_ = counter("gale_runs_started_total", "Forecast runs launched by the scheduler (retries included).");
  succeeded_ = counter("gale_runs_succeeded_total", "Forecast runs that exited successfully.");
  failed_ = counter("gale_runs_failed_total", "Forecast runs that failed or timed out.");
  bytes_ = counter("gale_bytes_written_total", "Bytes of products written by successful runs.");
  members_ = counter("gale_members_completed_total", "Ensemble members completed by successful runs.");
  steps_ = counter("gale_steps_completed_total", "Member time steps completed by successful runs.");
  last_success_ = &BuildGauge()
                       .Name("gale_last_success_timestamp_seconds")
                       .Help("Unix time of the last successful run's end.")
                       .Register(*registry_)
                       .Add({});
  queue_depth_ = &BuildGauge()
                      .Name("gale_queue_depth")
                      .Help("Cycles that are due and not yet completed (waiting for input or retry).")
                      .Register(*registry_)
                      .Add({});
  duration_ = &BuildHistogram()
                   .Name("gale_run_duration_seconds")
                   .Help("Wall time of forecast runs.")
                   .Register(*registry_)
                   .Add({}, Histogram::BucketBoundaries{10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400});
  if (spec.listen.empty()) return;
  try {
    // civetweb reports why it cannot start only through this callback.
    static thread_local std::string civetweb_error;
    static CivetCallbacks callbacks;
    callbacks.log_message = [](const mg_connection*, const char* message) {
      civetweb_error = message;
      return 1;
    };
    civetweb_error.clear();
    try {
      exposer_ = std::make_unique<Exposer>(
          std::vector<std::string>{"listening_ports", spec.listen, "num_threads", std::to_string(spec.threads),
                                   "request_timeout_ms", std::to_string(spec.request_timeout_ms)},
          &callbacks);
    } catch (const std::exception&) {
      if (!civetweb_error.empty()) throw std::runtime_error(civetweb_error);
      throw;
    }
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("schedule.metrics.listen: cannot serve metrics on {}: {}", spec.listen, e.what()));
  }
  if (!spec.user.empty())
    exposer_->RegisterAuth([user = spec.user, password = spec.password](const std::string& u, const std::string& p) {
      return u == user && p == password;
    }, "gale");
  exposer_->RegisterCollectable(registry_);
}

SchedulerMetrics::~SchedulerMetrics() = default;

int SchedulerMetrics::port() const { return exposer_ ? exposer_->GetListeningPorts().front() : 0; }

void SchedulerMetrics::run_started() { started_->Increment(); }

void SchedulerMetrics::run_finished(bool success, double seconds, double finished_at_unix) {
  (success ? succeeded_ : failed_)->Increment();
  duration_->Observe(seconds);
  if (success) last_success_->Set(finished_at_unix);
}

void SchedulerMetrics::add_products(double bytes, double members, double steps) {
  bytes_->Increment(bytes);
  members_->Increment(members);
  steps_->Increment(steps);
}

void SchedulerMetrics::set_queue_depth(double cycles) { queue_depth_->Set(cycles); }

}  // namespace gale
