#pragma once
// The scheduler's durable run ledger (SQLite, one file in the state directory): one row per
// cycle with its state and attempts. Every transition is a committed transaction, so a
// daemon killed at any point restarts knowing exactly which cycles ran.
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

struct sqlite3;

namespace gale {

enum class CycleState { waiting, running, succeeded, failed, skipped };
std::string to_string(CycleState state);

struct CycleRecord {
  TimePoint cycle{};
  CycleState state = CycleState::running;
  int attempts = 0;
  std::string message;
};

class RunLedger {
 public:
  explicit RunLedger(const std::string& path);  // creates the file and table if needed
  ~RunLedger();
  RunLedger(const RunLedger&) = delete;
  RunLedger& operator=(const RunLedger&) = delete;

  std::optional<CycleRecord> find(TimePoint cycle) const;
  std::vector<CycleRecord> all() const;  // ascending cycle
  std::optional<TimePoint> latest() const;
  // Records an attempt starting (attempts + 1, state running).
  void start_attempt(TimePoint cycle);
  void finish(TimePoint cycle, CycleState state, const std::string& message);
  // A run interrupted by SIGTERM is not a failed attempt: the count is given back.
  void interrupted(TimePoint cycle);

 private:
  void exec(const std::string& sql) const;
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace gale
