// The real auth_service process while its PostgreSQL goes away under load and
// comes back (SPEC sections 3 and 7, issue 3): calls answer UNAVAILABLE while
// the database is down (never INTERNAL or UNKNOWN, and the process stays up),
// health says NOT_SERVING, calls succeed again within 2 s of the database
// being back, health says SERVING again, and nothing acknowledged is lost.
// Health follows the database within 2 s both ways, streamed by
// grpc.health.v1.Health/Watch, and a busy pool (every connection held by a
// slow statement) is load, not an outage: health stays SERVING (issue 9).
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_cluster.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;
using testing::ChildProcess;
using testing::PostgresCluster;
using v1::AuthResponse;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kPassword[] = "correct horse battery staple";

// Load: a few clients, each registering distinct users at a bounded pace.
constexpr int kLoadThreads = 3;
constexpr int kMaxCallsPerThread = 400;
constexpr auto kPauseBetweenCalls = milliseconds(25);
constexpr auto kMaxLoadDuration = seconds(90);
constexpr auto kCallDeadline = seconds(10);
// How long the database stays down (long enough for several load calls and
// for the health watcher to notice).
constexpr auto kOutage = seconds(4);
// SPEC: calls succeed again within 2 s after the database is back.
constexpr auto kMaxRecovery = seconds(2);
// The health watcher polls the database about once a second.
constexpr auto kHealthDeadline = seconds(5);

// grpc.health.v1.HealthCheckResponse.ServingStatus
constexpr int kServing = 1;
constexpr int kNotServing = 2;

// grpc.health.v1.Health/Check for service "" through the generic stub: the
// request (HealthCheckRequest{service: ""}) is the empty message, the answer
// is field 1 (the ServingStatus enum) as a varint. No .proto for the health
// service ships with Debian's gRPC, and two bytes do not need one.
grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel, int* serving_status) {
  grpc::GenericStub stub(channel);
  grpc::Slice empty_slice(std::string{});
  grpc::ByteBuffer request(&empty_slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(5));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&done](grpc::Status status) { done.set_value(std::move(status)); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return status;
  std::vector<grpc::Slice> slices;
  if (grpc::Status dumped = response.Dump(&slices); !dumped.ok()) return dumped;
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  *serving_status = 0;  // UNKNOWN: the default is not on the wire
  if (bytes.size() >= 2 && bytes[0] == 0x08) *serving_status = static_cast<unsigned char>(bytes[1]);
  return grpc::Status::OK;
}

// grpc.health.v1.Health/Watch for one service name, read on a thread of its
// own: every status the server streams, with the moment it arrived.
class HealthWatch {
 public:
  HealthWatch(const std::shared_ptr<grpc::Channel>& channel, const std::string& service)
      : stub_(grpc::health::v1::Health::NewStub(channel)) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    reader_ = stub_->Watch(&context_, request);
    thread_ = std::thread([this] { Read(); });
  }
  ~HealthWatch() {
    context_.TryCancel();
    thread_.join();
  }
  HealthWatch(const HealthWatch&) = delete;
  HealthWatch& operator=(const HealthWatch&) = delete;

  // When `wanted` became the streamed status at or after `since`: the first
  // such update after `since`, or `since` itself when it was already the
  // latest status then. nullopt if neither happens by since + timeout.
  std::optional<SteadyClock::time_point> WaitFor(int wanted, SteadyClock::time_point since,
                                                 milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::optional<SteadyClock::time_point> found;
    changed_.wait_until(lock, since + timeout, [&] {
      std::optional<int> latest_before;
      for (const Update& update : updates_) {
        if (update.at < since) {
          latest_before = update.status;
        } else if (update.status == wanted) {
          found = update.at;
          return true;
        }
      }
      if (latest_before == wanted) found = since;
      return found.has_value() || ended_;
    });
    return found;
  }

  // Whether any update after `since` carried `status`.
  bool SawAfter(int status, SteadyClock::time_point since) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Update& update : updates_) {
      if (update.at >= since && update.status == status) return true;
    }
    return false;
  }

  // "SERVING at +120 ms, ..." relative to `origin`, for failure messages.
  std::string History(SteadyClock::time_point origin) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string text;
    for (const Update& update : updates_) {
      text += std::to_string(update.status) + " at " +
              std::to_string(std::chrono::duration_cast<milliseconds>(update.at - origin).count()) +
              " ms; ";
    }
    if (ended_) text += "stream ended: " + std::to_string(finish_.error_code()) + " " +
                        finish_.error_message();
    return text;
  }

 private:
  struct Update {
    int status;
    SteadyClock::time_point at;
  };

  void Read() {
    grpc::health::v1::HealthCheckResponse response;
    while (reader_->Read(&response)) {
      std::lock_guard<std::mutex> lock(mutex_);
      updates_.push_back({static_cast<int>(response.status()), SteadyClock::now()});
      changed_.notify_all();
    }
    const grpc::Status finish = reader_->Finish();
    std::lock_guard<std::mutex> lock(mutex_);
    finish_ = finish;
    ended_ = true;
    changed_.notify_all();
  }

  std::unique_ptr<grpc::health::v1::Health::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<grpc::health::v1::HealthCheckResponse>> reader_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Update> updates_;  // guarded by mutex_
  bool ended_ = false;           // guarded by mutex_
  grpc::Status finish_;          // guarded by mutex_
};

