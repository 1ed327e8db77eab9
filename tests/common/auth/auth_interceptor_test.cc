// The interceptor and the handler guard together, end to end (SPEC section
// 6): a real grpc::Server on 127.0.0.1:0 with the CallPipeline serves
// the test-only PolicyTestService through the callback API, and a real
// client stub calls it. Each refusal is checked for its exact status, its
// `www-authenticate` trailer, the absence of a response message (counted by
// a client interceptor) and a handler that never got past its guard.
#include "common/server/call_pipeline.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/client_interceptor.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/auth/admission.h"
#include "common/keys/key_source.h"
#include "tests/common/auth/test_tokens.h"
#include "tests/support/fake_clock.h"
#include "tests/support/test_keys.h"
#include "tollgate/testing/policy_test.grpc.pb.h"

namespace tollgate {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tollgate::testing::GuardedRequest;
using tollgate::testing::GuardedResponse;
using tollgate::testing::OpenRequest;
using tollgate::testing::OpenResponse;
using tollgate::testing::PolicyTestService;
using tollgate::testing::UnannotatedRequest;
using tollgate::testing::UnannotatedResponse;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kTtl = 900;
constexpr int64_t kLeeway = 30;
constexpr int64_t kValue = 41;  // every request; an answer carries kValue + 1

constexpr char kMissingMessage[] =
    "authorization metadata is required: send 'authorization: Bearer <token>'";
constexpr char kMalformedMessage[] =
    "invalid authorization format: use 'authorization: Bearer <token>'";

std::string Challenge(const std::string& description) {
  return "Bearer error=\"invalid_token\", error_description=\"" + description + "\"";
}

// Waits up to `timeout` for `condition`; polling, because what it waits for
// happens on gRPC's threads.
template <typename Condition>
bool Eventually(Condition condition, milliseconds timeout = milliseconds(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// ---- The server side ----

// PolicyTestService with the guard of common/auth/admission.h in every
// handler, counting the calls that got past it. With `skip_guard`, Guarded
// and Unannotated answer OK with a message without asking: the interceptor's
// cancel backstop must still keep that message from the client.
class PolicyTestServiceImpl final : public PolicyTestService::CallbackService {
 public:
  explicit PolicyTestServiceImpl(bool skip_guard) : skip_guard_(skip_guard) {}

  grpc::ServerUnaryReactor* Open(grpc::CallbackServerContext* context, const OpenRequest* request,
                                 OpenResponse* response) override {
    return Handle(context, request->value(), response, /*guard=*/true, open_runs_);
  }
  grpc::ServerUnaryReactor* Guarded(grpc::CallbackServerContext* context,
                                    const GuardedRequest* request,
                                    GuardedResponse* response) override {
    return Handle(context, request->value(), response, !skip_guard_, guarded_runs_);
  }
  grpc::ServerUnaryReactor* Unannotated(grpc::CallbackServerContext* context,
                                        const UnannotatedRequest* request,
                                        UnannotatedResponse* response) override {
    return Handle(context, request->value(), response, !skip_guard_, unannotated_runs_);
  }

  int open_runs() const { return open_runs_.load(); }
  int guarded_runs() const { return guarded_runs_.load(); }
  int unannotated_runs() const { return unannotated_runs_.load(); }
  // The subject the handler saw for the call with this request value
  // ("<none>" for an admitted anonymous call).
  std::optional<std::string> CallerOf(int64_t value) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = callers_.find(value);
    if (it == callers_.end()) return std::nullopt;
    return it->second;
  }

 private:
  template <typename Response>
  grpc::ServerUnaryReactor* Handle(grpc::CallbackServerContext* context, int64_t value,
                                   Response* response, bool guard, std::atomic<int>& runs) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    std::string caller = "<unguarded>";
    if (guard) {
      // THE GUARD, exactly as admission.h prescribes.
      Admission admission = AdmissionOf(context);
      if (!admission.admitted()) {
        reactor->Finish(admission.rejection());
        return reactor;
      }
      caller = admission.caller() ? admission.caller()->subject() : "<none>";
    }
    // "Business logic": count, remember who called, answer.
    runs.fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      callers_[value] = caller;
    }
    response->set_value(value + 1);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  const bool skip_guard_;
  std::atomic<int> open_runs_{0};
  std::atomic<int> guarded_runs_{0};
  std::atomic<int> unannotated_runs_{0};
  mutable std::mutex mutex_;
  std::map<int64_t, std::string> callers_;
};

// A KeySource that answers RefreshForUnknownKid from its own thread after
// `delay`, optionally installing `next` first (a key rotation the fetch
// discovered). Counts the requests.
class DeferringKeySource final : public KeySource {
 public:
  DeferringKeySource(JwkSet keys, milliseconds delay, std::optional<JwkSet> next = std::nullopt)
      : keys_(std::make_shared<const JwkSet>(std::move(keys))), delay_(delay), next_(std::move(next)) {}
  ~DeferringKeySource() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& thread : threads) thread.join();
  }

  std::shared_ptr<const JwkSet> Current() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return keys_;
  }
  void RefreshForUnknownKid(std::function<void()> done) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_;
    threads_.emplace_back([this, done = std::move(done)] {
      std::this_thread::sleep_for(delay_);
      bool changed = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (next_.has_value()) keys_ = std::make_shared<const JwkSet>(*next_);
        changed = next_.has_value();
      }
      if (changed) KeysChanged();
      answered_.fetch_add(1);  // before done(): the call may end inside it
      done();
    });
  }

  int requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  // Requests whose `done` has been called (or is running).
  int answered() const { return answered_.load(); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const JwkSet> keys_;
  const milliseconds delay_;
  const std::optional<JwkSet> next_;
  int requests_ = 0;
  std::atomic<int> answered_{0};
  std::vector<std::thread> threads_;
};

