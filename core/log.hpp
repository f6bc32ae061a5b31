#pragma once
#include <spdlog/spdlog.h>

namespace gale {
enum class Verbosity { quiet, normal, verbose };
// Logs go to stderr (stdout stays for tables and data a user may pipe).
void setup_logging(Verbosity verbosity);
}  // namespace gale
