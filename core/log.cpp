#include "core/log.hpp"

#include <spdlog/spdlog.h>

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
void log_info(const std::string& message) { spdlog::info("{}", message); }
void log_warning(const std::string& message) { spdlog::warn("{}", message); }
}  // namespace gale