// ---- The client side ----

// Counts response messages that actually reached the client: a
// POST_RECV_MESSAGE hook with a message (gRPC reports a missing message as a
// null GetRecvMessage()).
class ResponseCounter final : public grpc::experimental::Interceptor {
 public:
  explicit ResponseCounter(std::atomic<int>* received) : received_(received) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      received_->fetch_add(1);
    }
    methods->Proceed();
  }

 private:
  std::atomic<int>* received_;
};

class ResponseCounterFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ResponseCounterFactory(std::atomic<int>* received) : received_(received) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new ResponseCounter(received_);
  }

 private:
  std::atomic<int>* received_;
};

// What one call looked like from the client.
struct CallResult {
  grpc::Status status;
  int64_t value = 0;      // the response's value (0 when none was parsed)
  int messages = 0;       // response messages received
  std::vector<std::string> challenges;  // every `www-authenticate` trailer
};

// How the server installs the interceptor. Every test runs both ways.
enum class InstallPath {
  // InstallCallPipeline: ServerCallContext, and an admitted call is
  // decided while its interceptors are created and gets none.
  kInstallCallPipeline,
  // Only the CallPipeline factory, on gRPC's own contexts: every call gets
  // an interceptor of its own, and verdicts go through the registry (what a
  // sync-API server gets).
  kFactoryOnly,
};

std::string PathName(const ::testing::TestParamInfo<InstallPath>& info) {
  return info.param == InstallPath::kInstallCallPipeline ? "InstallCallPipeline"
                                                            : "FactoryOnly";
}

class AuthInterceptorTest : public ::testing::TestWithParam<InstallPath> {
 protected:
  static void SetUpTestSuite() {
    signing_key_ = new Jwk(tollgate::testing::GenerateKey(JwsAlgorithm::kES256));
    rotated_key_ = new Jwk(tollgate::testing::GenerateKey(JwsAlgorithm::kES256));
    grpc::EnableDefaultHealthCheckService(true);
  }
  static void TearDownTestSuite() {
    delete signing_key_;
    delete rotated_key_;
  }

  AuthInterceptorTest() : minter_(*signing_key_, AccessTokenOptions{"tollgate", "tollgate", kTtl}) {}

  void TearDown() override { StopServer(); }

  enum class Handlers { kGuarded, kSkipGuard };
  enum class Interception { kInstalled, kNone };