// One Register call of the load loop.
struct CallRecord {
  std::string email;
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message;
  SteadyClock::time_point started;
  SteadyClock::time_point finished;
};

class DatabaseOutageTest : public ::testing::Test {
 protected:
  // AUTH_DATABASE_POOL_SIZE of the auth_service under test.
  virtual int PoolSize() const { return 4; }

  void SetUp() override {
    auto cluster = PostgresCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    auto process = ChildProcess::Start(kAuthServiceBinary, {},
                                       {
                                           "AUTH_LISTEN=127.0.0.1:0",
                                           "AUTH_DATABASE_URL=" + cluster_->url(),
                                           "JWT_SECRET_KEY=database-outage-test-secret-0123456789",
                                           "AUTH_ARGON2_MEMORY_KIB=8192",
                                           "AUTH_ARGON2_ITERATIONS=1",
                                           "AUTH_HASH_THREADS=2",
                                           "AUTH_HASH_QUEUE=64",
                                           "AUTH_DATABASE_POOL_SIZE=" + std::to_string(PoolSize()),
                                       });
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = *std::move(process);
    auto port = process_->WaitForPort(seconds(60));
    ASSERT_TRUE(port.ok()) << port.status();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(*port),
                                   grpc::InsecureChannelCredentials());
    ASSERT_TRUE(channel_->WaitForConnected(std::chrono::system_clock::now() + seconds(10)));
    stub_ = v1::AuthService::NewStub(channel_);
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
    if (process_) {
      EXPECT_TRUE(process_->Terminate().ok());
      EXPECT_EQ(process_->ExitCode(), 0) << "auth_service did not exit 0 after SIGTERM";
    }
    process_.reset();
    cluster_.reset();
  }

  grpc::Status Register(const std::string& email, AuthResponse* response,
                        std::chrono::milliseconds deadline = kCallDeadline) {
    v1::RegisterRequest request;
    request.set_email(email);
    request.set_password(kPassword);
    request.set_first_name("Grace");
    request.set_last_name("Hopper");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    return stub_->Register(&context, request, response);
  }

  grpc::Status Login(const std::string& email, AuthResponse* response) {
    v1::LoginRequest request;
    request.set_email(email);
    request.set_password(kPassword);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    return stub_->Login(&context, request, response);
  }

  grpc::Status Refresh(const std::string& refresh_token, AuthResponse* response) {
    v1::RefreshRequest request;
    request.set_refresh_token(refresh_token);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    return stub_->Refresh(&context, request, response);
  }

  // Polls health until it reports `wanted`; returns how long that took, or
  // nullopt (with the last answer in `last`) after kHealthDeadline.
  std::optional<milliseconds> WaitForHealth(int wanted, std::string* last) {
    const auto start = SteadyClock::now();
    while (SteadyClock::now() - start < kHealthDeadline) {
      int serving_status = -1;
      const grpc::Status status = CheckHealth(channel_, &serving_status);
      if (status.ok() && serving_status == wanted) {
        return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
      }
      *last = status.ok() ? "serving status " + std::to_string(serving_status)
                          : "health call failed: " + std::to_string(status.error_code()) + " " +
                                status.error_message();
      std::this_thread::sleep_for(milliseconds(50));
    }
    return std::nullopt;
  }

  std::unique_ptr<PostgresCluster> cluster_;
  std::unique_ptr<ChildProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AuthService::Stub> stub_;
};

