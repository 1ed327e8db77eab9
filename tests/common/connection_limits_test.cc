// ApplyConnectionLimits on a real grpc::Server on 127.0.0.1:0 whose every
// method holds its call open until the test releases it. Each bound is
// driven from the client side, either by a gRPC channel or by a hand-driven
// HTTP/2 connection (tests/support/raw_http2_connection.h) that does what
// no gRPC client would: send only the preface, ping in a loop, ignore the
// stream cap. Limits are set in milliseconds here so each test ends in a
// few seconds; every wait is bounded.
#include "common/connection_limits.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/raw_http2_connection.h"

namespace tollgate {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::RawHttp2Connection;
using Frame = RawHttp2Connection::Frame;

constexpr char kHoldMethod[] = "/tollgate.testing.Hold/Call";
// How long a test waits for something that should happen within a few
// hundred milliseconds: generous, so a loaded machine does not fail it.
constexpr milliseconds kPatience{5000};

grpc::ByteBuffer EmptyMessage() {
  grpc::Slice empty("");
  return grpc::ByteBuffer(&empty, 1);
}

// A gRPC server with `limits` whose every call stays open until Release():
// calls in flight are what the limits are about.
class HoldingServer final {
 public:
  explicit HoldingServer(const ConnectionLimits& limits) : service_(this) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    ApplyConnectionLimits(builder, limits);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~HoldingServer() {
    Release();
    server_->Shutdown(std::chrono::system_clock::now());
  }

  int port() const { return port_; }
  bool running() const { return server_ != nullptr && port_ != 0; }

  // Calls that arrived so far, calls held now, calls cancelled while held.
  int started() const { return started_.load(); }
  int held() {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    return static_cast<int>(calls_.size());
  }
  int cancelled() const { return cancelled_.load(); }
  // The client address of each call, in arrival order.
  std::vector<std::string> peers() {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    return peers_;
  }

  // Waits up to kPatience until `count` calls have arrived.
  bool WaitForStarted(int count) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (started() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    return started() >= count;
  }
  bool WaitForCancelled(int count) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (cancelled() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    return cancelled() >= count;
  }

  // Finishes every held call with OK.
  void Release() {
    // Recursive: Finish may run a call's OnDone on this very thread.
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    std::vector<HeldCall*> calls;
    for (const auto& [call, unused] : calls_) calls.push_back(call);
    for (HeldCall* call : calls) {
      if (calls_.count(call) != 0) call->FinishOnce(grpc::Status::OK);
    }
  }

 private:
  class HeldCall final : public grpc::ServerGenericBidiReactor {
   public:
    HeldCall(HoldingServer* owner, const std::string& peer) : owner_(owner) {
      owner_->Add(this, peer);
      StartRead(&request_);
    }
    // OK comes with one (empty) response message, as a unary client needs.
    void FinishOnce(const grpc::Status& status) {
      if (finished_.exchange(true)) return;
      if (status.ok()) {
        StartWriteAndFinish(&response_, grpc::WriteOptions(), status);
      } else {
        Finish(status);
      }
    }
    void OnReadDone(bool) override {}
    void OnCancel() override {
      owner_->cancelled_.fetch_add(1);
      FinishOnce(grpc::Status::CANCELLED);
    }
    void OnDone() override {
      owner_->Remove(this);
      delete this;
    }

   private:
    HoldingServer* const owner_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_{EmptyMessage()};
    std::atomic<bool> finished_{false};
  };

  class Service final : public grpc::CallbackGenericService {
   public:
    explicit Service(HoldingServer* owner) : owner_(owner) {}
    grpc::ServerGenericBidiReactor* CreateReactor(
        grpc::GenericCallbackServerContext* context) override {
      return new HeldCall(owner_, context->peer());
    }

   private:
    HoldingServer* const owner_;
  };

  void Add(HeldCall* call, const std::string& peer) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    calls_[call] = true;
    peers_.push_back(peer);
    started_.fetch_add(1);
  }
  void Remove(HeldCall* call) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    calls_.erase(call);
  }

  Service service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::recursive_mutex mutex_;
  std::map<HeldCall*, bool> calls_;  // guarded by mutex_
  std::vector<std::string> peers_;   // guarded by mutex_
  std::atomic<int> started_{0};
  std::atomic<int> cancelled_{0};
};