  // `keys` defaults to a StaticKeySource holding signing_key_.
  void StartServer(Handlers handlers = Handlers::kGuarded,
                   Interception interception = Interception::kInstalled,
                   std::unique_ptr<KeySource> keys = nullptr) {
    keys_ = keys ? std::move(keys)
                 : std::make_unique<StaticKeySource>(*JwkSet::FromKeys({*signing_key_}));
    auto policy = AccessPolicy::FromServices({"tollgate.testing.PolicyTestService"});
    ASSERT_TRUE(policy.ok()) << policy.status();
    authenticator_ = std::make_unique<BearerAuthenticator>(
        *std::move(policy),
        AccessTokenVerifier(AccessTokenVerifierOptions{"tollgate", "tollgate", kLeeway}), *keys_,
        clock_, BearerAuthenticator::Options{});
    service_ = std::make_unique<PolicyTestServiceImpl>(handlers == Handlers::kSkipGuard);

    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    factory_ = nullptr;
    if (interception == Interception::kInstalled) {
      if (GetParam() == InstallPath::kInstallCallPipeline) {
        factory_ = &InstallCallPipeline(builder, PipelineOptions());
      } else {
        auto factory = std::make_unique<CallPipeline>(PipelineOptions());
        factory_ = factory.get();
        std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
        factories.push_back(std::move(factory));
        builder.experimental().SetInterceptorCreators(std::move(factories));
      }
    }
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);

    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> counters;
    counters.push_back(std::make_unique<ResponseCounterFactory>(&messages_received_));
    channel_ = grpc::experimental::CreateCustomChannelWithInterceptors(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(),
        grpc::ChannelArguments(), std::move(counters));
    stub_ = PolicyTestService::NewStub(channel_);
  }

  // The auth layer alone; the test service counts as reporting its
  // statuses, so its admitted calls take the fast path.
  CallPipelineOptions PipelineOptions() const {
    return CallPipelineOptions{authenticator_.get(), {}, {"tollgate.testing.PolicyTestService"}};
  }

  DeferringKeySource& StartServerWithKeys(std::unique_ptr<DeferringKeySource> keys) {
    DeferringKeySource& held = *keys;
    StartServer(Handlers::kGuarded, Interception::kInstalled, std::move(keys));
    return held;
  }

  void StopServer() {
    if (server_ == nullptr) return;
    server_->Shutdown();
    server_.reset();
  }

  template <typename Request, typename Response, typename Rpc>
  CallResult Call(Rpc rpc, const std::vector<std::string>& authorization) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    for (const std::string& value : authorization) context.AddMetadata("authorization", value);
    Request request;
    request.set_value(kValue);
    Response response;
    const int before = messages_received_.load();
    CallResult result;
    result.status = rpc(&context, request, &response);
    result.messages = messages_received_.load() - before;
    result.value = response.value();
    auto [begin, end] = context.GetServerTrailingMetadata().equal_range("www-authenticate");
    for (auto it = begin; it != end; ++it) {
      result.challenges.emplace_back(it->second.data(), it->second.size());
    }
    return result;
  }

  CallResult CallOpen(const std::vector<std::string>& authorization = {}) {
    return Call<OpenRequest, OpenResponse>(
        [this](grpc::ClientContext* c, const OpenRequest& q, OpenResponse* r) {
          return stub_->Open(c, q, r);
        },
        authorization);
  }
  CallResult CallGuarded(const std::vector<std::string>& authorization = {}) {
    return Call<GuardedRequest, GuardedResponse>(
        [this](grpc::ClientContext* c, const GuardedRequest& q, GuardedResponse* r) {
          return stub_->Guarded(c, q, r);
        },
        authorization);
  }
  CallResult CallUnannotated(const std::vector<std::string>& authorization = {}) {
    return Call<UnannotatedRequest, UnannotatedResponse>(
        [this](grpc::ClientContext* c, const UnannotatedRequest& q, UnannotatedResponse* r) {
          return stub_->Unannotated(c, q, r);
        },
        authorization);
  }

  std::string BearerFor(std::vector<std::string> roles, std::string subject = "user-1") {
    return "Bearer " + minter_.Mint(std::move(roles), kNow, std::move(subject));
  }
  std::string BearerWithRotatedKey() {
    tollgate::testing::TokenMinter rotated(*rotated_key_);
    return "Bearer " + rotated.Mint({"user"}, kNow);
  }

  // A refused call: exact status, exact challenges, no message, no business
  // logic.
  void ExpectRefused(const CallResult& result, grpc::StatusCode code, const std::string& message,
                     const std::vector<std::string>& challenges) {
    EXPECT_EQ(result.status.error_code(), code);
    EXPECT_EQ(result.status.error_message(), message);
    EXPECT_EQ(result.challenges, challenges);
    EXPECT_EQ(result.messages, 0);
    EXPECT_EQ(result.value, 0);
    EXPECT_EQ(service_->open_runs() + service_->guarded_runs() + service_->unannotated_runs(), 0);
  }

  void ExpectAnswered(const CallResult& result) {
    EXPECT_TRUE(result.status.ok()) << result.status.error_code() << " "
                                    << result.status.error_message();
    EXPECT_EQ(result.messages, 1);
    EXPECT_EQ(result.value, kValue + 1);
    EXPECT_TRUE(result.challenges.empty());
  }

  static Jwk* signing_key_;
  static Jwk* rotated_key_;

  tollgate::testing::FakeClock clock_{kNow};
  tollgate::testing::TokenMinter minter_;
  std::atomic<int> messages_received_{0};
  // Destroyed in reverse order: the server goes before what it uses.
  std::unique_ptr<KeySource> keys_;
  std::unique_ptr<BearerAuthenticator> authenticator_;
  std::unique_ptr<PolicyTestServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  const CallPipeline* factory_ = nullptr;  // owned by server_
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<PolicyTestService::Stub> stub_;
};

