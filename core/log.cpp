#include "core/log.hpp"

#include <spdlog/spdlog.h>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace gale {
void setup_logging(Verbosity verbosity) {
  auto logger = spdlog::stderr_color_mt("gale");
  logger->set_pattern("%^[%Y-%m-%d %H:%M:%S] %l%$ %v");
  logger->set_level(verbosity == Verbosity::quiet     ? spdlog::level::warn
                    : verbosity == Verbosity::verbose ? spdlog::level::debug
                                                      : spdlog::level::info);
  spdlog::set_default_logger(logger);
}
void add_log_file(const std::string& path) {
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);  // appends
  sink->set_pattern("[%Y-%m-%d %H:%M:%S] %l %v");
  sink->set_level(spdlog::level::info);  // the whole story of a run, whatever the terminal shows
  spdlog::default_logger()->sinks().push_back(sink);
  if (spdlog::default_logger()->level() > spdlog::level::info) {
    // -q quiets the terminal, not the run's log file.
    for (auto& s : spdlog::default_logger()->sinks())
      if (s != sink) s->set_level(spdlog::default_logger()->level());
    spdlog::default_logger()->set_level(spdlog::level::info);
  }
}
void log_info(const std::string& message) { spdlog::info("{}", message); }
void log_warning(const std::string& message) { spdlog::warn("{}", message); }
}  // namespace gale
