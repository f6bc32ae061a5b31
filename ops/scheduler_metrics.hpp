#pragma once
// The scheduler's Prometheus metrics, served by prometheus-cpp's civetweb on /metrics
// (127.0.0.1 by default, optional basic auth, a request timeout). No per-run or per-member
// labels: cardinality stays fixed however many cycles run.
#include <memory>
#include <string>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
class Exposer;
}  // namespace prometheus

namespace gale {

struct MetricsSpec {
  std::string listen = "127.0.0.1:9464";  // empty: no endpoint
  std::string user, password;             // basic auth when user is set
  int request_timeout_ms = 5000;
  int threads = 2;
};

class SchedulerMetrics {
 public:
  explicit SchedulerMetrics(const MetricsSpec& spec);
  ~SchedulerMetrics();
  int port() const;  // the bound port (useful with listen "127.0.0.1:0")

  void run_started();
  void run_finished(bool success, double seconds, double finished_at_unix);
  void add_products(double bytes, double members, double steps);
  void set_queue_depth(double cycles);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Counter *started_, *succeeded_, *failed_, *bytes_, *members_, *steps_;
  prometheus::Gauge *last_success_, *queue_depth_;
  prometheus::Histogram* duration_;
};

}  // namespace gale
