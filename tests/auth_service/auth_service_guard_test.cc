// Every AuthService handler begins with the admission guard (AdmissionOf),
// the public ones too, so that a method which ever loses its access option
// refuses instead of running. This test proves it for every method the
// descriptor lists: with an access policy in which every method needs a
// role no caller has, each method is called without a token and with a
// valid token lacking the role, and the fake stores must see no call at all
// and no mail may be queued. gRPC runs the handler even for a call the
// interceptor refused, so only the guard keeps the business logic from
// running.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "auth_service/auth_service_impl.h"
#include "auth_service/password/hashing_pool.h"
#include "common/auth/access_policy.h"
#include "common/server/call_pipeline.h"
#include "common/auth/bearer_authenticator.h"
#include "common/keys/key_source.h"
#include "common/token/access_token_verifier.h"
#include "tests/auth_service/accounts/account_services.h"

namespace tollgate::auth {
namespace {

using ::tollgate::testing::AccountServices;

constexpr char kServiceName[] = "tollgate.auth.v1.AuthService";
constexpr char kRoleNobodyHas[] = "guard-test-role-nobody-has";
// The account that the control test's token names and that sample
// requests address: the first one the fake stores create.
constexpr char kUserId[] = "a0000000-0000-4000-8000-000000000001";

// For every method, a request that would reach the stores if its handler
// ran: well-formed fields, so no validation answers first. A method added
// to auth.proto without an entry here fails the test, so that its sample
// is written by someone who knows what it does. GetJwks touches no store:
// nothing observable tells whether its handler ran (the interceptor drops
// a refused call's response body), so it is checked for its status only.
const std::map<std::string, std::string>& SampleRequests() {
  static const auto* const samples = new std::map<std::string, std::string>{
      {"Register",
       "email: 'guard@example.com' password: 'correct horse battery staple' "
       "first_name: 'Ada' last_name: 'Lovelace'"},
      {"Login", "email: 'guard@example.com' password: 'correct horse battery staple'"},
      {"Refresh", "refresh_token: 'tgr_" + std::string(43, 'A') + "'"},
      {"Logout", "refresh_token: 'tgr_" + std::string(43, 'A') + "' all_sessions: true"},
      {"GetJwks", ""},
      {"GetCurrentUser", ""},
      {"UpdateProfile", "first_name: 'Grace' email: 'grace@example.com'"},
      {"ChangePassword",
       "current_password: 'correct horse battery staple' "
       "new_password: 'another long passphrase'"},
      {"RequestPasswordReset", "email: 'guard@example.com'"},
      {"ResetPassword",
       "token: 'tgp_" + std::string(43, 'A') + "' new_password: 'another long passphrase'"},
      {"RequestEmailVerification", ""},
      {"VerifyEmail", "token: 'tge_" + std::string(43, 'A') + "'"},
      {"ListUsers", "page_size: 10"},
      {"SetUserRoles", std::string("user_id: '") + kUserId + "' roles: 'user'"},
      {"SetUserActive", std::string("user_id: '") + kUserId + "' active: false"},
  };
  return *samples;
}
const std::set<std::string>& MethodsWithoutStoreAccess() {
  static const auto* const methods = new std::set<std::string>{"GetJwks"};
  return *methods;
}

const google::protobuf::ServiceDescriptor& AuthServiceDescriptor() {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(kServiceName);
  EXPECT_NE(service, nullptr);
  return *service;
}

// The serialized sample request of `method`, or nullopt (and a failure).
std::optional<std::string> SampleRequestOf(const google::protobuf::MethodDescriptor& method) {
  const auto sample = SampleRequests().find(method.name());
  if (sample == SampleRequests().end()) {
    ADD_FAILURE() << method.full_name()
                  << " has no sample request in SampleRequests(): add one that would reach "
                     "the stores if its handler ran";
    return std::nullopt;
  }
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(method.input_type());
  if (prototype == nullptr) {
    ADD_FAILURE() << "no generated message for " << method.input_type()->full_name();
    return std::nullopt;
  }
  std::unique_ptr<google::protobuf::Message> request(prototype->New());
  if (!google::protobuf::TextFormat::ParseFromString(sample->second, request.get())) {
    ADD_FAILURE() << "sample request of " << method.name() << " does not parse";
    return std::nullopt;
  }
  return request->SerializeAsString();
}

class AuthServiceGuardTest : public ::testing::Test {
 protected:
  ~AuthServiceGuardTest() override { StopServer(); }

