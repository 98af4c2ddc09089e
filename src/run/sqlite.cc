// sqlite.cc — the RAII SQLite handles of roost/run/sqlite.h.
#include "roost/run/sqlite.h"

#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "roost/core/error.h"

namespace roost::run {

Database::Database(const std::string& path, bool create, int busy_timeout_ms) : path_(path) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    ROOST_THROW("cannot open database ", path, ": ", message);
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  // Switching to WAL needs a moment of exclusive access; when another process holds the
  // database in that moment SQLite answers BUSY without calling the busy handler, so retry.
  for (int attempt = 0;; ++attempt) {
    char* err = nullptr;
    rc = sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    if (rc == SQLITE_OK) break;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt * 10 > busy_timeout_ms) {
      sqlite3_close(db_);
      db_ = nullptr;
      ROOST_THROW("cannot open database ", path, ": ", message);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // NORMAL is durable across application crashes in WAL mode; only a power loss may lose the
  // last transactions, never corrupt the file.
  exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    ROOST_THROW("database ", path_, ": ", message, " (in: ", sql, ")");
  }
}

Statement Database::prepare(const std::string& sql) { return Statement(*this, sql); }
int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

Statement::Statement(Database& db, const std::string& sql) : db_(&db), sql_(sql) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
    ROOST_THROW("database ", db.path(), ": ", sqlite3_errmsg(db.handle()), " (in: ", sql, ")");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_), sql_(std::move(other.sql_)) {
  other.stmt_ = nullptr;
}

namespace {
void check_bind(int rc, Database& db, const std::string& sql) {
  if (rc != SQLITE_OK)
    ROOST_THROW("database ", db.path(), ": ", sqlite3_errmsg(db.handle()), " (binding in: ", sql, ")");
}
}  // namespace

Statement& Statement::bind(int index, int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), *db_, sql_);
  return *this;
}
Statement& Statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value), *db_, sql_);
  return *this;
}
Statement& Statement::bind(int index, const std::string& value) {
  check_bind(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT), *db_,
             sql_);
  return *this;
}
Statement& Statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_, index), *db_, sql_);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string message = sqlite3_errmsg(db_->handle());
  sqlite3_reset(stmt_);
  ROOST_THROW("database ", db_->path(), ": ", message, " (in: ", sql_, ")");
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
int64_t Statement::get_int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::get_double(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::get_text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column)) : "";
}
std::optional<double> Statement::get_optional_double(int column) const {
  if (is_null(column)) return std::nullopt;
  return get_double(column);
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace roost::run
