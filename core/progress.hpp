#pragma once
// Progress of a long command: on a terminal a bar on stderr with counts, a detail text
// and the ETA; otherwise (logs, CI, the scheduler) an info log line every tenth of the way.
// Plain strings only, so LibTorch code can use it too (see log.hpp).
#include <chrono>
#include <string>

namespace gale {

class ProgressBar {
 public:
  // `label` starts every line ("forecast", "train"); `enabled` false: silent (other ranks).
  ProgressBar(std::string label, long total, bool enabled);
  // `done` of `total`; `detail` e.g. "loss 0.0123 lr 1e-4" or "10 members".
  void update(long done, const std::string& detail = "");

 private:
  std::string label_;
  long total_;
  bool enabled_, terminal_;
  long last_logged_tenth_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// "1h02m", "3m07s", "?" (not finite or negative).
std::string eta_text(double seconds);

}  // namespace gale