TEST_F(DatabaseOutageTest, AnswersUnavailableWhileDownRecoversAndLosesNothingAcknowledged) {
  std::string last_health;
  ASSERT_TRUE(WaitForHealth(kServing, &last_health)) << last_health;

  // A session from before the outage, to refresh during and after it.
  AuthResponse session;
  ASSERT_EQ(Register("outage.session@example.com", &session).error_code(), grpc::StatusCode::OK);
  std::vector<std::string> acknowledged = {"outage.session@example.com"};

  // The load: each thread registers its own users and records every answer.
  std::atomic<bool> stop_load{false};
  std::atomic<int> ok_calls{0};
  std::vector<std::vector<CallRecord>> records(kLoadThreads);
  std::vector<std::thread> load;
  const auto load_started = SteadyClock::now();
  for (int t = 0; t < kLoadThreads; ++t) {
    load.emplace_back([&, t] {
      for (int n = 0; n < kMaxCallsPerThread && !stop_load.load() &&
                      SteadyClock::now() - load_started < kMaxLoadDuration;
           ++n) {
        CallRecord record;
        record.email = "load." + std::to_string(t) + "." + std::to_string(n) + "@example.com";
        AuthResponse response;
        record.started = SteadyClock::now();
        const grpc::Status status = Register(record.email, &response);
        record.finished = SteadyClock::now();
        record.code = status.error_code();
        record.message = status.error_message();
        if (status.ok()) ++ok_calls;
        records[t].push_back(std::move(record));
        std::this_thread::sleep_for(kPauseBetweenCalls);
      }
    });
  }
  // Whatever happens below, the load threads stop before the vectors go.
  struct JoinLoad {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~JoinLoad() {
      stop = true;
      for (std::thread& thread : threads) {
        if (thread.joinable()) thread.join();
      }
    }
  } join_load{stop_load, load};

  auto wait_for_ok_calls = [&](int target) {
    const auto start = SteadyClock::now();
    while (ok_calls.load() < target && SteadyClock::now() - start < seconds(30)) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    return ok_calls.load() >= target;
  };
  ASSERT_TRUE(wait_for_ok_calls(20)) << "the load never got going: " << ok_calls.load() << " OK";

  // --- The database goes away. ---
  ASSERT_TRUE(cluster_->Stop().ok());
  const auto stopped = SteadyClock::now();
  const int ok_before_outage = ok_calls.load();

  const auto not_serving_after = WaitForHealth(kNotServing, &last_health);
  EXPECT_TRUE(not_serving_after) << "health still says: " << last_health;
  if (not_serving_after) {
    std::cerr << "health NOT_SERVING " << not_serving_after->count() << " ms after the stop\n";
  }

  AuthResponse ignored;
  const grpc::Status refresh_down = Refresh(session.refresh_token(), &ignored);
  EXPECT_EQ(refresh_down.error_code(), grpc::StatusCode::UNAVAILABLE)
      << "Refresh while the database is down: " << refresh_down.error_message();
  const grpc::Status login_down = Login("outage.session@example.com", &ignored);
  EXPECT_EQ(login_down.error_code(), grpc::StatusCode::UNAVAILABLE)
      << "Login while the database is down: " << login_down.error_message();
  const grpc::Status register_down = Register("outage.probe.down@example.com", &ignored);
  EXPECT_EQ(register_down.error_code(), grpc::StatusCode::UNAVAILABLE)
      << "Register while the database is down: " << register_down.error_message();
  // The account flows too: each needs the database before it can answer.
  {
    grpc::ClientContext context;
    v1::RequestPasswordResetRequest request;
    request.set_email("outage.session@example.com");
    v1::RequestPasswordResetResponse response;
    const grpc::Status status = stub_->RequestPasswordReset(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << "RequestPasswordReset while the database is down: " << status.error_message();
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + session.access_token());
    v1::User user;
    const grpc::Status status =
        stub_->GetCurrentUser(&context, v1::GetCurrentUserRequest(), &user);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << "GetCurrentUser while the database is down: " << status.error_message();
  }

  std::this_thread::sleep_until(stopped + kOutage);
  EXPECT_TRUE(process_->Running()) << "auth_service died while the database was down, exit "
                                   << process_->ExitCode();

  // --- The database comes back. ---
  const auto restarting = SteadyClock::now();
  const absl::Status started_again = cluster_->StartAgain();
  ASSERT_TRUE(started_again.ok()) << started_again;
  const auto back = SteadyClock::now();

  // Time to the first acknowledged Register after StartAgain returned.
  std::optional<milliseconds> recovery;
  int probes = 0;
  std::vector<std::string> probe_failures;
  while (SteadyClock::now() - back < seconds(20)) {
    const std::string email = "outage.probe." + std::to_string(probes++) + "@example.com";
    AuthResponse response;
    const grpc::Status status = Register(email, &response, seconds(5));
    if (status.ok()) {
      recovery = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - back);
      acknowledged.push_back(email);
      break;
    }
    if (probe_failures.size() < 5) {
      probe_failures.push_back(std::to_string(status.error_code()) + " " + status.error_message());
    }
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(recovery) << "no Register succeeded within 20 s of the database being back";
  std::cerr << "first OK Register " << recovery->count() << " ms after StartAgain returned ("
            << probes << " probes)\n";
  EXPECT_LT(*recovery, kMaxRecovery) << "first probe failures: "
                                     << (probe_failures.empty() ? "" : probe_failures[0]);

  const auto serving_after = WaitForHealth(kServing, &last_health);
  EXPECT_TRUE(serving_after) << "health still says: " << last_health;
  if (serving_after) {
    std::cerr << "health SERVING again " << (recovery->count() + serving_after->count())
              << " ms (at most) after StartAgain returned\n";
  }

  // Some more load after the recovery, then stop it.
  EXPECT_TRUE(wait_for_ok_calls(ok_calls.load() + 20)) << "the load did not resume";
  stop_load = true;
  for (std::thread& thread : load) thread.join();

  // Every answer was OK or UNAVAILABLE; every call made entirely while the
  // database was down was UNAVAILABLE.
  int total = 0, unavailable = 0, unavailable_while_down = 0;
  for (const auto& thread_records : records) {
    for (const CallRecord& record : thread_records) {
      ++total;
      if (record.code == grpc::StatusCode::OK) {
        acknowledged.push_back(record.email);
        continue;
      }
      EXPECT_EQ(record.code, grpc::StatusCode::UNAVAILABLE)
          << record.email << ": " << record.message;
      if (record.code == grpc::StatusCode::UNAVAILABLE) ++unavailable;
      if (record.started >= stopped && record.finished <= restarting) ++unavailable_while_down;
    }
    for (const CallRecord& record : thread_records) {
      if (record.started >= stopped && record.finished <= restarting) {
        EXPECT_EQ(record.code, grpc::StatusCode::UNAVAILABLE)
            << record.email << " (made while the database was down): " << record.message;
      }
    }
  }
  std::cerr << "load: " << total << " Register calls, " << acknowledged.size() - 2
            << " acknowledged (" << ok_before_outage << " before the outage), " << unavailable
            << " UNAVAILABLE (" << unavailable_while_down << " made wholly during the outage)\n";
  EXPECT_GT(unavailable_while_down, 0) << "the load made no calls while the database was down";

  // Nothing was spent while the database was down: the old session refreshes.
  AuthResponse refreshed;
  const grpc::Status refresh_back = Refresh(session.refresh_token(), &refreshed);
  EXPECT_EQ(refresh_back.error_code(), grpc::StatusCode::OK) << refresh_back.error_message();

  // Nothing acknowledged was lost.
  int lost = 0;
  for (const std::string& email : acknowledged) {
    AuthResponse logged_in;
    const grpc::Status status = Login(email, &logged_in);
    if (!status.ok()) {
      ++lost;
      ADD_FAILURE() << "acknowledged " << email << " cannot log in: " << status.error_code() << " "
                    << status.error_message();
    }
  }
  EXPECT_EQ(lost, 0) << "of " << acknowledged.size() << " acknowledged registrations";
  EXPECT_TRUE(process_->Running());
}

