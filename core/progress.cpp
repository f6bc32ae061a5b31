#include "core/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "core/log.hpp"

namespace gale {

std::string eta_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = long(seconds);
  return s >= 3600 ? fmt::format("{}h{:02d}m", s / 3600, int(s % 3600 / 60)) : fmt::format("{}m{:02d}s", s / 60, int(s % 60));
}

ProgressBar::ProgressBar(std::string label, long total, bool enabled)
    : label_(std::move(label)), total_(std::max(1L, total)), enabled_(enabled), terminal_(::isatty(STDERR_FILENO)) {}

void ProgressBar::update(long done, const std::string& detail) {
  if (!enabled_) return;
  const double fraction = double(done) / double(total_);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = done > 0 ? elapsed * (1 - fraction) / fraction : NAN;
  const auto text = fmt::format("{}/{} {}{}ETA {}", done, total_, detail, detail.empty() ? "" : " ", eta_text(eta));
  if (terminal_) {
    const int width = 30, filled = int(width * std::min(1.0, fraction));
    std::fprintf(stderr, "\r%s [%s%s] %s   ", label_.c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), text.c_str());
    if (done >= total_) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  } else if (const long tenth = long(fraction * 10); tenth > last_logged_tenth_ || done >= total_) {
    last_logged_tenth_ = tenth;
    log_info(fmt::format("{}: {}", label_, text));
  }
}

}  // namespace gale
