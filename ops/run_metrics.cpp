#include "ops/run_metrics.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <mpi.h>
#include <prometheus/counter.h>
#include <prometheus/gateway.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <regex>
#include <stdexcept>
#include <thread>

#include "core/errors.hpp"

namespace gale {

namespace {

// Job and instance are path segments of the push URL: keep them to safe characters.
bool safe_label(const std::string& s) { return std::regex_match(s, std::regex("[A-Za-z0-9_.:-]+")); }

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

bool is_rank0() {
  int initialised = 0, finalised = 0, rank = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (initialised && !finalised) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank == 0;
}

// http(s)://host[:port][/prefix] -> the host and "port[/prefix]" prometheus::Gateway joins
// as host + ':' + port + "/metrics/job/...".
struct ParsedUrl {
  std::string host, port_and_prefix;
};
std::optional<ParsedUrl> parse_url(const std::string& url) {
  static const std::regex re(R"((https?)://([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?(/[A-Za-z0-9._~/-]*)?)");
  std::smatch m;
  if (!std::regex_match(url, m, re)) return std::nullopt;
  std::string port = m[3].matched ? m[3].str() : (m[1] == "https" ? "443" : "80");
  const long p = std::stol(port);
  if (p < 1 || p > 65535) return std::nullopt;
  std::string prefix = m[4].matched ? m[4].str() : "";
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return ParsedUrl{m[1].str() + "://" + m[2].str(), port + prefix};
}

struct MetricDef {
  const char* name;
  const char* help;
  bool counter;
};
const std::vector<MetricDef>& definitions(RunKind kind) {
  static const std::vector<MetricDef> forecast = {
      {"gale_forecast_members", "Ensemble members of the run.", false},
      {"gale_forecast_steps_completed_total", "Member time steps the run completed (members x leads computed).", true},
      {"gale_forecast_leads_completed_total", "Lead times the run computed (a resumed run skips the finished ones).", true},
      {"gale_forecast_duration_seconds", "Wall time of the run.", false},
      {"gale_forecast_product_bytes", "Bytes of products the run wrote.", false},
      {"gale_forecast_success", "1 when the run succeeded, 0 when it failed.", false},
  };
  static const std::vector<MetricDef> train = {
      {"gale_train_steps_total", "Optimiser steps the run completed.", true},
      {"gale_train_loss", "Training loss of the last optimiser step (global batch).", false},
      {"gale_train_validation_loss", "Loss on the validation period at the last validation.", false},
      {"gale_train_samples_per_second", "Training samples per second of wall time, over the run.", false},
      {"gale_train_duration_seconds", "Wall time of the run.", false},
      {"gale_train_success", "1 when the run succeeded, 0 when it failed.", false},
  };
  return kind == RunKind::forecast ? forecast : train;
}

const char* prefix(RunKind kind) { return kind == RunKind::forecast ? "gale_forecast" : "gale_train"; }

}  // namespace

std::optional<PushgatewaySpec> parse_pushgateway(const ConfigNode& node, const std::string& default_job) {
  node.allow_only({"pushgateway", "job", "instance", "timeout_ms"});
  if (!node.has("pushgateway")) return std::nullopt;
  PushgatewaySpec spec;
  spec.url = node.get_string("pushgateway");
  if (!parse_url(spec.url))
    node.at("pushgateway").fail(fmt::format("'{}' is not a Pushgateway URL (expected http://host:port, e.g. "
                                            "http://127.0.0.1:9091)", spec.url));
  spec.job = node.get_string("job", default_job);
  if (!safe_label(spec.job)) node.at("job").fail("expected letters, digits and _ . : - only");
  if (node.has("instance")) {
    spec.instance = node.get_string("instance");
    if (!safe_label(spec.instance)) node.at("instance").fail("expected letters, digits and _ . : - only");
  }
  spec.timeout_ms = int(node.get_long("timeout_ms", spec.timeout_ms, 100, 600000));
  return spec;
}

RunMetrics::RunMetrics(RunKind kind, std::optional<PushgatewaySpec> spec)
    : kind_(kind), spec_(std::move(spec)), start_(std::chrono::steady_clock::now()) {
  if (!spec_ || !is_rank0()) return;
  using namespace prometheus;
  registry_ = std::make_shared<Registry>();
  for (const auto& d : definitions(kind_)) {
    if (d.counter)
      counters_[d.name] = &BuildCounter().Name(d.name).Help(d.help).Register(*registry_).Add({});
    else
      gauges_[d.name] = &BuildGauge().Name(d.name).Help(d.help).Register(*registry_).Add({});
  }
  if (spec_->instance.empty()) spec_->instance = host_name();
  const auto url = parse_url(spec_->url);
  try {
    gateway_ = std::make_shared<Gateway>(url->host, url->port_and_prefix, spec_->job,
                                         Labels{{"instance", spec_->instance}});
    gateway_->RegisterCollectable(registry_);
  } catch (const std::exception& e) {
    spdlog::warn("metrics: cannot set up pushing to {}: {}; the run goes on without pushed metrics", spec_->url, e.what());
    warned_ = true;
    gateway_.reset();
  }
}

RunMetrics::~RunMetrics() {
  if (finished_ || !gateway_) return;
  try {
    finish(false);
  } catch (...) {
  }
}

void RunMetrics::set(const std::string& gauge, double value) {
  if (!gateway_) return;
  const auto it = gauges_.find(gauge);
  if (it == gauges_.end()) throw std::logic_error("RunMetrics: no gauge " + gauge);
  it->second->Set(value);
}

void RunMetrics::add(const std::string& counter, double value) {
  if (!gateway_) return;
  const auto it = counters_.find(counter);
  if (it == counters_.end()) throw std::logic_error("RunMetrics: no counter " + counter);
  it->second->Increment(value);
}

void RunMetrics::forecast_completed(int members, int leads_computed, const std::vector<std::string>& product_files) {
  if (!gateway_) return;
  double bytes = 0;
  for (const auto& file : product_files) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (!ec) bytes += double(size);
  }
  set("gale_forecast_members", members);
  add("gale_forecast_leads_completed_total", leads_computed);
  add("gale_forecast_steps_completed_total", double(members) * leads_computed);
  set("gale_forecast_product_bytes", bytes);
}