Jwk* AuthInterceptorTest::signing_key_ = nullptr;
Jwk* AuthInterceptorTest::rotated_key_ = nullptr;

// ---- Admitted calls ----

TEST_P(AuthInterceptorTest, AdmitsGuardedCallAndHandsTheIdentityToTheHandler) {
  StartServer();
  ExpectAnswered(CallGuarded({BearerFor({"user"}, "user-42")}));
  EXPECT_EQ(service_->guarded_runs(), 1);
  EXPECT_EQ(service_->CallerOf(kValue), "user-42");
}

TEST_P(AuthInterceptorTest, AdmitsOpenCallWithoutTokenAsAnonymous) {
  StartServer();
  ExpectAnswered(CallOpen());
  EXPECT_EQ(service_->open_runs(), 1);
  EXPECT_EQ(service_->CallerOf(kValue), "<none>");
}

TEST_P(AuthInterceptorTest, AdmitsOpenCallWithGarbageTokenAsAnonymous) {
  StartServer();
  ExpectAnswered(CallOpen({"Bearer garbage"}));
  EXPECT_EQ(service_->open_runs(), 1);
  EXPECT_EQ(service_->CallerOf(kValue), "<none>");
}

TEST_P(AuthInterceptorTest, AdmitsOpenCallWithValidTokenWithItsIdentity) {
  StartServer();
  ExpectAnswered(CallOpen({BearerFor({}, "user-7")}));
  EXPECT_EQ(service_->CallerOf(kValue), "user-7");
}

TEST_P(AuthInterceptorTest, HealthCheckAnswersWithoutToken) {
  StartServer();
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  const std::string empty;  // HealthCheckRequest{service: ""}
  grpc::Slice request_slice(empty);
  grpc::ByteBuffer request(&request_slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&done](grpc::Status status) { done.set_value(status); });
  std::future<grpc::Status> status = done.get_future();
  ASSERT_EQ(status.wait_for(seconds(10)), std::future_status::ready);
  const grpc::Status result = status.get();
  ASSERT_TRUE(result.ok()) << result.error_code() << " " << result.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // HealthCheckResponse{status: SERVING}
}

// gRPC serves a method that no service registered through a generic
// callback handler, with a context of its own kind; the server must refuse
// the call and release that context cleanly when it stops (here, before
// TearDown).
TEST_P(AuthInterceptorTest, RefusesAnUnregisteredMethodAndStopsCleanly) {
  StartServer();
  grpc::GenericStub generic(channel_);
  for (const bool with_token : {false, true}) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    if (with_token) context.AddMetadata("authorization", BearerFor({"admin"}, "user-1"));
    grpc::Slice empty_message("", 0);
    grpc::ByteBuffer request(&empty_message, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, "/tollgate.testing.PolicyTestService/NotAMethod",
                      grpc::StubOptions(), &request, &response,
                      [&done](grpc::Status status) { done.set_value(status); });
    std::future<grpc::Status> status = done.get_future();
    ASSERT_EQ(status.wait_for(seconds(10)), std::future_status::ready);
    const grpc::Status result = status.get();
    EXPECT_EQ(result.error_code(), grpc::StatusCode::PERMISSION_DENIED) << with_token;
    EXPECT_EQ(result.error_message(),
              "method tollgate.testing.PolicyTestService/NotAMethod is not in the access policy");
  }
  StopServer();
}