  void StartServer(AccessPolicy policy) {
    hashing_pool_ = std::make_unique<HashingPool>(HashingPool::Options{2, 64});
    database_pool_ = std::make_unique<HashingPool>(HashingPool::Options{2, 64});
    service_ = std::make_unique<AuthServiceImpl>(AuthServiceImpl::Dependencies{
        &env_.sessions(), &env_.profiles(), &env_.recovery(), &env_.admin(),
        hashing_pool_.get(), database_pool_.get(), TrustedProxies()});
    keys_ = std::make_unique<StaticKeySource>(env_.published_keys());
    authenticator_ = std::make_unique<BearerAuthenticator>(
        std::move(policy), AccessTokenVerifier(AccessTokenVerifierOptions{}), *keys_,
        env_.clock(), BearerAuthenticator::Options{});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    InstallCallPipeline(builder, CallPipelineOptions{authenticator_.get(), {},
                                                     {"tollgate.auth.v1.AuthService"}});
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
  }

  // Ends every call and runs every queued task (also work a handler left
  // for after its reply), so the stores have seen all they ever will.
  void StopServer() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    hashing_pool_.reset();
    database_pool_.reset();
  }

  // A valid token for kUserId with every role AuthService knows.
  std::string TokenWithEveryRealRole() {
    auto token = env_.issuer().Issue({kUserId, "guard@example.com", {"user", "admin"}},
                                     env_.clock().NowUnixSeconds());
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? token->token : "";
  }

  grpc::Status Call(const google::protobuf::MethodDescriptor& method, const std::string& body,
                    const std::string& token) {
    grpc::GenericStub generic(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context,
                      "/" + method.service()->full_name() + "/" + method.name(),
                      grpc::StubOptions(), &request, &response,
                      [&done](grpc::Status status) { done.set_value(std::move(status)); });
    std::future<grpc::Status> status = done.get_future();
    if (status.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << method.name() << ": the call did not finish";
      return grpc::Status(grpc::StatusCode::UNKNOWN, "did not finish");
    }
    return status.get();
  }

  AccountServices env_;
  std::unique_ptr<HashingPool> hashing_pool_;
  std::unique_ptr<HashingPool> database_pool_;
  std::unique_ptr<AuthServiceImpl> service_;
  std::unique_ptr<StaticKeySource> keys_;
  std::unique_ptr<BearerAuthenticator> authenticator_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(AuthServiceGuardTest, RefusedCallsOfEveryMethodRunNoBusinessLogic) {
  const google::protobuf::ServiceDescriptor& service = AuthServiceDescriptor();
  ASSERT_GT(service.method_count(), 0);
  std::vector<std::pair<std::string, MethodAccess>> rules;
  for (int i = 0; i < service.method_count(); ++i) {
    rules.emplace_back("/" + service.full_name() + "/" + service.method(i)->name(),
                       MethodAccess{false, kRoleNobodyHas});
  }
  StartServer(AccessPolicy::FromRulesForTesting(rules));
  const std::string token = TokenWithEveryRealRole();

  for (int i = 0; i < service.method_count(); ++i) {
    const google::protobuf::MethodDescriptor& method = *service.method(i);
    SCOPED_TRACE(method.full_name());
    const std::optional<std::string> body = SampleRequestOf(method);
    if (!body.has_value()) continue;

    const grpc::Status anonymous = Call(method, *body, "");
    EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(anonymous.error_message(),
              "authorization metadata is required: send 'authorization: Bearer <token>'");

    const grpc::Status without_role = Call(method, *body, token);
    EXPECT_EQ(without_role.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(without_role.error_message(), "method " + service.full_name() + "/" +
                                                method.name() + " requires role '" +
                                                kRoleNobodyHas + "'");
  }

  StopServer();
  EXPECT_EQ(env_.db().calls(), 0) << "a refused call reached the stores: a handler lacks its guard";
  EXPECT_TRUE(env_.db().mails().empty());
  EXPECT_EQ(env_.stores().mail_queued_calls.load(), 0);
  EXPECT_EQ(env_.db().session_families(), 0u);
}

// The control: with the real policy and a token with every role, each
// sample request does reach the stores, so the test above would see a
// handler that ran.
TEST_F(AuthServiceGuardTest, EverySampleRequestReachesTheStoresWhenAdmitted) {
  auto policy = AccessPolicy::FromServices({kServiceName});
  ASSERT_TRUE(policy.ok()) << policy.status();
  StartServer(*std::move(policy));
  const std::string token = TokenWithEveryRealRole();
  const google::protobuf::ServiceDescriptor& service = AuthServiceDescriptor();
  for (int i = 0; i < service.method_count(); ++i) {
    const google::protobuf::MethodDescriptor& method = *service.method(i);
    SCOPED_TRACE(method.full_name());
    const std::optional<std::string> body = SampleRequestOf(method);
    if (!body.has_value()) continue;
    const int calls_before = env_.db().calls();
    const grpc::Status status = Call(method, *body, token);
    EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
    if (MethodsWithoutStoreAccess().contains(method.name())) {
      EXPECT_EQ(env_.db().calls(), calls_before);
    } else {
      EXPECT_GT(env_.db().calls(), calls_before) << "the sample request never reached a store";
    }
  }
}

}  // namespace
}  // namespace tollgate::auth