// One call to kHoldMethod through a gRPC channel; its status arrives in
// the future when the server finishes or the call fails.
class PendingCall final {
 public:
  PendingCall(grpc::GenericStub& stub, seconds deadline) {
    context_.set_deadline(std::chrono::system_clock::now() + deadline);
    stub.UnaryCall(&context_, kHoldMethod, grpc::StubOptions(), &request_, &response_,
                   [this](grpc::Status status) { done_.set_value(std::move(status)); });
    result_ = done_.get_future();
  }
  // The status, or UNKNOWN "still running" if none came within `timeout`.
  grpc::Status Wait(milliseconds timeout = kPatience) {
    if (result_.wait_for(timeout) != std::future_status::ready) {
      context_.TryCancel();
      result_.wait();
      return grpc::Status(grpc::StatusCode::UNKNOWN, "still running");
    }
    return result_.get();
  }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_{EmptyMessage()};
  grpc::ByteBuffer response_;
  std::promise<grpc::Status> done_;
  std::future<grpc::Status> result_;
};

std::string Describe(const absl::StatusOr<Frame>& frame) {
  if (!frame.ok()) return frame.status().ToString();
  return "frame type " + std::to_string(frame->type) + " flags " + std::to_string(frame->flags) +
         " stream " + std::to_string(frame->stream_id);
}

class ConnectionLimitsTest : public ::testing::Test {
 protected:
  void StartServer(const ConnectionLimits& limits) {
    server_ = std::make_unique<HoldingServer>(limits);
    ASSERT_TRUE(server_->running());
  }

  // A raw connection past the preface, with the server's SETTINGS read
  // (and acknowledged, so the server enforces them).
  std::unique_ptr<RawHttp2Connection> Connect(Frame* server_settings = nullptr) {
    auto connection = RawHttp2Connection::Connect(server_->port());
    EXPECT_TRUE(connection.ok()) << connection.status();
    if (!connection.ok()) return nullptr;
    EXPECT_TRUE((*connection)->SendPrefaceAndSettings().ok());
    absl::StatusOr<Frame> settings = (*connection)->ReadUntil(RawHttp2Connection::kSettings, kPatience);
    EXPECT_TRUE(settings.ok()) << settings.status();
    if (settings.ok() && server_settings != nullptr) *server_settings = *settings;
    return *std::move(connection);
  }

  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                               grpc::InsecureChannelCredentials());
  }

  std::unique_ptr<HoldingServer> server_;
};

// What the other tests build on: the builder carries the limits to the
// wire. gRPC's own default advertises no stream cap at all.
TEST_F(ConnectionLimitsTest, AdvertisesTheStreamCapInItsSettings) {
  ConnectionLimits limits;
  limits.max_concurrent_streams = 7;
  StartServer(limits);
  Frame settings;
  auto connection = Connect(&settings);
  ASSERT_NE(connection, nullptr);
  const auto values = settings.SettingsValues();
  ASSERT_EQ(values.count(RawHttp2Connection::kSettingsMaxConcurrentStreams), 1u);
  EXPECT_EQ(values.at(RawHttp2Connection::kSettingsMaxConcurrentStreams), 7u);
}

TEST_F(ConnectionLimitsTest, DefaultsAreTheDocumentedOnes) {
  const ConnectionLimits limits;
  EXPECT_EQ(limits.max_idle, seconds(300));
  EXPECT_EQ(limits.max_age, seconds(1800));
  EXPECT_EQ(limits.max_age_grace, seconds(30));
  EXPECT_EQ(limits.min_ping_interval, seconds(60));
  EXPECT_EQ(limits.max_ping_strikes, 2);
  EXPECT_FALSE(limits.permit_pings_without_calls);
  EXPECT_EQ(limits.max_concurrent_streams, 100);
}

