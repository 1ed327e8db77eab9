// SIGTERM under load, with the real binaries: a bounded load of concurrent
// calls (16 in flight) runs against auth_service (Login: an Argon2id hash
// each, so calls are in flight for hundreds of milliseconds) or sum_service
// (Sum, and SumStream calls whose client keeps writing for 400 ms, also
// after the signal), and the test counts what happened to each call:
// - every call started before the signal ends OK with the right reply;
// - every call started once the port is closed fails at once, UNAVAILABLE;
// - the process exits 0, well within the grace.
// And a call longer than the grace: cancelled, and the process still exits
// 0 in bounded time. The numbers are printed and recorded as properties.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/token/access_token_issuer.h"
#include "common/token/jwk.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/stop_status.h"
#include "tests/support/test_keys.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;
using testing::ChildProcess;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kSecret[] = "graceful-stop-test-secret-0123456789abcdef";
constexpr char kPassword[] = "correct horse battery staple";
constexpr int kWorkers = 16;
// Each worker's calls after the port closed: they must all fail fast.
constexpr int kCallsAfterClose = 3;
// Beyond the grace, what the process may take to exit (thread joins, gRPC
// teardown) on a loaded machine.
constexpr seconds kExitMargin{5};

std::string Target(int port) { return "127.0.0.1:" + std::to_string(port); }

// Whether a TCP connect to 127.0.0.1:port is refused (the listener closed).
bool ConnectRefused(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool refused =
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 &&
      errno == ECONNREFUSED;
  ::close(fd);
  return refused;
}

// Waits up to `timeout` for the child to exit by itself; its exit code, or
// -1 if it still runs.
int WaitForExit(ChildProcess& child, milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (child.Running() && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  return child.ExitCode();
}

// One call of the load.
struct CallRecord {
  SteadyClock::time_point start;
  SteadyClock::time_point end;
  grpc::Status status;
};

// kWorkers threads, each making calls one after another (`call` makes one
// and checks its reply: a wrong reply is INTERNAL). Pause() lets the calls
// in flight finish but starts no new one; Resume() lets each worker make
// kCallsAfterClose more, after which it ends. Without Pause(), each worker
// ends after `max_calls_per_worker`: the load is bounded either way.
class BoundedLoad final {
 public:
  using Call = std::function<grpc::Status(int worker, int number)>;

  BoundedLoad(int max_calls_per_worker, Call call)
      : max_calls_per_worker_(max_calls_per_worker), call_(std::move(call)) {
    for (int worker = 0; worker < kWorkers; ++worker) {
      threads_.emplace_back([this, worker] { Work(worker); });
    }
  }
  ~BoundedLoad() { Join(); }

  // Waits up to 60 s until `count` calls have ended.
  bool WaitForCompleted(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, seconds(60), [&] { return records_.size() >= count; });
  }
  void Pause() {
    std::lock_guard<std::mutex> lock(mutex_);
    paused_ = true;
  }
  void Resume() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      resumed_ = true;
    }
    changed_.notify_all();
  }
  std::vector<CallRecord> Join() {
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    return records_;
  }

 private:
  void Work(int worker) {
    int after_resume = 0;
    for (int number = 0; number < max_calls_per_worker_; ++number) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return !paused_ || resumed_; });
        if (resumed_ && after_resume++ == kCallsAfterClose) return;
      }
      CallRecord record;
      record.start = SteadyClock::now();
      record.status = call_(worker, number);
      record.end = SteadyClock::now();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        records_.push_back(std::move(record));
      }
      changed_.notify_all();
    }
  }

  const int max_calls_per_worker_;
  const Call call_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool paused_ = false;   // guarded by mutex_
  bool resumed_ = false;  // guarded by mutex_
  std::vector<CallRecord> records_;  // guarded by mutex_
  std::vector<std::thread> threads_;
};

