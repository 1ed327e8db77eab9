#include "auth_service/db/postgres_pool.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <iostream>
#include <latch>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "absl/cleanup/cleanup.h"
#include "common/metrics/service_metrics.h"
#include "prometheus/registry.h"
#include "tests/support/postgres_suite.h"

namespace tollgate::auth {
namespace {

using ::tollgate::testing::PostgresCluster;
using Clock = std::chrono::steady_clock;

// A prepared statement every pool in these tests carries.
constexpr char kAdd[] = "add";

// Takes one of `pool`'s connections on another thread and holds it until
// Release(), so that the test can see what a pool with none free does.
class HeldConnection final {
 public:
  explicit HeldConnection(PostgresPool& pool)
      : holder_(std::async(std::launch::async, [this, &pool] {
          return pool.Run<int>([this](pqxx::connection&) -> absl::StatusOr<int> {
            holding_.set_value();
            release_.get_future().wait();
            return 1;
          });
        })) {
    holding_.get_future().wait();
  }
  ~HeldConnection() {
    if (!released_) (void)Release();
  }

  // Gives the connection back; the status of the Run that held it.
  absl::Status Release() {
    released_ = true;
    release_.set_value();
    return holder_.get().status();
  }

 private:
  std::promise<void> holding_;
  std::promise<void> release_;
  bool released_ = false;
  std::future<absl::StatusOr<int>> holder_;  // last: its thread uses the promises
};

class PostgresPoolTest : public ::tollgate::testing::PostgresSuite {
 protected:
  void SetUp() override {
    // Fails (never skips) every test when PostgreSQL could not start.
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
  }

  static PostgresPool::Options Options(const std::string& url, int size = 4) {
    PostgresPool::Options options;
    options.url = url;
    options.size = size;
    options.acquire_timeout = std::chrono::milliseconds(2000);
    options.prepared_statements = {{kAdd, "SELECT $1::int + $2::int"}};
    return options;
  }

  // Runs the prepared statement `add`: the query every test can rely on.
  static absl::StatusOr<int> Add(PostgresPool& pool, int a, int b) {
    return pool.Run<int>([&](pqxx::connection& connection) -> absl::StatusOr<int> {
      pqxx::work txn(connection);
      const int sum = txn.exec_prepared(kAdd, a, b)[0][0].as<int>();
      txn.commit();
      return sum;
    });
  }

  static absl::StatusOr<int> BackendPid(PostgresPool& pool) {
    return pool.Run<int>([](pqxx::connection& connection) -> absl::StatusOr<int> {
      return connection.backendpid();
    });
  }

  static absl::Status Exec(PostgresPool& pool, const std::string& sql) {
    return pool
        .Run<bool>([&](pqxx::connection& connection) -> absl::StatusOr<bool> {
          pqxx::work txn(connection);
          txn.exec(sql);
          txn.commit();
          return true;
        })
        .status();
  }

};

// A TCP port on 127.0.0.1 that refuses connections for as long as this
// object lives (bound, never listening), so no other process can take it.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot bind a port on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  std::string url() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/tollgate";
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(PostgresPoolTest, RunsAQueryAndReturnsItsValue) {
  PostgresPool pool(Options(cluster_->url()));
  absl::StatusOr<int> sum = pool.Run<int>([](pqxx::connection& connection) -> absl::StatusOr<int> {
    pqxx::work txn(connection);
    const int value = txn.exec("SELECT 2 + 3")[0][0].as<int>();
    txn.commit();
    return value;
  });
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, 5);
}

TEST_F(PostgresPoolTest, RunsPreparedStatements) {
  PostgresPool pool(Options(cluster_->url()));
  absl::StatusOr<int> sum = Add(pool, 40, 2);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, 42);
}

TEST_F(PostgresPoolTest, PingIsOkWhileTheDatabaseAnswers) {
  PostgresPool pool(Options(cluster_->url()));
  EXPECT_TRUE(pool.Ping().ok());
}

TEST_F(PostgresPoolTest, PassesTheStatusOfTheWorkThrough) {
  PostgresPool pool(Options(cluster_->url()));
  absl::StatusOr<int> result = pool.Run<int>([](pqxx::connection&) -> absl::StatusOr<int> {
    return absl::NotFoundError("no such user");
  });
  EXPECT_EQ(result.status(), absl::NotFoundError("no such user"));
}

TEST_F(PostgresPoolTest, UniqueViolationIsAlreadyExists) {
  PostgresPool pool(Options(cluster_->url()));
  ASSERT_TRUE(Exec(pool, "CREATE TABLE IF NOT EXISTS pool_unique (k int PRIMARY KEY)").ok());
  ASSERT_TRUE(Exec(pool, "INSERT INTO pool_unique VALUES (1) ON CONFLICT DO NOTHING").ok());

  const absl::Status status = Exec(pool, "INSERT INTO pool_unique VALUES (1)");

  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  // The connection is still good for the next call.
  EXPECT_TRUE(Add(pool, 1, 1).ok());
}