// A connection that sent only the preface and SETTINGS is closed once idle
// for max_idle: GOAWAY, then the socket. (gRPC 1.51 sends this GOAWAY with
// INTERNAL_ERROR and "enter idle"; a gRPC client just reconnects.)
TEST_F(ConnectionLimitsTest, ClosesAConnectionIdleForMaxIdle) {
  ConnectionLimits limits;
  limits.max_idle = milliseconds(300);
  StartServer(limits);
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);

  absl::StatusOr<Frame> goaway = connection->ReadUntil(RawHttp2Connection::kGoAway, kPatience);
  ASSERT_TRUE(goaway.ok()) << goaway.status();
  EXPECT_EQ(goaway->GoAwayErrorCode(), RawHttp2Connection::kInternalError);
  EXPECT_EQ(goaway->GoAwayDebugData(), "enter idle");
  EXPECT_TRUE(connection->WaitForClose(kPatience).ok());
}

// Idle means no call in flight: a connection that holds one stays open
// however long the call lasts, and the idle clock starts when it ends.
TEST_F(ConnectionLimitsTest, KeepsAConnectionWithACallInFlightPastMaxIdle) {
  ConnectionLimits limits;
  limits.max_idle = milliseconds(300);
  StartServer(limits);
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SendCallHeaders(1, kHoldMethod).ok());
  ASSERT_TRUE(server_->WaitForStarted(1));

  // Four times max_idle with the call in flight: no GOAWAY, still open.
  absl::StatusOr<Frame> early = connection->ReadUntil(RawHttp2Connection::kGoAway, milliseconds(1200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(early.status())) << Describe(early);

  server_->Release();
  absl::StatusOr<Frame> goaway = connection->ReadUntil(RawHttp2Connection::kGoAway, kPatience);
  ASSERT_TRUE(goaway.ok()) << goaway.status();
  EXPECT_EQ(goaway->GoAwayDebugData(), "enter idle");
  EXPECT_EQ(server_->cancelled(), 0);
}

// Past max_age the connection gets gRPC's graceful GOAWAY: first one that
// names no last stream (2^31-1: "stop opening streams"), then, once the
// client has answered the PING that follows it, the final one naming the
// last stream it took (1), both NO_ERROR. After the grace the connection is
// closed and the call still in flight is cancelled.
TEST_F(ConnectionLimitsTest, ClosesAConnectionAtMaxAgePlusGrace) {
  ConnectionLimits limits;
  limits.max_age = milliseconds(300);
  limits.max_age_grace = milliseconds(300);
  StartServer(limits);
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SendCallHeaders(1, kHoldMethod).ok());
  ASSERT_TRUE(server_->WaitForStarted(1));

  absl::StatusOr<Frame> first = connection->ReadUntil(RawHttp2Connection::kGoAway, kPatience);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->GoAwayErrorCode(), RawHttp2Connection::kNoError);
  EXPECT_EQ(first->GoAwayLastStreamId(), 0x7fffffffu);
  absl::StatusOr<Frame> final = connection->ReadUntil(RawHttp2Connection::kGoAway, kPatience);
  ASSERT_TRUE(final.ok()) << final.status();
  EXPECT_EQ(final->GoAwayErrorCode(), RawHttp2Connection::kNoError);
  EXPECT_EQ(final->GoAwayLastStreamId(), 1u);
  EXPECT_TRUE(connection->WaitForClose(kPatience).ok());
  EXPECT_TRUE(server_->WaitForCancelled(1));
}

// The rebalancing path as a gRPC client sees it: a call in flight when its
// connection reaches max_age finishes OK within the grace, while the
// channel sends the next call over a new connection.
TEST_F(ConnectionLimitsTest, LetsACallInFlightAtMaxAgeFinishWithinTheGrace) {
  ConnectionLimits limits;
  limits.max_age = milliseconds(300);
  limits.max_age_grace = seconds(30);
  StartServer(limits);
  grpc::GenericStub stub(Channel());

  PendingCall first(stub, seconds(30));
  ASSERT_TRUE(server_->WaitForStarted(1));
  // Past max_age plus its 10% jitter: the first connection has had its GOAWAY.
  std::this_thread::sleep_for(milliseconds(800));
  PendingCall second(stub, seconds(30));
  ASSERT_TRUE(server_->WaitForStarted(2));
  const std::vector<std::string> peers = server_->peers();
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_NE(peers[0], peers[1]) << "the second call should use a new connection";

  server_->Release();
  const grpc::Status first_status = first.Wait();
  EXPECT_EQ(first_status.error_code(), grpc::StatusCode::OK) << first_status.error_message();
  const grpc::Status second_status = second.Wait();
  EXPECT_EQ(second_status.error_code(), grpc::StatusCode::OK) << second_status.error_message();
  EXPECT_EQ(server_->cancelled(), 0);
}