// Issue 9: a load balancer watching health sees the outage, and the
// return, within 2 s, on the Watch stream as well as through Check, for the
// whole server ("") and for tollgate.auth.v1.AuthService alike.
TEST_F(DatabaseOutageTest, HealthWatchStreamsNotServingAndServingWithinTwoSeconds) {
  constexpr auto kWithin = seconds(2);
  HealthWatch watch(channel_, "");
  // The service's own name follows the same status.
  HealthWatch named(channel_, "tollgate.auth.v1.AuthService");
  const auto watch_started = SteadyClock::now();
  ASSERT_TRUE(watch.WaitFor(kServing, watch_started, seconds(10)))
      << watch.History(watch_started);
  ASSERT_TRUE(named.WaitFor(kServing, watch_started, seconds(10)))
      << named.History(watch_started);

  ASSERT_TRUE(cluster_->Stop().ok());
  const auto stopped = SteadyClock::now();
  const auto not_serving = watch.WaitFor(kNotServing, stopped, kWithin);
  ASSERT_TRUE(not_serving) << "no NOT_SERVING within 2 s of the stop: "
                           << watch.History(stopped);
  std::cerr << "Watch: NOT_SERVING "
            << std::chrono::duration_cast<milliseconds>(*not_serving - stopped).count()
            << " ms after the stop\n";
  EXPECT_TRUE(named.WaitFor(kNotServing, stopped, kWithin)) << named.History(stopped);
  int serving_status = -1;
  ASSERT_TRUE(CheckHealth(channel_, &serving_status).ok());
  EXPECT_EQ(serving_status, kNotServing);

  const absl::Status started_again = cluster_->StartAgain();
  ASSERT_TRUE(started_again.ok()) << started_again;
  const auto back = SteadyClock::now();
  const auto serving = watch.WaitFor(kServing, back, kWithin);
  ASSERT_TRUE(serving) << "no SERVING within 2 s of the database's return: "
                       << watch.History(stopped);
  std::cerr << "Watch: SERVING "
            << std::chrono::duration_cast<milliseconds>(*serving - back).count()
            << " ms after StartAgain returned\n";
  EXPECT_TRUE(named.WaitFor(kServing, back, kWithin)) << named.History(stopped);
  ASSERT_TRUE(CheckHealth(channel_, &serving_status).ok());
  EXPECT_EQ(serving_status, kServing);
}

