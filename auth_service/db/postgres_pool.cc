#include "auth_service/db/postgres_pool.h"

#include <algorithm>
#include <string_view>

#include <pqxx/except>
#include <pqxx/nontransaction>

#include "common/logging/logger.h"
#include "common/metrics/service_metrics.h"

namespace tollgate::auth {
namespace {

constexpr char kUnavailable[] = "database unavailable";

// What one caught exception means for the caller and for the connection.
struct Classified {
  absl::Status status;
  bool connection_lost = false;  // the connection must not be reused
};

// The first line of an error text: libpq's and the server's primary
// message. Later lines (DETAIL, HINT, libpq's advice) are dropped: DETAIL
// quotes row values, such as a token hash or an email, that must not reach
// a log.
std::string FirstLine(std::string_view text) {
  const size_t end = text.find('\n');
  return std::string(text.substr(0, end));
}

// One warn line "database error": `event` says what happened, `reason` is
// libpq's or the server's first line.
void Log(std::string_view event, std::string_view detail) {
  logging::Warn("database error", {{"event", event}, {"reason", FirstLine(detail)}});
}

// The same for a server error, with its SQLSTATE and, for one that is not a
// lost connection, the statement.
void LogSqlError(std::string_view event, const pqxx::sql_error& error, bool with_query) {
  if (with_query) {
    logging::Warn("database error", {{"event", event},
                                     {"sqlstate", error.sqlstate()},
                                     {"query", error.query()},
                                     {"reason", FirstLine(error.what())}});
  } else {
    logging::Warn("database error", {{"event", event},
                                     {"sqlstate", error.sqlstate()},
                                     {"reason", FirstLine(error.what())}});
  }
}

// SQLSTATEs the server sends when it is going away or not there yet, before
// libpq notices the socket is closed: class 08 (connection exception),
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now.
bool IsConnectionLossState(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

Classified Classify(std::exception_ptr error) {
  // Most derived classes first: unique_violation is an sql_error, the
  // transaction_rollback family and in_doubt_error are failures like
  // broken_connection.
  try {
    std::rethrow_exception(error);
  } catch (const pqxx::broken_connection& e) {
    Log("connection lost", e.what());
    return {absl::UnavailableError(kUnavailable), true};
  } catch (const pqxx::in_doubt_error& e) {
    Log("commit outcome unknown", e.what());
    return {absl::UnavailableError(kUnavailable), true};
  } catch (const pqxx::statement_completion_unknown& e) {
    Log("statement outcome unknown", e.what());
    return {absl::UnavailableError(kUnavailable), true};
  } catch (const pqxx::unique_violation&) {
    // An expected outcome (an email already taken), not worth a log line.
    return {absl::AlreadyExistsError("already exists"), false};
  } catch (const pqxx::serialization_failure&) {
    return {absl::AbortedError("transaction conflict, retry"), false};
  } catch (const pqxx::deadlock_detected&) {
    return {absl::AbortedError("transaction conflict, retry"), false};
  } catch (const pqxx::transaction_rollback& e) {
    Log("transaction rolled back", e.what());
    return {absl::AbortedError("transaction conflict, retry"), false};
  } catch (const pqxx::sql_error& e) {
    if (IsConnectionLossState(e.sqlstate())) {
      LogSqlError("connection lost", e, /*with_query=*/false);
      return {absl::UnavailableError(kUnavailable), true};
    }
    // The SQL and the server's words stay in the log: they describe our
    // schema and queries, which a client has no business learning.
    LogSqlError("sql error", e, /*with_query=*/true);
    return {absl::InternalError("database error"), false};
  } catch (const std::exception& e) {
    Log("error", e.what());
    return {absl::InternalError("internal error"), false};
  } catch (...) {
    Log("error", "unknown exception");
    return {absl::InternalError("internal error"), false};
  }
}

// Adds connect_timeout unless the caller chose one.
std::string WithConnectTimeout(const std::string& url, int seconds) {
  if (url.find("connect_timeout") != std::string::npos) return url;
  const std::string setting = "connect_timeout=" + std::to_string(seconds);
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + setting;
  }
  return url.empty() ? setting : url + " " + setting;
}

}  // namespace

absl::Status StatusFromDatabaseException(std::exception_ptr error) {
  return Classify(std::move(error)).status;
}

PostgresPool::PostgresPool(Options options)
    : options_(std::move(options)),
      connection_string_(WithConnectTimeout(options_.url, options_.connect_timeout_seconds)),
      size_(std::max(1, options_.size)) {
  idle_.resize(static_cast<size_t>(size_));
}

PostgresPool::~PostgresPool() = default;

int PostgresPool::in_use() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return size_ - static_cast<int>(idle_.size());
}