TEST_F(PostgresPoolTest, SyntaxErrorIsInternalAndHidesTheSql) {
  PostgresPool pool(Options(cluster_->url()));

  const absl::Status status = Exec(pool, "SELEC secret_column FROM secret_table");

  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_EQ(status.message(), "database error");
  EXPECT_TRUE(Add(pool, 1, 1).ok());
}

TEST_F(PostgresPoolTest, ExceptionsFromTheWorkAreInternalAndHideTheirText) {
  PostgresPool pool(Options(cluster_->url()));

  absl::StatusOr<int> thrown = pool.Run<int>([](pqxx::connection&) -> absl::StatusOr<int> {
    throw std::runtime_error("secret detail");
  });
  absl::StatusOr<int> conversion = pool.Run<int>([](pqxx::connection& connection) -> absl::StatusOr<int> {
    pqxx::work txn(connection);
    return txn.exec("SELECT 'not a number'")[0][0].as<int>();  // pqxx::conversion_error
  });

  EXPECT_EQ(thrown.status(), absl::InternalError("internal error"));
  EXPECT_EQ(conversion.status(), absl::InternalError("internal error"));
}

TEST_F(PostgresPoolTest, SerializationFailureIsAborted) {
  PostgresPool pool(Options(cluster_->url(), 2));
  ASSERT_TRUE(Exec(pool, "CREATE TABLE IF NOT EXISTS pool_counter (id int PRIMARY KEY, n int)").ok());
  ASSERT_TRUE(Exec(pool, "INSERT INTO pool_counter VALUES (1, 0) ON CONFLICT DO NOTHING").ok());

  absl::StatusOr<bool> result = pool.Run<bool>([&](pqxx::connection& connection) -> absl::StatusOr<bool> {
    pqxx::transaction<pqxx::isolation_level::repeatable_read> txn(connection);
    txn.exec("SELECT n FROM pool_counter WHERE id = 1");  // takes the snapshot
    // Another connection changes the row and commits after our snapshot...
    if (absl::Status other = Exec(pool, "UPDATE pool_counter SET n = n + 1 WHERE id = 1");
        !other.ok()) {
      return other;
    }
    // ...so updating it here cannot be serialized.
    txn.exec("UPDATE pool_counter SET n = n + 1 WHERE id = 1");
    txn.commit();
    return true;
  });

  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted) << result.status();
}

TEST_F(PostgresPoolTest, ConstructingNeedsNoDatabaseAndConnectFailureIsUnavailable) {
  RefusingPort nothing_listens;
  PostgresPool pool(Options(nothing_listens.url()));  // must not throw or connect

  const absl::StatusOr<int> first = Add(pool, 1, 1);
  // Within the backoff: answered at once, without a connect attempt.
  const absl::StatusOr<int> second = Add(pool, 1, 1);

  EXPECT_EQ(first.status(), absl::UnavailableError("database unavailable"));
  EXPECT_EQ(second.status(), absl::UnavailableError("database unavailable"));
  EXPECT_EQ(pool.Ping().code(), absl::StatusCode::kUnavailable);
}

TEST_F(PostgresPoolTest, AcquireTimeoutIsResourceExhausted) {
  PostgresPool::Options options = Options(cluster_->url(), 1);
  options.acquire_timeout = std::chrono::milliseconds(100);
  PostgresPool pool(std::move(options));
  HeldConnection held(pool);

  const absl::StatusOr<int> shed = Add(pool, 1, 1);
  const absl::Status ping = pool.Ping();
  EXPECT_TRUE(held.Release().ok());

  EXPECT_EQ(shed.status(), absl::ResourceExhaustedError("database pool exhausted"));
  EXPECT_EQ(ping.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Add(pool, 1, 1).ok());  // the connection came back
}

