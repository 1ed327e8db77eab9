#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/connection>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tollgate {
struct AuthServiceMetrics;
}  // namespace tollgate

namespace tollgate::auth {

struct PostgresPoolOptions {
  // libpq connection string: a URI (postgresql://user@host:port/db) or
  // key=value pairs. When it sets no connect_timeout, the pool adds
  // connect_timeout_seconds, so a black-holed host cannot hold a caller for
  // the kernel's TCP timeout. Never logged (it may hold a password).
  std::string url;
  // Connections kept, and the most calls that talk to the database at once.
  // Below 1 counts as 1.
  int size = 4;
  // How long a call waits for a free connection before it is shed.
  std::chrono::milliseconds acquire_timeout{1000};
  // (name, SQL) pairs prepared on every new connection, so work can call
  // txn.exec_prepared(name, ...) on any connection, also after a reconnect.
  std::vector<std::pair<std::string, std::string>> prepared_statements;
  // After a failed connect, the next attempt waits initial_backoff, doubling
  // after each further failure up to max_backoff. With the 500 ms cap a
  // database that comes back is used again within 2 s.
  std::chrono::milliseconds initial_backoff{50};
  std::chrono::milliseconds max_backoff{500};
  int connect_timeout_seconds = 5;  // libpq's minimum is 2
  // Where calls that found no free connection are counted
  // (tollgate_db_pool_waits_total); null: nowhere. Must outlive the pool.
  AuthServiceMetrics* metrics = nullptr;
};

// A fixed-size pool of PostgreSQL connections (libpqxx), shared by threads.
//
// Contract:
// - Constructing never touches the database; connections are opened on
//   first use and reopened after they break, so the service can start
//   before PostgreSQL and keeps working when PostgreSQL restarts.
// - A connection belongs to one call at a time. `work` runs on the calling
//   thread and must not keep the connection (or results that borrow it)
//   after it returns. Every transaction in `work` ends in an explicit
//   commit(); a transaction left open is rolled back.
// - No exception leaves Run or Ping. What libpqxx throws becomes a status:
//     pqxx::broken_connection, and server errors of SQLSTATE class 08
//       (connection exception) or 57P01-57P03 (server shutting down or
//       starting)                       -> UNAVAILABLE "database unavailable"
//       and the connection is discarded, so the next call reconnects;
//     pqxx::in_doubt_error, statement_completion_unknown
//                                       -> UNAVAILABLE (the commit may or may
//       not have happened; the caller must not assume either), discarded;
//     pqxx::unique_violation            -> ALREADY_EXISTS;
//     pqxx::serialization_failure, deadlock_detected, other
//       transaction_rollback            -> ABORTED (retrying may succeed);
//     any other pqxx::sql_error         -> INTERNAL "database error";
//     any other exception               -> INTERNAL "internal error".
//   Messages are generic: the SQL, the server's text and row values never
//   reach the caller. The SQLSTATE and the server's primary message go to
//   stderr (the DETAIL line, which quotes row values such as a token hash or
//   an email, does not).
// - A status that `work` itself returns passes through unchanged.
// - Connecting fails -> UNAVAILABLE "database unavailable". Further connect
//   attempts then wait an exponential backoff (initial_backoff doubling to
//   max_backoff), and only one call at a time tries; a call that needs a new
//   connection meanwhile gets UNAVAILABLE at once instead of hammering a
//   database that is down. A call that finds a healthy idle connection
//   still runs.
// - Once any connection is seen broken, every idle connection opened before
//   that is reopened at its next checkout: after a database restart all of
//   them are dead, and handing one out would fail a call after the database
//   is back.
// - No call waits forever for a connection: after acquire_timeout it gets
//   RESOURCE_EXHAUSTED "database pool exhausted". That is load being shed
//   (every connection busy), not the database being down, so it is a
//   different code from UNAVAILABLE: health checks and metrics can tell the
//   two apart, and SPEC section 3 answers queued-up work the same way.
//   A Run for a call that found no free connection at once is counted as a
//   wait (options.metrics), whether it then got one or was shed. Monitoring
//   work (Ping, Run with Use::kMonitoring) is not: health probes and
//   scrapes poll most while the pool is busy, and would inflate the count
//   of calls that waited.
//   Note that connecting runs on a checked-out slot, so a hung connect
//   counts against the pool too (bounded by connect_timeout_seconds).
// - Thread-safe. The pool must outlive every call into it. A Run inside
//   `work` needs a second connection; with none free it is shed after
//   acquire_timeout, it never deadlocks.
class PostgresPool final {
 public:
  using Options = PostgresPoolOptions;