TEST_P(AuthInterceptorTest, AdmittedCallsRunWithoutAnInterceptorOnAdmittingContexts) {
  StartServer();
  // A refusal always gets its interceptor: it must change the status.
  tollgate::testing::TokenMinter forger(rotated_key_->WithKid(signing_key_->kid()));
  ExpectRefused(CallGuarded({"Bearer " + forger.Mint({"user"}, kNow)}),
                grpc::StatusCode::UNAUTHENTICATED, "invalid token: bad signature",
                {Challenge("invalid token: bad signature")});
  for (int i = 0; i < 3; ++i) ExpectAnswered(CallGuarded({BearerFor({"user"}, "user-42")}));
  ASSERT_NE(factory_, nullptr);
  EXPECT_EQ(factory_->interceptors_created(),
            GetParam() == InstallPath::kInstallCallPipeline ? 1u : 4u);
  EXPECT_EQ(service_->guarded_runs(), 3);
}

// ---- Refused calls ----

TEST_P(AuthInterceptorTest, RefusesGuardedCallWithoutAuthorization) {
  StartServer();
  ExpectRefused(CallGuarded(), grpc::StatusCode::UNAUTHENTICATED, kMissingMessage,
                {Challenge(kMissingMessage)});
}

TEST_P(AuthInterceptorTest, RefusesGuardedCallWithBasicScheme) {
  StartServer();
  ExpectRefused(CallGuarded({"Basic dXNlcjpwYXNz"}), grpc::StatusCode::UNAUTHENTICATED,
                kMalformedMessage, {Challenge(kMalformedMessage)});
}

TEST_P(AuthInterceptorTest, RefusesGuardedCallWithTwoAuthorizationValues) {
  StartServer();
  const std::string bearer = BearerFor({"user"});
  ExpectRefused(CallGuarded({bearer, bearer}), grpc::StatusCode::UNAUTHENTICATED,
                kMalformedMessage, {Challenge(kMalformedMessage)});
}

TEST_P(AuthInterceptorTest, RefusesGuardedCallWithBadSignature) {
  StartServer();
  tollgate::testing::TokenMinter forger(rotated_key_->WithKid(signing_key_->kid()));
  ExpectRefused(CallGuarded({"Bearer " + forger.Mint({"user"}, kNow)}),
                grpc::StatusCode::UNAUTHENTICATED, "invalid token: bad signature",
                {Challenge("invalid token: bad signature")});
}

TEST_P(AuthInterceptorTest, RefusesGuardedCallWithExpiredToken) {
  StartServer();
  const std::string bearer = BearerFor({"user"});
  clock_.Set(kNow + kTtl + kLeeway);
  ExpectRefused(CallGuarded({bearer}), grpc::StatusCode::UNAUTHENTICATED, "token expired",
                {Challenge("token expired")});
}

TEST_P(AuthInterceptorTest, RefusesGuardedCallWithoutTheRoleAsPermissionDenied) {
  StartServer();
  const std::string message = "method tollgate.testing.PolicyTestService/Guarded requires role 'user'";
  ExpectRefused(CallGuarded({BearerFor({"admin"})}), grpc::StatusCode::PERMISSION_DENIED, message,
                {"Bearer error=\"insufficient_scope\", error_description=\"" + message + "\""});
}

TEST_P(AuthInterceptorTest, RefusesMethodWithoutOptionEvenWithValidToken) {
  StartServer();
  ExpectRefused(CallUnannotated({BearerFor({"user", "admin"})}),
                grpc::StatusCode::PERMISSION_DENIED,
                "method tollgate.testing.PolicyTestService/Unannotated is not in the access policy",
                {});
}