TEST_F(PostgresPoolTest, CountsCallsThatFoundNoFreeConnectionButNotPings) {
  prometheus::Registry registry;
  AuthServiceMetrics metrics(registry);
  PostgresPool::Options options = Options(cluster_->url(), 1);
  options.acquire_timeout = std::chrono::milliseconds(300);
  options.metrics = &metrics;
  PostgresPool pool(std::move(options));
  EXPECT_EQ(pool.in_use(), 0);
  ASSERT_TRUE(Add(pool, 1, 1).ok());  // a free connection: no wait
  EXPECT_EQ(metrics.db_pool_waits_total.Value(), 0);

  HeldConnection held(pool);
  EXPECT_EQ(pool.in_use(), 1);
  // Shed after waiting: still a wait. Ping waits too, but is not a call.
  EXPECT_EQ(Add(pool, 1, 1).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Add(pool, 1, 1).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(pool.Ping().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(metrics.db_pool_waits_total.Value(), 2);

  // A wait that ends with the connection: counted once.
  std::future<absl::StatusOr<int>> waiter =
      std::async(std::launch::async, [&] { return Add(pool, 2, 3); });
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(5);
  while (metrics.db_pool_waits_total.Value() < 3 && Clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_TRUE(held.Release().ok());
  EXPECT_EQ(*waiter.get(), 5);
  EXPECT_EQ(metrics.db_pool_waits_total.Value(), 3);
  EXPECT_EQ(pool.in_use(), 0);
}

TEST_F(PostgresPoolTest, ConnectionsAreSharedButNeverAtTheSameTime) {
  constexpr int kSize = 3;
  PostgresPool pool(Options(cluster_->url(), kSize));
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::mutex mutex;
  std::set<int> pids_in_use;
  std::atomic<int> failures{0};
  std::atomic<int> shared{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        absl::StatusOr<int> result = pool.Run<int>([&](pqxx::connection& connection) -> absl::StatusOr<int> {
          const int now_inside = ++inside;
          int seen = most_inside.load();
          while (now_inside > seen && !most_inside.compare_exchange_weak(seen, now_inside)) {
          }
          const int pid = connection.backendpid();
          {
            std::lock_guard<std::mutex> lock(mutex);
            if (!pids_in_use.insert(pid).second) ++shared;  // two calls on one connection
          }
          pqxx::work txn(connection);
          const int sum = txn.exec_prepared(kAdd, t, i)[0][0].as<int>();
          txn.commit();
          {
            std::lock_guard<std::mutex> lock(mutex);
            pids_in_use.erase(pid);
          }
          --inside;
          return sum;
        });
        if (!result.ok() || *result != t + i) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(shared.load(), 0);
  EXPECT_LE(most_inside.load(), kSize);
}

TEST_F(PostgresPoolTest, KilledConnectionIsUnavailableThenReplaced) {
  PostgresPool pool(Options(cluster_->url(), 1));
  absl::StatusOr<int> old_pid = BackendPid(pool);
  ASSERT_TRUE(old_pid.ok()) << old_pid.status();

  {
    // Kill the pooled connection's backend behind the pool's back, and wait
    // until it is gone.
    pqxx::connection admin(cluster_->url());
    pqxx::nontransaction txn(admin);
    txn.exec_params("SELECT pg_terminate_backend($1)", *old_pid);
    for (int i = 0; i < 500; ++i) {
      if (txn.exec_params("SELECT 1 FROM pg_stat_activity WHERE pid = $1", *old_pid).empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  const absl::StatusOr<int> on_dead_connection = Add(pool, 1, 2);
  const absl::StatusOr<int> after = Add(pool, 1, 2);  // reconnects, prepares again
  const absl::StatusOr<int> new_pid = BackendPid(pool);

  EXPECT_EQ(on_dead_connection.status(), absl::UnavailableError("database unavailable"));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, 3);
  ASSERT_TRUE(new_pid.ok());
  EXPECT_NE(*new_pid, *old_pid);
}

TEST_F(PostgresPoolTest, ConnectionKilledMidQueryIsUnavailable) {
  PostgresPool pool(Options(cluster_->url(), 2));
  std::future<absl::StatusOr<int>> sleeper = std::async(std::launch::async, [&] {
    return pool.Run<int>([](pqxx::connection& connection) -> absl::StatusOr<int> {
      pqxx::work txn(connection);
      txn.exec("SELECT pg_sleep(30) /* tollgate_sleeper */");
      txn.commit();
      return 1;
    });
  });

  // The server ends the backend while the query runs (SQLSTATE 57P01, as in
  // a fast shutdown), not merely a dead socket found on the next call.
  pqxx::connection admin(cluster_->url());
  pqxx::nontransaction txn(admin);
  bool terminated = false;
  for (int i = 0; i < 500 && !terminated; ++i) {
    terminated = !txn.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE query LIKE '%tollgate_sleeper%' AND pid <> pg_backend_pid()")
                      .empty();
    if (!terminated) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(terminated);

  EXPECT_EQ(sleeper.get().status(), absl::UnavailableError("database unavailable"));
  EXPECT_TRUE(Add(pool, 1, 1).ok());
}

// The SPEC's promise: while the database is down every call answers
// UNAVAILABLE (never INTERNAL, never an exception), and calls succeed again
// within 2 s of it being back, on the same pool. The 2 s are a correctness
// bound of the reconnect backoff (capped at 500 ms), not a speed target.
TEST_F(PostgresPoolTest, DatabaseRestartIsUnavailableThenRecoversWithinTwoSeconds) {
  constexpr int kSize = 4;
  PostgresPool pool(Options(cluster_->url(), kSize));
  {
    // Open every connection, so each one is stale after the restart.
    std::latch all_connected(kSize);
    std::vector<std::future<absl::StatusOr<int>>> warm;
    for (int i = 0; i < kSize; ++i) {
      warm.push_back(std::async(std::launch::async, [&] {
        return pool.Run<int>([&](pqxx::connection& connection) -> absl::StatusOr<int> {
          all_connected.arrive_and_wait();
          return connection.backendpid();
        });
      }));
    }
    for (auto& result : warm) ASSERT_TRUE(result.get().ok());
  }

  ASSERT_TRUE(cluster_->Stop().ok());
  bool running = false;
  absl::Cleanup restart_on_failure = [&] {
    if (!running) (void)cluster_->StartAgain();
  };

  // Down for a second, long enough for the backoff to reach its cap, with
  // calls from several threads hitting stale connections and the backoff.
  std::mutex mutex;
  std::vector<absl::Status> unexpected;
  std::atomic<int> calls{0};
  {
    const auto until = Clock::now() + std::chrono::seconds(1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kSize; ++t) {
      threads.emplace_back([&] {
        while (Clock::now() < until) {
          const absl::Status statuses[] = {Add(pool, 1, 1).status(), pool.Ping()};
          for (const absl::Status& status : statuses) {
            ++calls;
            if (status != absl::UnavailableError("database unavailable")) {
              std::lock_guard<std::mutex> lock(mutex);
              unexpected.push_back(status);
            }
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  EXPECT_GT(calls.load(), 0);
  EXPECT_TRUE(unexpected.empty()) << "first unexpected status while down: " << unexpected.front();

  const auto start_requested = Clock::now();
  ASSERT_TRUE(cluster_->StartAgain().ok());
  running = true;
  const auto accepting = Clock::now();

  absl::StatusOr<int> sum = absl::UnknownError("not tried");
  auto recovered = Clock::now();
  while (Clock::now() - accepting < std::chrono::seconds(10)) {
    sum = Add(pool, 20, 22);  // a prepared statement on a new connection
    recovered = Clock::now();
    if (sum.ok()) break;
    EXPECT_EQ(sum.status().code(), absl::StatusCode::kUnavailable) << sum.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(*sum, 42);

  const auto recovery = std::chrono::duration_cast<std::chrono::milliseconds>(recovered - accepting);
  const auto since_start = std::chrono::duration_cast<std::chrono::milliseconds>(recovered - start_requested);
  std::cout << "recovered " << recovery.count() << " ms after PostgreSQL accepted connections again ("
            << since_start.count() << " ms after the restart began)\n";
  RecordProperty("recovery_ms", static_cast<int>(recovery.count()));
  EXPECT_LT(recovery, std::chrono::seconds(2));

  // No stale connection from before the restart fails a call now.
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kSize; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        if (!Add(pool, 1, 1).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(pool.Ping().ok());
}

// The end of a graceful stop: Close() ends the idle session at once and the
// one in use when its work returns (PostgreSQL sees both backends go), and
// every later call is UNAVAILABLE without connecting.
TEST_F(PostgresPoolTest, CloseEndsEverySessionAndRefusesLaterWork) {
  PostgresPool pool(Options(cluster_->url(), 2));
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<int> busy_pid;
  std::thread busy([&] {
    const absl::StatusOr<int> done =
        pool.Run<int>([&](pqxx::connection& connection) -> absl::StatusOr<int> {
          busy_pid.set_value(connection.backendpid());
          released.wait();
          return 0;
        });
    EXPECT_TRUE(done.ok()) << done.status();
  });
  const int busy_backend = busy_pid.get_future().get();
  const absl::StatusOr<int> idle_backend = BackendPid(pool);
  ASSERT_TRUE(idle_backend.ok()) << idle_backend.status();
  ASSERT_NE(*idle_backend, busy_backend);

  pqxx::connection admin(cluster_->url());
  const auto alive = [&](int pid) {
    pqxx::nontransaction txn(admin);
    return !txn.exec_params("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid).empty();
  };
  const auto wait_gone = [&](int pid) {
    for (int i = 0; i < 500 && alive(pid); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return !alive(pid);
  };

  pool.Close();
  EXPECT_TRUE(wait_gone(*idle_backend));
  EXPECT_TRUE(alive(busy_backend)) << "a connection in use is closed only when its work returns";
  release.set_value();
  busy.join();
  EXPECT_TRUE(wait_gone(busy_backend));

  EXPECT_EQ(Add(pool, 1, 2).status(), absl::UnavailableError("database pool closed"));
  EXPECT_EQ(pool.Ping(), absl::UnavailableError("database pool closed"));
  pool.Close();  // idempotent
}

}  // namespace
}  // namespace tollgate::auth