void RunMetrics::train_progress(int steps_run, const std::vector<double>& losses,
                                const std::vector<double>& validation_losses, double samples) {
  if (!gateway_) return;
  const auto steps = counters_.at("gale_train_steps_total");
  if (double(steps_run) > steps->Value()) steps->Increment(double(steps_run) - steps->Value());
  if (!losses.empty()) set("gale_train_loss", losses.back());
  if (!validation_losses.empty()) set("gale_train_validation_loss", validation_losses.back());
  const double seconds = elapsed_seconds();
  if (seconds > 0) set("gale_train_samples_per_second", samples / seconds);
}

double RunMetrics::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

bool RunMetrics::push_progress() {
  if (!gateway_) return false;
  set(std::string(prefix(kind_)) + "_duration_seconds", elapsed_seconds());
  return push(false);
}

void RunMetrics::finish(bool success) {
  if (finished_ || !gateway_) return;
  finished_ = true;
  set(std::string(prefix(kind_)) + "_duration_seconds", elapsed_seconds());
  set(std::string(prefix(kind_)) + "_success", success ? 1 : 0);
  if (success) {
    // Only now in the registry: a failed run's push must not carry it. (One registry: the
    // gateway sends one request per collectable, and a second PUT would replace the first.)
    prometheus::BuildGauge()
        .Name("gale_last_success_timestamp_seconds")
        .Help("Unix time of the end of the last successful run.")
        .Register(*registry_)
        .Add({})
        .Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  }
  if (push(success) && !success)
    spdlog::info("metrics: pushed the failed run to {} (job {})", spec_->url, spec_->job);
}

bool RunMetrics::push(bool replace_group) {
  // prometheus-cpp 1.0 sets no timeout on its curl handle: the push runs on its own thread
  // and is abandoned (left to finish or fail on its own) after timeout_ms.
  auto result = std::make_shared<std::promise<int>>();
  auto future = result->get_future();
  std::thread([gateway = gateway_, registry = registry_, result, replace_group] {
    int code = 0;
    try {
      // prometheus-cpp follows client_java's old naming: Push() is POST (replaces the metrics
      // it carries), PushAdd() is PUT (replaces the group).
      code = replace_group ? gateway->PushAdd() : gateway->Push();
    } catch (...) {
      code = -int(CURLE_FAILED_INIT);
    }
    result->set_value(code);
  }).detach();
  std::string why;
  if (future.wait_for(std::chrono::milliseconds(spec_->timeout_ms)) == std::future_status::timeout) {
    why = fmt::format("no answer within {} ms", spec_->timeout_ms);
  } else {
    const int code = future.get();
    if (code >= 200 && code < 300) return true;
    why = code < 0 ? std::string(curl_easy_strerror(CURLcode(-code))) : fmt::format("HTTP status {}", code);
  }
  if (!warned_)
    spdlog::warn("metrics: could not push to the Pushgateway at {} (job {}): {}; the run itself is not affected, "
                 "further push failures of this run are not reported",
                 spec_->url, spec_->job, why);
  warned_ = true;
  return false;
}

}  // namespace gale