// A call still in flight when the grace ends is cancelled: its client sees
// UNAVAILABLE (the connection went away), the handler sees the cancel.
TEST_F(ConnectionLimitsTest, CancelsACallStillInFlightWhenTheGraceEnds) {
  ConnectionLimits limits;
  limits.max_age = milliseconds(300);
  limits.max_age_grace = milliseconds(300);
  StartServer(limits);
  grpc::GenericStub stub(Channel());

  PendingCall call(stub, seconds(30));
  ASSERT_TRUE(server_->WaitForStarted(1));
  const grpc::Status status = call.Wait();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_TRUE(server_->WaitForCancelled(1));
}

// Sends `count` PINGs back to back and reads their ACKs; false (with the
// frame that came instead) as soon as something else than a PING ACK does.
bool PingAndReadAcks(RawHttp2Connection& connection, int count, uint64_t first_opaque,
                     std::string* instead) {
  for (int i = 0; i < count; ++i) {
    if (!connection.SendPing(first_opaque + i).ok()) {
      *instead = "send failed";
      return false;
    }
    absl::StatusOr<Frame> frame = connection.ReadFrame(kPatience);
    // Flow control and the ACK of our SETTINGS may still be on the way.
    while (frame.ok() && (frame->type == RawHttp2Connection::kWindowUpdate ||
                          frame->type == RawHttp2Connection::kSettings)) {
      frame = connection.ReadFrame(kPatience);
    }
    if (!frame.ok() || frame->type != RawHttp2Connection::kPing ||
        (frame->flags & RawHttp2Connection::kFlagAck) == 0) {
      *instead = Describe(frame);
      return false;
    }
  }
  return true;
}

// With the defaults (a PING a minute, 2 strikes), a client that floods a
// connection with PINGs during a call is cut off with GOAWAY
// ENHANCE_YOUR_CALM "too_many_pings", and its call ends. The first PINGs
// are answered: the first is free, and a server write (its WINDOW_UPDATEs)
// forgives the strikes so far, so the exact count depends on what the
// server wrote meanwhile (DisconnectsAClientThatPingsAnIdleConnection
// pins it down where nothing is written).
TEST_F(ConnectionLimitsTest, DisconnectsAClientThatPingsTooOften) {
  StartServer(ConnectionLimits{});
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SendCallHeaders(1, kHoldMethod).ok());
  ASSERT_TRUE(server_->WaitForStarted(1));

  constexpr int kPings = 10;
  for (int i = 0; i < kPings; ++i) {
    // The server may close before the last ones are sent.
    if (!connection->SendPing(100 + i).ok()) break;
  }
  int acks = 0;
  absl::StatusOr<Frame> frame = connection->ReadFrame(kPatience);
  for (; frame.ok() && frame->type != RawHttp2Connection::kGoAway;
       frame = connection->ReadFrame(kPatience)) {
    if (frame->type == RawHttp2Connection::kPing) ++acks;
  }
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->GoAwayErrorCode(), RawHttp2Connection::kEnhanceYourCalm);
  EXPECT_EQ(frame->GoAwayDebugData(), "too_many_pings");
  // gRPC answers every PING it has read before it sends the GOAWAY, so when
  // the ten arrive in one read all ten are acknowledged: only the lower
  // bound is fixed.
  EXPECT_GE(acks, 1 + ConnectionLimits{}.max_ping_strikes);
  EXPECT_LE(acks, kPings);
  EXPECT_TRUE(connection->WaitForClose(kPatience).ok());
  EXPECT_TRUE(server_->WaitForCancelled(1));
}

// PINGs spaced by more than min_ping_interval while a call is in flight
// are keepalive, not abuse: all answered, no GOAWAY.
TEST_F(ConnectionLimitsTest, AnswersPingsAtTheAllowedRateDuringACall) {
  ConnectionLimits limits;
  limits.min_ping_interval = milliseconds(200);
  StartServer(limits);
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SendCallHeaders(1, kHoldMethod).ok());
  ASSERT_TRUE(server_->WaitForStarted(1));

  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(milliseconds(300));
    std::string instead;
    ASSERT_TRUE(PingAndReadAcks(*connection, 1, 10 + i, &instead)) << "ping " << i << ": " << instead;
  }
  EXPECT_EQ(server_->cancelled(), 0);
}