class GracefulStopTest : public testing::PostgresSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
  }

  // Starts `binary` with `environment`, stderr merged into stdout (through
  // /bin/sh, which execs the binary: same PID), and returns its port.
  int StartService(const std::string& binary, const std::vector<std::string>& environment) {
    auto child = ChildProcess::Start("/bin/sh", {"-c", "exec \"$0\" 2>&1", binary}, environment);
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return 0;
    service_ = *std::move(child);
    auto port = service_->WaitForPort(seconds(60));
    EXPECT_TRUE(port.ok()) << port.status();
    return port.ok() ? *port : 0;
  }

  int StartAuth(const std::string& grace_seconds) {
    static int database_number = 0;
    auto url = cluster_->CreateDatabase("graceful_" + std::to_string(getpid()) + "_" +
                                        std::to_string(++database_number));
    EXPECT_TRUE(url.ok()) << url.status();
    if (!url.ok()) return 0;
    return StartService(kAuthServiceBinary,
                        {"AUTH_LISTEN=127.0.0.1:0", "AUTH_DATABASE_URL=" + *url,
                         std::string("JWT_SECRET_KEY=") + kSecret,
                         "AUTH_SESSION_PURGE_INTERVAL=0", "AUTH_SHUTDOWN_GRACE=" + grace_seconds});
  }

  int StartSum(const std::string& grace_seconds) {
    return StartService(kSumServiceBinary, {"SUM_LISTEN=127.0.0.1:0",
                                            std::string("JWT_SECRET_KEY=") + kSecret,
                                            "SUM_SHUTDOWN_GRACE=" + grace_seconds});
  }

  std::string UserBearer() {
    auto key = Jwk::FromHmacSecret(kSecret);
    EXPECT_TRUE(key.ok()) << key.status();
    AccessTokenIssuer issuer(*key, AccessTokenOptions{}, random_);
    const int64_t now = std::chrono::duration_cast<seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto token = issuer.Issue(TokenSubject{"load-user", "load@example.com", {"user"}}, now);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? "Bearer " + token->token : "";
  }

  // SIGTERM once `marker` (a quick call on `channel`, the connection the
  // load uses) has come back OK: the server reads a connection's frames in
  // order, so it has every call started before the marker.
  void SignalAfterMarker(const std::function<grpc::Status()>& marker) {
    const grpc::Status status = marker();
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(::kill(service_->pid(), SIGTERM), 0);
  }

  // Waits until the port refuses connections and the client has heard the
  // server's GOAWAY (its channel left READY); a call started from then on
  // meets a stopped server. A call racing the GOAWAY on the old connection
  // would instead reach the server after it began to stop, which cancels it
  // (CANCELLED); this test keeps its load paused over that moment.
  void WaitUntilStopped(int port, grpc::Channel& channel) {
    const auto deadline = SteadyClock::now() + seconds(10);
    while ((!ConnectRefused(port) || channel.GetState(false) == GRPC_CHANNEL_READY) &&
           SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(1));
    }
    ASSERT_TRUE(ConnectRefused(port)) << "the port still accepts 10 s after SIGTERM";
    ASSERT_NE(channel.GetState(false), GRPC_CHANNEL_READY) << "no GOAWAY 10 s after SIGTERM";
  }

  // Pauses the load (calls in flight go on), sends SIGTERM, waits until the
  // service has stopped accepting, resumes the load (its calls now meet a
  // stopped server), then waits for the exit. Checks every call, the exit
  // code and the time to exit.
  void StopUnderLoadAndCheck(BoundedLoad& load, int port, grpc::Channel& channel,
                             const std::function<grpc::Status()>& marker, seconds grace) {
    load.Pause();
    const auto paused = SteadyClock::now();
    SignalAfterMarker(marker);
    const auto signalled = SteadyClock::now();
    WaitUntilStopped(port, channel);
    const auto closed = SteadyClock::now();
    load.Resume();
    const int exit_code = WaitForExit(*service_, grace + kExitMargin);
    const auto exited = SteadyClock::now();
    const std::vector<CallRecord> calls = load.Join();

    int before = 0, in_flight_at_signal = 0, after = 0;
    std::map<std::string, int> failures_before, outcomes_after;
    milliseconds slowest_after{0};
    for (const CallRecord& call : calls) {
      if (call.start < paused) {
        ++before;
        if (call.end > signalled) ++in_flight_at_signal;
        if (!call.status.ok()) {
          ++failures_before[std::to_string(call.status.error_code()) + " " +
                            call.status.error_message()];
        }
      } else {
        ASSERT_GE(call.start, closed);
        ++after;
        ++outcomes_after[std::to_string(call.status.error_code())];
        slowest_after = std::max(
            slowest_after, std::chrono::duration_cast<milliseconds>(call.end - call.start));
      }
    }
    const auto ms = [](auto duration) {
      return std::chrono::duration_cast<milliseconds>(duration).count();
    };
    std::cout << "calls before the signal: " << before << " (in flight at the signal: "
              << in_flight_at_signal << "); after the port closed: " << after
              << " (slowest " << slowest_after.count() << " ms); port closed "
              << ms(closed - signalled) << " ms and process exited " << ms(exited - signalled)
              << " ms after SIGTERM\n";
    RecordProperty("calls_before_signal", before);
    RecordProperty("in_flight_at_signal", in_flight_at_signal);
    RecordProperty("exit_ms", static_cast<int>(ms(exited - signalled)));

    EXPECT_EQ(exit_code, 0) << "the process must exit 0 within the grace plus "
                            << kExitMargin.count() << " s";
    EXPECT_TRUE(failures_before.empty()) << "calls started before SIGTERM that failed: "
                                         << ::testing::PrintToString(failures_before);
    // The test is only worth something if calls were in flight.
    EXPECT_GE(in_flight_at_signal, kWorkers / 4);
    EXPECT_EQ(after, kWorkers * kCallsAfterClose);
    EXPECT_EQ(outcomes_after, (std::map<std::string, int>{
                                  {std::to_string(grpc::StatusCode::UNAVAILABLE), after}}));
    EXPECT_LT(slowest_after, seconds(2)) << "calls after the port closed must fail fast";
    const std::string output = service_->Output();
    const size_t stopping = output.find("stopping");
    EXPECT_NE(stopping, std::string::npos) << output;
    EXPECT_NE(output.find("stopped", stopping), std::string::npos) << output;
  }

  testing::CountingRandomSource random_;
  std::unique_ptr<ChildProcess> service_;
};