TEST_P(AuthInterceptorTest, RefusesMethodWithoutOptionWithoutToken) {
  StartServer();
  ExpectRefused(CallUnannotated(), grpc::StatusCode::PERMISSION_DENIED,
                "method tollgate.testing.PolicyTestService/Unannotated is not in the access policy",
                {});
}

TEST_P(AuthInterceptorTest, RefusedCallLeavesNextCallOnTheSameChannelUnaffected) {
  StartServer();
  ExpectRefused(CallGuarded(), grpc::StatusCode::UNAUTHENTICATED, kMissingMessage,
                {Challenge(kMissingMessage)});
  ExpectAnswered(CallGuarded({BearerFor({"user"})}));
  EXPECT_EQ(service_->guarded_runs(), 1);
}

// ---- The backstop: a handler that forgot its guard ----

TEST_P(AuthInterceptorTest, CancelsTheAnswerOfAHandlerThatSkipsItsGuard) {
  StartServer(Handlers::kSkipGuard);
  const CallResult result = CallGuarded();
  // The business logic did run (that is the handler's bug) ...
  EXPECT_EQ(service_->guarded_runs(), 1);
  // ... but its answer never left: the client sees the denial and no body.
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(result.status.error_message(), kMissingMessage);
  EXPECT_EQ(result.messages, 0);
  EXPECT_EQ(result.value, 0);
}

TEST_P(AuthInterceptorTest, CancelsTheAnswerOfAnUnguardedMethodOutsideThePolicy) {
  StartServer(Handlers::kSkipGuard);
  const CallResult result = CallUnannotated({BearerFor({"user"})});
  EXPECT_EQ(service_->unannotated_runs(), 1);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(result.status.error_message(),
            "method tollgate.testing.PolicyTestService/Unannotated is not in the access policy");
  EXPECT_EQ(result.messages, 0);
  EXPECT_EQ(result.value, 0);
}

TEST_P(AuthInterceptorTest, UnguardedHandlerStillAnswersAdmittedCalls) {
  StartServer(Handlers::kSkipGuard);
  ExpectAnswered(CallGuarded({BearerFor({"user"})}));
}

// ---- The guard without an interceptor ----

TEST_P(AuthInterceptorTest, GuardRefusesEveryCallOnAServerWithoutTheInterceptor) {
  StartServer(Handlers::kGuarded, Interception::kNone);
  const std::string message = "call was not admitted by the auth interceptor";
  ExpectRefused(CallOpen(), grpc::StatusCode::PERMISSION_DENIED, message, {});
  ExpectRefused(CallGuarded({BearerFor({"user"})}), grpc::StatusCode::PERMISSION_DENIED, message,
                {});
}

// ---- Unknown kid: the call parks until the KeySource answers ----

TEST_P(AuthInterceptorTest, AdmitsTokenOfARotatedKeyOnceTheKeySourceFetchedIt) {
  DeferringKeySource& keys = StartServerWithKeys(std::make_unique<DeferringKeySource>(
      *JwkSet::FromKeys({*signing_key_}), milliseconds(20),
      *JwkSet::FromKeys({*signing_key_, *rotated_key_})));
  ExpectAnswered(CallGuarded({BearerWithRotatedKey()}));
  EXPECT_EQ(keys.requests(), 1);
  EXPECT_EQ(service_->guarded_runs(), 1);
}

TEST_P(AuthInterceptorTest, RefusesUnknownKidWhenTheKeySourceHasNothingNew) {
  DeferringKeySource& keys = StartServerWithKeys(
      std::make_unique<DeferringKeySource>(*JwkSet::FromKeys({*signing_key_}), milliseconds(20)));
  ExpectRefused(CallGuarded({BearerWithRotatedKey()}), grpc::StatusCode::UNAUTHENTICATED,
                "invalid token: unknown key id", {Challenge("invalid token: unknown key id")});
  EXPECT_EQ(keys.requests(), 1);
}