absl::StatusOr<PostgresPool::Slot> PostgresPool::Checkout(Use use) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (use == Use::kCall && idle_.empty() && options_.metrics != nullptr) {
    options_.metrics->db_pool_waits_total.Increment();
  }
  if (!slot_returned_.wait_for(lock, options_.acquire_timeout,
                               [this] { return closed_ || !idle_.empty(); })) {
    return absl::ResourceExhaustedError("database pool exhausted");
  }
  if (closed_) return absl::UnavailableError("database pool closed");
  Slot slot = std::move(idle_.back());
  idle_.pop_back();
  if (slot.connection != nullptr && slot.epoch < broken_epoch_) {
    // Opened before a connection was seen broken: most likely dead too.
    slot.connection.reset();
  }
  return slot;
}

void PostgresPool::Return(Slot slot) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // After Close() the slot is dropped when this function returns, so its
    // connection closes outside the lock.
    if (!closed_ && slot.connection != nullptr) {
      idle_.push_back(std::move(slot));
    } else if (!closed_) {
      idle_.push_front(std::move(slot));
    }
  }
  slot_returned_.notify_one();
}

void PostgresPool::Close() {
  std::deque<Slot> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    closing.swap(idle_);
  }
  slot_returned_.notify_all();  // callers waiting for a slot get UNAVAILABLE
  closing.clear();              // closes the connections, outside the lock
}

void PostgresPool::ConnectionLost() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++broken_epoch_;
}

absl::Status PostgresPool::Connect(Slot& slot) {
  uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // After a failure, one caller at a time probes the database, and only
    // once the backoff has passed; the others are answered at once instead
    // of adding load to a database that is down or starting.
    if (backoff_.count() > 0 &&
        (probing_ || std::chrono::steady_clock::now() < next_connect_at_)) {
      return absl::UnavailableError(kUnavailable);
    }
    probing_ = backoff_.count() > 0;
    epoch = broken_epoch_;
  }
  try {
    auto connection = std::make_unique<pqxx::connection>(connection_string_);
    for (const auto& [name, sql] : options_.prepared_statements) {
      connection->prepare(name, sql);
    }
    slot.connection = std::move(connection);
    slot.epoch = epoch;
  } catch (...) {
    const Classified failure = Classify(std::current_exception());
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    probing_ = false;
    // Grow the backoff once per failed attempt window, not once per caller
    // that happened to try at the same moment (before the first failure
    // several callers may be connecting at once).
    if (now >= next_connect_at_) {
      backoff_ = backoff_.count() == 0 ? options_.initial_backoff
                                       : std::min(backoff_ * 2, options_.max_backoff);
      next_connect_at_ = now + backoff_;
    }
    // Whatever went wrong while connecting, the caller sees the database as
    // not reachable, never INTERNAL.
    return failure.status.code() == absl::StatusCode::kUnavailable
               ? failure.status
               : absl::UnavailableError(kUnavailable);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  probing_ = false;
  backoff_ = std::chrono::milliseconds(0);
  next_connect_at_ = {};
  return absl::OkStatus();
}

absl::Status PostgresPool::RunWork(absl::FunctionRef<absl::Status(pqxx::connection&)> work,
                                   Use use) {
  absl::StatusOr<Slot> slot = Checkout(use);
  if (!slot.ok()) return slot.status();

  if (slot->connection != nullptr && !slot->connection->is_open()) {
    slot->connection.reset();
  }
  if (slot->connection == nullptr) {
    if (absl::Status connected = Connect(*slot); !connected.ok()) {
      Return(*std::move(slot));
      return connected;
    }
  }

  absl::Status status;
  bool lost = false;
  try {
    status = work(*slot->connection);
  } catch (...) {
    Classified failure = Classify(std::current_exception());
    status = std::move(failure.status);
    lost = failure.connection_lost;
  }
  // `work` may have caught a libpqxx exception itself; the connection's own
  // state is the last word.
  if (lost || !slot->connection->is_open()) {
    slot->connection.reset();
    ConnectionLost();
  }
  Return(*std::move(slot));
  return status;
}

absl::Status PostgresPool::Ping() {
  return RunWork(
      [](pqxx::connection& connection) -> absl::Status {
        pqxx::nontransaction txn(connection);
        txn.exec("SELECT 1");
        return absl::OkStatus();
      },
      Use::kMonitoring);
}

}  // namespace tollgate::auth

// libpqxx 6.4 (Debian 12) leaks the PGresult of a statement whose connection
// broke under it: connection_base::make_result evaluates encoding_id(),
// which throws broken_connection ("Could not obtain client encoding: not
// connected."), before the result takes ownership of the PGresult (fixed in
// libpqxx 7). The pool meets broken connections whenever the server goes
// away, and its tests kill backends and restart the server on purpose, so
// in sanitizer builds LeakSanitizer skips allocations made inside libpq. We
// never own libpq memory directly: a leak of our own still shows, as the
// libpqxx object we leaked.
#if defined(__SANITIZE_ADDRESS__)
#define TOLLGATE_LSAN_SUPPRESSIONS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define TOLLGATE_LSAN_SUPPRESSIONS 1
#endif
#endif
#ifdef TOLLGATE_LSAN_SUPPRESSIONS
extern "C" const char* __lsan_default_suppressions() { return "leak:libpq.so\n"; }
#endif
