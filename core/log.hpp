#pragma once


#include <string>

namespace gale {
enum class Verbosity { quiet, normal, verbose };
// Logs go to stderr (stdout stays for tables and data a user may pipe).
void setup_logging(Verbosity verbosity);
// Also log (info and above) to `path`, appending: a run directory keeps its own log.
void add_log_file(const std::string& path);
// Plain-string logging for code compiled against LibTorch, whose wheel ships its own fmt
// headers: spdlog's templates must only be instantiated where Debian's fmt is in use.
void log_info(const std::string& message);
void log_warning(const std::string& message);
}  // namespace gale