// The Kubernetes liveness probe asks "liveness": it stays SERVING through a
// database outage while "" and the service name go NOT_SERVING, so the
// outage takes every replica out of its balancer without restarting any.
TEST_F(DatabaseOutageTest, LivenessStaysServingWhileTheDatabaseIsDown) {
  HealthWatch readiness(channel_, "");
  HealthWatch liveness(channel_, "liveness");
  const auto watch_started = SteadyClock::now();
  ASSERT_TRUE(readiness.WaitFor(kServing, watch_started, seconds(10)))
      << readiness.History(watch_started);
  ASSERT_TRUE(liveness.WaitFor(kServing, watch_started, seconds(10)))
      << liveness.History(watch_started);

  ASSERT_TRUE(cluster_->Stop().ok());
  const auto stopped = SteadyClock::now();
  ASSERT_TRUE(readiness.WaitFor(kNotServing, stopped, kHealthDeadline))
      << readiness.History(stopped);
  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const auto& [name, wanted] : std::vector<std::pair<std::string, int>>{
           {"", kNotServing}, {"tollgate.auth.v1.AuthService", kNotServing}, {"liveness", kServing}}) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(name);
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = health->Check(&context, request, &response);
    ASSERT_TRUE(status.ok()) << "'" << name << "': " << status.error_message();
    EXPECT_EQ(static_cast<int>(response.status()), wanted) << "'" << name << "' while down";
  }

  ASSERT_TRUE(cluster_->StartAgain().ok());
  const auto back = SteadyClock::now();
  ASSERT_TRUE(readiness.WaitFor(kServing, back, kHealthDeadline)) << readiness.History(stopped);
  EXPECT_FALSE(liveness.SawAfter(kNotServing, watch_started)) << liveness.History(watch_started);
}