// The same PINGs on a connection with no call in flight are strikes
// (permit_pings_without_calls is off: pings must not keep an idle
// connection alive). The first is free, the next two are strikes one and
// two, the fourth is the third strike and ends the connection.
TEST_F(ConnectionLimitsTest, DisconnectsAClientThatPingsAnIdleConnection) {
  ConnectionLimits limits;
  limits.min_ping_interval = milliseconds(200);
  StartServer(limits);
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);

  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(milliseconds(300));
    std::string instead;
    ASSERT_TRUE(PingAndReadAcks(*connection, 1, 20 + i, &instead)) << "ping " << i << ": " << instead;
  }
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(connection->SendPing(23).ok());
  absl::StatusOr<Frame> goaway = connection->ReadUntil(RawHttp2Connection::kGoAway, kPatience);
  ASSERT_TRUE(goaway.ok()) << goaway.status();
  EXPECT_EQ(goaway->GoAwayErrorCode(), RawHttp2Connection::kEnhanceYourCalm);
  EXPECT_EQ(goaway->GoAwayDebugData(), "too_many_pings");
}

// With a cap of 2, a gRPC client holds its third call until one of the
// two on the connection ends; nothing fails.
TEST_F(ConnectionLimitsTest, GrpcClientHoldsACallBeyondTheStreamCap) {
  ConnectionLimits limits;
  limits.max_concurrent_streams = 2;
  StartServer(limits);
  grpc::GenericStub stub(Channel());

  PendingCall first(stub, seconds(30));
  PendingCall second(stub, seconds(30));
  ASSERT_TRUE(server_->WaitForStarted(2));
  PendingCall third(stub, seconds(30));
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(server_->started(), 2) << "the third call should wait for a free stream";

  server_->Release();
  ASSERT_TRUE(server_->WaitForStarted(3));
  const std::vector<std::string> peers = server_->peers();
  ASSERT_EQ(peers.size(), 3u);
  EXPECT_EQ(peers[2], peers[0]) << "the third call should reuse the connection";
  server_->Release();
  for (PendingCall* call : {&first, &second, &third}) {
    const grpc::Status status = call->Wait();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::OK) << status.error_message();
  }
}

// A client that ignores the cap (after acknowledging the SETTINGS that
// set it) loses the whole connection in gRPC 1.51: the stream past the cap
// is a connection error ("Max stream count exceeded"), so the calls within
// the cap end too (UNAVAILABLE trailers, then the socket closes) and the
// extra one never reaches a handler.
TEST_F(ConnectionLimitsTest, ClosesTheConnectionOfAClientThatIgnoresTheStreamCap) {
  ConnectionLimits limits;
  limits.max_concurrent_streams = 2;
  StartServer(limits);
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SendCallHeaders(1, kHoldMethod).ok());
  ASSERT_TRUE(connection->SendCallHeaders(3, kHoldMethod).ok());
  ASSERT_TRUE(server_->WaitForStarted(2));
  ASSERT_TRUE(connection->SendCallHeaders(5, kHoldMethod).ok());

  std::set<uint32_t> ended;  // streams that got trailers (HEADERS with END_STREAM)
  absl::StatusOr<Frame> frame = connection->ReadFrame(kPatience);
  for (; frame.ok(); frame = connection->ReadFrame(kPatience)) {
    EXPECT_NE(frame->type, RawHttp2Connection::kGoAway) << frame->GoAwayDebugData();
    if (frame->type == RawHttp2Connection::kHeaders &&
        (frame->flags & RawHttp2Connection::kFlagEndStream) != 0) {
      ended.insert(frame->stream_id);
    }
  }
  EXPECT_TRUE(absl::IsUnavailable(frame.status())) << frame.status();
  EXPECT_EQ(ended, (std::set<uint32_t>{1, 3}));
  EXPECT_TRUE(server_->WaitForCancelled(2));
  EXPECT_EQ(server_->started(), 2);
}

}  // namespace
}  // namespace tollgate
