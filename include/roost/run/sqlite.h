// roost/run/sqlite.h — RAII handles over SQLite's C API: a connection, a prepared statement
// and a transaction. Every failing call becomes a roost::Error naming the SQL and SQLite's
// message, so callers never look at return codes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace roost::run {

class Statement;

// One connection. Opened in WAL mode with a busy timeout, so that several processes (two
// submits, a monitor and `roost runs list`) share the database: readers never block the
// writer, and a writer waits for another writer instead of failing with SQLITE_BUSY.
class Database {
 public:
  // Opens (creating when `create`) the file; busy_timeout_ms bounds the wait for a lock.
  Database(const std::string& path, bool create, int busy_timeout_ms = 30000);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows.
  void exec(const std::string& sql);
  Statement prepare(const std::string& sql);
  int64_t last_insert_rowid() const;
  int changes() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// A prepared statement. bind() takes 1-based parameter indices; step() returns true while
// there is a row; the column getters read the current row (0-based).
class Statement {
 public:
  Statement(Database& db, const std::string& sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, const std::string& value);
  Statement& bind(int index, const char* value) { return bind(index, std::string(value)); }
  Statement& bind_null(int index);

  bool step();
  // Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }
  void reset();

  bool is_null(int column) const;
  int64_t get_int(int column) const;
  double get_double(int column) const;
  std::string get_text(int column) const;
  std::optional<double> get_optional_double(int column) const;

 private:
  Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// BEGIN IMMEDIATE on construction (takes the write lock up front, so two writers queue on
// the busy timeout instead of deadlocking on a lock upgrade); ROLLBACK on destruction unless
// commit() was called.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace roost::run