grpc::ClientContext* WithDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + seconds(30));
  return &context;
}

// GetJwks: a quick public call, the marker before the signal.
std::function<grpc::Status()> JwksMarker(auth::v1::AuthService::Stub& stub) {
  return [&stub] {
    grpc::ClientContext context;
    auth::v1::GetJwksResponse response;
    return stub.GetJwks(WithDeadline(context), auth::v1::GetJwksRequest(), &response);
  };
}

std::function<grpc::Status()> SumMarker(sum::v1::SumService::Stub& stub, const std::string& bearer) {
  return [&stub, bearer] {
    grpc::ClientContext context;
    context.AddMetadata("authorization", bearer);
    sum::v1::SumRequest request;
    sum::v1::SumResponse response;
    return stub.Sum(WithDeadline(context), request, &response);
  };
}

// Registers `email` with kPassword, the account a load of Logins uses.
grpc::Status RegisterLoadAccount(auth::v1::AuthService::Stub& stub, const std::string& email) {
  grpc::ClientContext context;
  auth::v1::RegisterRequest request;
  request.set_email(email);
  request.set_password(kPassword);
  request.set_first_name("Load");
  request.set_last_name("Test");
  auth::v1::AuthResponse response;
  return stub.Register(WithDeadline(context), request, &response);
}

// One call of a BoundedLoad: a Login as `email` (kPassword). OK without a
// token pair counts as INTERNAL.
BoundedLoad::Call LoginAs(auth::v1::AuthService::Stub& stub, const std::string& email) {
  return [&stub, email](int, int) {
    grpc::ClientContext context;
    auth::v1::LoginRequest request;
    request.set_email(email);
    request.set_password(kPassword);
    auth::v1::AuthResponse response;
    grpc::Status status = stub.Login(WithDeadline(context), request, &response);
    if (status.ok() && (response.access_token().empty() || response.refresh_token().empty())) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "OK without a token pair");
    }
    return status;
  };
}

TEST_F(GracefulStopTest, AuthServiceDrainsLoginsInFlightOnSigterm) {
  const int port = StartAuth("10");
  ASSERT_GT(port, 0);
  auto channel = grpc::CreateChannel(Target(port), grpc::InsecureChannelCredentials());
  auto stub = auth::v1::AuthService::NewStub(channel);
  const grpc::Status registered = RegisterLoadAccount(*stub, "load@example.com");
  ASSERT_TRUE(registered.ok()) << registered.error_message();

  BoundedLoad load(/*max_calls_per_worker=*/40, LoginAs(*stub, "load@example.com"));
  ASSERT_TRUE(load.WaitForCompleted(3 * kWorkers));
  StopUnderLoadAndCheck(load, port, *channel, JwksMarker(*stub), seconds(10));
}

TEST_F(GracefulStopTest, SumServiceDrainsCallsAndStreamsInFlightOnSigterm) {
  const int port = StartSum("10");
  ASSERT_GT(port, 0);
  const std::string bearer = UserBearer();
  auto channel = grpc::CreateChannel(Target(port), grpc::InsecureChannelCredentials());
  auto stub = sum::v1::SumService::NewStub(channel);

  // Odd calls are streams of 10 values 40 ms apart, so some are in flight at
  // the signal and their client goes on writing after it.
  BoundedLoad load(/*max_calls_per_worker=*/200, [&](int worker, int number) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", bearer);
    sum::v1::SumResponse response;
    if (number % 2 == 0) {
      sum::v1::SumRequest request;
      request.set_a(worker);
      request.set_b(number);
      grpc::Status status = stub->Sum(WithDeadline(context), request, &response);
      if (status.ok() && response.result() != worker + number) {
        return grpc::Status(grpc::StatusCode::INTERNAL, "wrong sum");
      }
      return status;
    }
    auto stream = stub->SumStream(WithDeadline(context), &response);
    sum::v1::SumStreamRequest value;
    int64_t expected = 0;
    for (int i = 1; i <= 10; ++i) {
      value.set_value(i * 1000 + worker);
      if (!stream->Write(value)) break;
      expected += value.value();
      std::this_thread::sleep_for(milliseconds(40));
    }
    stream->WritesDone();
    grpc::Status status = stream->Finish();
    if (status.ok() && response.result() != expected) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "wrong stream sum");
    }
    return status;
  });
  ASSERT_TRUE(load.WaitForCompleted(200));
  StopUnderLoadAndCheck(load, port, *channel, SumMarker(*stub, bearer), seconds(10));
}