// One pooled connection, held by a Login stuck behind a table lock that the
// test holds: every health ping then waits for the pool and is shed with
// RESOURCE_EXHAUSTED. That is a busy replica, not a dead database, so
// health must stay SERVING (a login flood must not take a healthy replica
// out of its load balancer).
class DatabaseOutageBusyPoolTest : public DatabaseOutageTest {
 protected:
  int PoolSize() const override { return 1; }
};

TEST_F(DatabaseOutageBusyPoolTest, HealthStaysServingWhileEveryConnectionIsBusy) {
  // Long enough for several health rounds (each waits 1 s for the pool).
  constexpr auto kBusyFor = seconds(5);
  constexpr int kFlood = 8;
  AuthResponse registered;
  ASSERT_EQ(Register("busy.pool@example.com", &registered).error_code(), grpc::StatusCode::OK);
  HealthWatch watch(channel_, "");
  const auto watch_started = SteadyClock::now();
  ASSERT_TRUE(watch.WaitFor(kServing, watch_started, seconds(10)))
      << watch.History(watch_started);

  pqxx::connection locker(cluster_->url());
  auto lock = std::make_unique<pqxx::work>(locker);
  lock->exec("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");

  // The flood: Logins that all need the users table.
  std::vector<std::future<grpc::Status>> flood;
  for (int i = 0; i < kFlood; ++i) {
    flood.push_back(std::async(std::launch::async, [this] {
      AuthResponse response;
      return Login("busy.pool@example.com", &response);
    }));
  }
  // The pool's only connection is waiting for the lock.
  pqxx::connection observer(cluster_->url());
  bool waiting = false;
  for (const auto start = SteadyClock::now(); !waiting && SteadyClock::now() - start < seconds(10);) {
    pqxx::nontransaction query(observer);
    waiting = query.exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                  .at(0)
                  .at(0)
                  .as<int>() > 0;
    if (!waiting) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(waiting) << "no Login ever waited for the table lock";

  const auto busy_since = SteadyClock::now();
  int checks = 0;
  while (SteadyClock::now() - busy_since < kBusyFor) {
    int serving_status = -1;
    const grpc::Status status = CheckHealth(channel_, &serving_status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(serving_status, kServing) << "after "
        << std::chrono::duration_cast<milliseconds>(SteadyClock::now() - busy_since).count()
        << " ms of a busy pool";
    ++checks;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_FALSE(watch.SawAfter(kNotServing, watch_started)) << watch.History(watch_started);
  EXPECT_GT(checks, 20);

  // Released, the flood goes through, or was shed while it waited for the
  // pool (never UNAVAILABLE: the database was there all along).
  lock->abort();
  lock.reset();
  int ok = 0;
  for (auto& call : flood) {
    const grpc::Status status = call.get();
    if (status.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << status.error_message();
      EXPECT_EQ(status.error_message(), "database pool exhausted");
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_FALSE(watch.SawAfter(kNotServing, watch_started)) << watch.History(watch_started);
}

}  // namespace
}  // namespace tollgate::auth