TEST_P(AuthInterceptorTest, ShutdownCompletesWithCallsParkedOnUnknownKid) {
  constexpr int kCalls = 3;
  DeferringKeySource& keys = StartServerWithKeys(
      std::make_unique<DeferringKeySource>(*JwkSet::FromKeys({*signing_key_}), milliseconds(1000)));
  const std::string bearer = BearerWithRotatedKey();
  std::vector<std::future<CallResult>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [this, &bearer] { return CallGuarded({bearer}); }));
  }
  ASSERT_TRUE(Eventually([&] { return keys.requests() == kCalls; }));
  ASSERT_EQ(keys.answered(), 0);  // all parked when shutdown begins

  std::future<void> shutdown = std::async(std::launch::async, [this] { server_->Shutdown(); });
  if (shutdown.wait_for(seconds(10)) != std::future_status::ready) {
    std::cerr << "server Shutdown() hung with calls parked on an unknown kid\n";
    std::abort();  // a hang would only end in the ctest timeout
  }
  EXPECT_EQ(keys.answered(), kCalls);
  for (auto& call : calls) {
    ASSERT_EQ(call.wait_for(seconds(10)), std::future_status::ready);
    const CallResult result = call.get();
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(result.status.error_message(), "invalid token: unknown key id");
    EXPECT_EQ(result.messages, 0);
  }
  EXPECT_EQ(service_->guarded_runs(), 0);
}

TEST_P(AuthInterceptorTest, ShutdownWithDeadlineCompletesWithCallsParkedOnUnknownKid) {
  constexpr int kCalls = 3;
  DeferringKeySource& keys = StartServerWithKeys(
      std::make_unique<DeferringKeySource>(*JwkSet::FromKeys({*signing_key_}), milliseconds(1000)));
  const std::string bearer = BearerWithRotatedKey();
  std::vector<std::future<CallResult>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [this, &bearer] { return CallGuarded({bearer}); }));
  }
  ASSERT_TRUE(Eventually([&] { return keys.requests() == kCalls; }));

  // A deadline already past: gRPC cancels the calls at once, and the parked
  // interceptors proceed later, on the KeySource's thread.
  std::future<void> shutdown = std::async(std::launch::async, [this] {
    server_->Shutdown(std::chrono::system_clock::now());
  });
  if (shutdown.wait_for(seconds(10)) != std::future_status::ready) {
    std::cerr << "server Shutdown(deadline) hung with calls parked on an unknown kid\n";
    std::abort();
  }
  // Shutdown still waited for the parked interceptors to proceed.
  EXPECT_EQ(keys.answered(), kCalls);
  for (auto& call : calls) {
    ASSERT_EQ(call.wait_for(seconds(10)), std::future_status::ready);
    const CallResult result = call.get();
    // gRPC's own cancellation ("Cancelling all calls"), not a verdict of
    // ours: only the code is asserted.
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(result.messages, 0);
  }
  EXPECT_EQ(service_->guarded_runs(), 0);
}

// ---- Concurrency: each call's guard sees its own verdict ----

TEST_P(AuthInterceptorTest, ConcurrentCallsEachSeeTheirOwnIdentity) {
  StartServer();
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 25;
  std::vector<std::string> bearers;
  for (int t = 0; t < kThreads; ++t) bearers.push_back(BearerFor({"user"}, "user-" + std::to_string(t)));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        const int64_t value = t * 1000 + i;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + seconds(10));
        GuardedRequest request;
        request.set_value(value);
        GuardedResponse response;
        // Odd threads call without a token: refused, interleaved with the
        // admitted calls of the even ones.
        if (t % 2 == 0) context.AddMetadata("authorization", bearers[t]);
        const grpc::Status status = stub_->Guarded(&context, request, &response);
        const bool expect_ok = t % 2 == 0;
        if (status.ok() != expect_ok || (expect_ok && response.value() != value + 1)) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(service_->guarded_runs(), kThreads / 2 * kCallsPerThread);
  for (int t = 0; t < kThreads; t += 2) {
    for (int i = 0; i < kCallsPerThread; ++i) {
      EXPECT_EQ(service_->CallerOf(t * 1000 + i), "user-" + std::to_string(t));
    }
  }
  for (int t = 1; t < kThreads; t += 2) {
    EXPECT_EQ(service_->CallerOf(t * 1000), std::nullopt);
  }
}

INSTANTIATE_TEST_SUITE_P(BothPaths, AuthInterceptorTest,
                         ::testing::Values(InstallPath::kInstallCallPipeline,
                                           InstallPath::kFactoryOnly),
                         PathName);

}  // namespace
}  // namespace tollgate