// A stream longer than the grace (its client never half-closes) is
// cancelled when the grace ends: UNAVAILABLE, gRPC's "Cancelling all
// calls" (or the connection's end, EndedByTheStop). The process still
// exits 0 soon after.
TEST_F(GracefulStopTest, SumServiceCancelsAStreamLongerThanTheGraceAndExits0) {
  const int port = StartSum("1");
  ASSERT_GT(port, 0);
  auto stub = sum::v1::SumService::NewStub(
      grpc::CreateChannel(Target(port), grpc::InsecureChannelCredentials()));
  const std::string bearer = UserBearer();
  grpc::ClientContext context;
  context.AddMetadata("authorization", bearer);
  sum::v1::SumResponse response;
  auto stream = stub->SumStream(WithDeadline(context), &response);
  sum::v1::SumStreamRequest value;
  value.set_value(1);
  ASSERT_TRUE(stream->Write(value));

  SignalAfterMarker(SumMarker(*stub, bearer));
  const auto signalled = SteadyClock::now();
  const grpc::Status status = stream->Finish();
  const auto cancelled = SteadyClock::now();
  EXPECT_TRUE(testing::EndedByTheStop(status));
  EXPECT_GE(cancelled - signalled, milliseconds(900)) << "cancelled before the grace ended";
  EXPECT_EQ(WaitForExit(*service_, seconds(1) + kExitMargin), 0);
  std::cout << "stream cancelled "
            << std::chrono::duration_cast<milliseconds>(cancelled - signalled).count()
            << " ms after SIGTERM (grace 1 s)\n";
}

// With AUTH_SHUTDOWN_GRACE=0 the Logins in flight are cancelled at once
// (UNAVAILABLE) while their hashes finish in the background; the process
// exits 0 in bounded time all the same.
TEST_F(GracefulStopTest, AuthServiceWithNoGraceCancelsLoginsInFlightAndExits0) {
  const int port = StartAuth("0");
  ASSERT_GT(port, 0);
  auto channel = grpc::CreateChannel(Target(port), grpc::InsecureChannelCredentials());
  auto stub = auth::v1::AuthService::NewStub(channel);
  const grpc::Status registered = RegisterLoadAccount(*stub, "nograce@example.com");
  ASSERT_TRUE(registered.ok()) << registered.error_message();
  BoundedLoad load(/*max_calls_per_worker=*/40, LoginAs(*stub, "nograce@example.com"));
  ASSERT_TRUE(load.WaitForCompleted(kWorkers));
  load.Pause();
  SignalAfterMarker(JwksMarker(*stub));
  const auto signalled = SteadyClock::now();
  WaitUntilStopped(port, *channel);
  load.Resume();
  EXPECT_EQ(WaitForExit(*service_, kExitMargin), 0);
  const auto exited = SteadyClock::now();
  // Every call that ended after the signal was in flight and cancelled
  // (EndedByTheStop), or finished just before the cancel, or came after the
  // stop and was refused.
  const std::string kRefusedPrefix = "failed to connect";
  std::map<std::string, int> outcomes;
  int cancelled = 0, refused = 0;
  for (const CallRecord& call : load.Join()) {
    if (call.end < signalled) continue;
    ++outcomes[std::to_string(call.status.error_code()) + " " + call.status.error_message()];
    if (testing::IsStopStatus(call.status)) {
      ++cancelled;
    } else if (call.status.error_code() == grpc::StatusCode::UNAVAILABLE &&
               call.status.error_message().rfind(kRefusedPrefix, 0) == 0) {
      ++refused;
    } else {
      EXPECT_TRUE(call.status.ok()) << "an unexpected outcome: " << call.status.error_code()
                                    << " " << call.status.error_message();
    }
  }
  std::cout << "exited " << std::chrono::duration_cast<milliseconds>(exited - signalled).count()
            << " ms after SIGTERM; calls ending after it: " << ::testing::PrintToString(outcomes)
            << "\n";
  EXPECT_EQ(refused, kWorkers * kCallsAfterClose);
  EXPECT_GE(cancelled, 1);
}

}  // namespace
}  // namespace tollgate
