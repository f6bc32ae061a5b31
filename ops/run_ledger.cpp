#include "ops/run_ledger.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include "core/errors.hpp"

namespace gale {

namespace {
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  Statement(sqlite3* db, const std::string& sql, const std::string& path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      throw InputError(fmt::format("{}: run ledger: {}", path, sqlite3_errmsg(db)));
  }
  ~Statement() { sqlite3_finalize(stmt); }
};
CycleState parse_state(const std::string& s) {
  if (s == "succeeded") return CycleState::succeeded;
  if (s == "failed") return CycleState::failed;
  if (s == "skipped") return CycleState::skipped;
  if (s == "waiting") return CycleState::waiting;
  return CycleState::running;
}
}  // namespace

std::string to_string(CycleState state) {
  switch (state) {
    case CycleState::waiting: return "waiting";
    case CycleState::running: return "running";
    case CycleState::succeeded: return "succeeded";
    case CycleState::failed: return "failed";
    case CycleState::skipped: return "skipped";
  }
  return "?";
}

RunLedger::RunLedger(const std::string& path) : path_(path) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw InputError(fmt::format("{}: cannot open the run ledger: {}", path, message));
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  exec("CREATE TABLE IF NOT EXISTS cycles (cycle INTEGER PRIMARY KEY, state TEXT NOT NULL, "
       "attempts INTEGER NOT NULL, message TEXT NOT NULL DEFAULT '')");
}

RunLedger::~RunLedger() { sqlite3_close(db_); }

void RunLedger::exec(const std::string& sql) const {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "?";
    sqlite3_free(error);
    throw InputError(fmt::format("{}: run ledger: {}", path_, message));
  }
}

std::vector<CycleRecord> RunLedger::all() const {
  Statement s(db_, "SELECT cycle, state, attempts, message FROM cycles ORDER BY cycle", path_);
  std::vector<CycleRecord> out;
  while (sqlite3_step(s.stmt) == SQLITE_ROW)
    out.push_back({TimePoint(Duration(sqlite3_column_int64(s.stmt, 0))),
                   parse_state(reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, 1))),
                   sqlite3_column_int(s.stmt, 2), reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, 3))});
  return out;
}

std::optional<CycleRecord> RunLedger::find(TimePoint cycle) const {
  Statement s(db_, "SELECT state, attempts, message FROM cycles WHERE cycle = ?", path_);
  sqlite3_bind_int64(s.stmt, 1, cycle.time_since_epoch().count());
  if (sqlite3_step(s.stmt) != SQLITE_ROW) return std::nullopt;
  return CycleRecord{cycle, parse_state(reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, 0))),
                     sqlite3_column_int(s.stmt, 1), reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, 2))};
}

std::optional<TimePoint> RunLedger::latest() const {
  Statement s(db_, "SELECT MAX(cycle) FROM cycles", path_);
  if (sqlite3_step(s.stmt) != SQLITE_ROW || sqlite3_column_type(s.stmt, 0) == SQLITE_NULL) return std::nullopt;
  return TimePoint(Duration(sqlite3_column_int64(s.stmt, 0)));
}

void RunLedger::start_attempt(TimePoint cycle) {
  Statement s(db_,
              "INSERT INTO cycles (cycle, state, attempts) VALUES (?, 'running', 1) "
              "ON CONFLICT(cycle) DO UPDATE SET state = 'running', attempts = attempts + 1",
              path_);
  sqlite3_bind_int64(s.stmt, 1, cycle.time_since_epoch().count());
  if (sqlite3_step(s.stmt) != SQLITE_DONE) throw InputError(fmt::format("{}: run ledger: {}", path_, sqlite3_errmsg(db_)));
}

void RunLedger::finish(TimePoint cycle, CycleState state, const std::string& message) {
  Statement s(db_,
              "INSERT INTO cycles (cycle, state, attempts, message) VALUES (?, ?, 0, ?) "
              "ON CONFLICT(cycle) DO UPDATE SET state = excluded.state, message = excluded.message",
              path_);
  sqlite3_bind_int64(s.stmt, 1, cycle.time_since_epoch().count());
  const auto text = to_string(state);
  sqlite3_bind_text(s.stmt, 2, text.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.stmt, 3, message.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s.stmt) != SQLITE_DONE) throw InputError(fmt::format("{}: run ledger: {}", path_, sqlite3_errmsg(db_)));
}

void RunLedger::interrupted(TimePoint cycle) {
  Statement s(db_, "UPDATE cycles SET attempts = MAX(attempts - 1, 0), message = 'interrupted' WHERE cycle = ?", path_);
  sqlite3_bind_int64(s.stmt, 1, cycle.time_since_epoch().count());
  sqlite3_step(s.stmt);
}

}  // namespace gale