  explicit PostgresPool(Options options);
  ~PostgresPool();

  PostgresPool(const PostgresPool&) = delete;
  PostgresPool& operator=(const PostgresPool&) = delete;

  // Who needs the connection: a call's work, or monitoring (a health
  // probe, a gauge read at scrape time), whose waits are not counted.
  enum class Use { kCall, kMonitoring };

  // Checks out a connection, connects it if needed, runs `work` on it, and
  // returns what `work` returned, or the status of the failure (see the
  // class comment). T is given explicitly: pool.Run<User>([&](pqxx::connection& c)
  // -> absl::StatusOr<User> { ... }).
  template <typename T>
  [[nodiscard]] absl::StatusOr<T> Run(
      const std::function<absl::StatusOr<T>(pqxx::connection&)>& work,
      Use use = Use::kCall) {
    std::optional<absl::StatusOr<T>> result;
    const absl::Status status = RunWork(
        [&](pqxx::connection& connection) -> absl::Status {
          result.emplace(work(connection));
          return result->status();
        },
        use);
    if (!status.ok()) return status;
    return *std::move(result);
  }

  // SELECT 1 on a pooled connection: OK when the database answers, otherwise
  // the codes above (UNAVAILABLE while it is down or during the backoff,
  // RESOURCE_EXHAUSTED when every connection is busy). For health checks.
  [[nodiscard]] absl::Status Ping();

  // Closes every idle connection now, and each checked-out one when its
  // work returns; from then on Run and Ping answer UNAVAILABLE "database
  // pool closed" at once, without connecting. For the end of a graceful
  // stop, once no call uses the pool, so PostgreSQL sees the sessions end
  // cleanly instead of at process exit. Idempotent.
  void Close();

  int size() const { return size_; }
  // Connections checked out right now (a snapshot, for metrics).
  int in_use() const;

 private:
  struct Slot {
    std::unique_ptr<pqxx::connection> connection;  // null: not connected
    uint64_t epoch = 0;                            // broken_epoch_ when connected
  };

  // The non-template core of Run.
  absl::Status RunWork(absl::FunctionRef<absl::Status(pqxx::connection&)> work, Use use);
  // Waits up to acquire_timeout for a slot; counts a call that has to wait.
  absl::StatusOr<Slot> Checkout(Use use);
  void Return(Slot slot);
  // Opens slot.connection unless the backoff forbids it for now.
  absl::Status Connect(Slot& slot);
  void ConnectionLost();

  const Options options_;
  const std::string connection_string_;  // url plus connect_timeout
  const int size_;

  mutable std::mutex mutex_;
  std::condition_variable slot_returned_;
  // Slots not checked out; connected ones at the back, where Checkout takes
  // from, so warm connections are reused first.
  std::deque<Slot> idle_;
  // Bumped whenever a connection is found broken; slots connected before
  // the current value are reopened at checkout.
  uint64_t broken_epoch_ = 0;
  // Reconnect backoff: zero while connecting works.
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point next_connect_at_{};
  bool probing_ = false;  // a connect after a failure is under way
  bool closed_ = false;   // Close() was called
};

// Maps an exception thrown by libpqxx (or anything else) to a status the
// way PostgresPool::Run does, and logs it the same way. For code that works
// on a pqxx::connection it was handed outside the pool (ApplyMigrations).
[[nodiscard]] absl::Status StatusFromDatabaseException(std::exception_ptr error);

}  // namespace tollgate::auth
