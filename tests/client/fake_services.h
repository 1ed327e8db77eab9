#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tollgate/auth/v1/auth.grpc.pb.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::cli::testing {

inline constexpr char kFakePassword[] = "correct horse battery staple";
inline constexpr char kFakeEmail[] = "ada@example.com";

// Pair number n of the fakes: access token "access-n", refresh token
// "tgr_refresh-n", 900 s.
inline auth::v1::AuthResponse FakePair(int n) {
  auth::v1::AuthResponse response;
  response.set_access_token("access-" + std::to_string(n));
  response.set_token_type("Bearer");
  response.set_expires_in(900);
  response.set_refresh_token("tgr_refresh-" + std::to_string(n));
  response.set_refresh_expires_in(3600);
  response.mutable_user()->set_id("user-1");
  response.mutable_user()->set_email(kFakeEmail);
  response.mutable_user()->add_roles("user");
  response.mutable_user()->set_is_active(true);
  return response;
}

// The account the fakes answer with: FakePair(0).user().
inline auth::v1::User FakeUser(const std::string& id = "user-1",
                               const std::string& email = kFakeEmail) {
  auth::v1::User user;
  user.set_id(id);
  user.set_email(email);
  user.add_roles("user");
  user.set_is_active(true);
  return user;
}

// The state both fakes share: which tokens are live, and what they saw.
struct FakeState {
  std::mutex mutex;
  int last_pair = 0;
  std::string live_refresh_token;
  std::set<std::string> live_access_tokens;
  bool reject_refresh = false;
  bool fail_logout = false;
  int refresh_calls = 0;
  std::vector<std::string> authorizations;  // every authorization header seen
  std::vector<auth::v1::LogoutRequest> logouts;
  std::vector<int64_t> streamed_values;
  // Every request of the account RPCs, in order.
  std::vector<auth::v1::UpdateProfileRequest> update_profiles;
  std::vector<auth::v1::ChangePasswordRequest> change_passwords;
  std::vector<auth::v1::RequestPasswordResetRequest> password_reset_requests;
  std::vector<auth::v1::ResetPasswordRequest> password_resets;
  int email_verification_requests = 0;
  std::vector<auth::v1::VerifyEmailRequest> email_verifications;
  std::vector<auth::v1::ListUsersRequest> list_users;
  std::vector<auth::v1::SetUserRolesRequest> set_user_roles;
  std::vector<auth::v1::SetUserActiveRequest> set_user_actives;
  // The canned reply of UpdateProfile, VerifyEmail, SetUserRoles and
  // SetUserActive.
  auth::v1::User user_reply = FakeUser();
  // ListUsers by page_token; a token not in the map is INVALID_ARGUMENT.
  std::map<std::string, auth::v1::ListUsersResponse> user_pages;
  // When not OK, the answer of the next account RPC after its token check
  // (the request is still recorded); then OK again.
  grpc::Status fail_next = grpc::Status::OK;

  // Records `request` in `log` and returns fail_next (resetting it).
  template <typename Request>
  grpc::Status Record(std::vector<Request>& log, const Request& request) {
    std::lock_guard<std::mutex> lock(mutex);
    log.push_back(request);
    return TakeFailureLocked();
  }
  grpc::Status TakeFailureLocked() {
    grpc::Status status = fail_next;
    fail_next = grpc::Status::OK;
    return status;
  }

  // Mints the next pair and makes it the live one (the previous refresh
  // token is spent, its access token stays valid as on a real server).
  auth::v1::AuthResponse IssueLocked() {
    ++last_pair;
    auth::v1::AuthResponse response = FakePair(last_pair);
    live_refresh_token = response.refresh_token();
    live_access_tokens.insert(response.access_token());
    return response;
  }
  auth::v1::AuthResponse Issue() {
    std::lock_guard<std::mutex> lock(mutex);
    return IssueLocked();
  }

  grpc::Status CheckBearer(grpc::ServerContext* context) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto& metadata = context->client_metadata();
    const auto it = metadata.find("authorization");
    if (it == metadata.end()) {
      authorizations.push_back("");
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "authorization metadata is required");
    }
    const std::string value(it->second.data(), it->second.size());
    authorizations.push_back(value);
    if (value.rfind("Bearer ", 0) != 0 || live_access_tokens.count(value.substr(7)) == 0) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid token: unknown key");
    }
    return grpc::Status::OK;
  }
};

class FakeAuthService final : public auth::v1::AuthService::Service {
 public:
  explicit FakeAuthService(FakeState& state) : state_(state) {}

  grpc::Status Register(grpc::ServerContext*, const auth::v1::RegisterRequest* request,
                        auth::v1::AuthResponse* response) override {
    if (request->email() == "taken@example.com") {
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "email is already registered");
    }
    *response = state_.Issue();
    return grpc::Status::OK;
  }

  grpc::Status Login(grpc::ServerContext*, const auth::v1::LoginRequest* request,
                     auth::v1::AuthResponse* response) override {
    if (request->email() != kFakeEmail || request->password() != kFakePassword) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid email or password");
    }
    *response = state_.Issue();
    return grpc::Status::OK;
  }

  grpc::Status Refresh(grpc::ServerContext*, const auth::v1::RefreshRequest* request,
                       auth::v1::AuthResponse* response) override {
    std::lock_guard<std::mutex> lock(state_.mutex);
    ++state_.refresh_calls;
    if (state_.reject_refresh || request->refresh_token() != state_.live_refresh_token) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid refresh token");
    }
    *response = state_.IssueLocked();
    return grpc::Status::OK;
  }

  grpc::Status Logout(grpc::ServerContext*, const auth::v1::LogoutRequest* request,
                      auth::v1::LogoutResponse*) override {
    std::lock_guard<std::mutex> lock(state_.mutex);
    if (state_.fail_logout) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database is unreachable");
    }
    state_.logouts.push_back(*request);
    state_.live_refresh_token.clear();
    return grpc::Status::OK;
  }

  grpc::Status GetJwks(grpc::ServerContext*, const auth::v1::GetJwksRequest*,
                       auth::v1::GetJwksResponse* response) override {
    response->set_jwks_json(R"({"keys":[]})");
    return grpc::Status::OK;
  }

  grpc::Status GetCurrentUser(grpc::ServerContext* context, const auth::v1::GetCurrentUserRequest*,
                              auth::v1::User* response) override {
    if (grpc::Status status = state_.CheckBearer(context); !status.ok()) return status;
    *response = FakePair(0).user();
    return grpc::Status::OK;
  }

  grpc::Status UpdateProfile(grpc::ServerContext* context,
                             const auth::v1::UpdateProfileRequest* request,
                             auth::v1::User* response) override {
    if (grpc::Status status = state_.CheckBearer(context); !status.ok()) return status;
    if (grpc::Status status = state_.Record(state_.update_profiles, *request); !status.ok()) {
      return status;
    }
    return UserReply(response);
  }

  grpc::Status ChangePassword(grpc::ServerContext* context,
                              const auth::v1::ChangePasswordRequest* request,
                              auth::v1::AuthResponse* response) override {
    if (grpc::Status status = state_.CheckBearer(context); !status.ok()) return status;
    if (grpc::Status status = state_.Record(state_.change_passwords, *request); !status.ok()) {
      return status;
    }
    if (request->current_password() != kFakePassword) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "wrong current password");
    }
    // Every session ends, as on the real server: only the fresh pair lives.
    std::lock_guard<std::mutex> lock(state_.mutex);
    state_.live_access_tokens.clear();
    *response = state_.IssueLocked();
    return grpc::Status::OK;
  }

  grpc::Status RequestPasswordReset(grpc::ServerContext*,
                                    const auth::v1::RequestPasswordResetRequest* request,
                                    auth::v1::RequestPasswordResetResponse*) override {
    return state_.Record(state_.password_reset_requests, *request);
  }

  grpc::Status ResetPassword(grpc::ServerContext*, const auth::v1::ResetPasswordRequest* request,
                             auth::v1::ResetPasswordResponse*) override {
    return state_.Record(state_.password_resets, *request);
  }

  grpc::Status RequestEmailVerification(grpc::ServerContext* context,
                                        const auth::v1::RequestEmailVerificationRequest*,
                                        auth::v1::RequestEmailVerificationResponse*) override {
    if (grpc::Status status = state_.CheckBearer(context); !status.ok()) return status;
    std::lock_guard<std::mutex> lock(state_.mutex);
    ++state_.email_verification_requests;
    return state_.TakeFailureLocked();
  }

  grpc::Status VerifyEmail(grpc::ServerContext*, const auth::v1::VerifyEmailRequest* request,
                           auth::v1::User* response) override {
    if (grpc::Status status = state_.Record(state_.email_verifications, *request);
        !status.ok()) {
      return status;
    }
    return UserReply(response);
  }

  grpc::Status ListUsers(grpc::ServerContext* context, const auth::v1::ListUsersRequest* request,
                         auth::v1::ListUsersResponse* response) override {
    if (grpc::Status status = state_.CheckBearer(context); !status.ok()) return status;
    if (grpc::Status status = state_.Record(state_.list_users, *request); !status.ok()) {
      return status;
    }
    std::lock_guard<std::mutex> lock(state_.mutex);
    const auto page = state_.user_pages.find(request->page_token());
    if (page == state_.user_pages.end()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "page_token: not a page token of this API");
    }
    *response = page->second;
    return grpc::Status::OK;
  }

  grpc::Status SetUserRoles(grpc::ServerContext* context,
                            const auth::v1::SetUserRolesRequest* request,
                            auth::v1::User* response) override {
    if (grpc::Status status = state_.CheckBearer(context); !status.ok()) return status;
    if (grpc::Status status = state_.Record(state_.set_user_roles, *request); !status.ok()) {
      return status;
    }
    return UserReply(response);
  }

  grpc::Status SetUserActive(grpc::ServerContext* context,
                             const auth::v1::SetUserActiveRequest* request,
                             auth::v1::User* response) override {
    if (grpc::Status status = state_.CheckBearer(context); !status.ok()) return status;
    if (grpc::Status status = state_.Record(state_.set_user_actives, *request); !status.ok()) {
      return status;
    }
    return UserReply(response);
  }

 private:
  grpc::Status UserReply(auth::v1::User* response) {
    std::lock_guard<std::mutex> lock(state_.mutex);
    *response = state_.user_reply;
    return grpc::Status::OK;
  }

  FakeState& state_;
};

class FakeSumService final : public sum::v1::SumService::Service {
 public:
  explicit FakeSumService(FakeState& state) : state_(state) {}

  grpc::Status Sum(grpc::ServerContext* context, const sum::v1::SumRequest* request,
                   sum::v1::SumResponse* response) override {
    if (grpc::Status status = state_.CheckBearer(context); !status.ok()) return status;
    int64_t result = 0;
    if (__builtin_add_overflow(request->a(), request->b(), &result)) {
      return grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "sum overflows int64");
    }
    response->set_result(result);
    return grpc::Status::OK;
  }

  grpc::Status SumStream(grpc::ServerContext* context,
                         grpc::ServerReader<sum::v1::SumStreamRequest>* reader,
                         sum::v1::SumResponse* response) override {
    if (grpc::Status status = state_.CheckBearer(context); !status.ok()) return status;
    int64_t total = 0;
    sum::v1::SumStreamRequest message;
    while (reader->Read(&message)) {
      {
        std::lock_guard<std::mutex> lock(state_.mutex);
        state_.streamed_values.push_back(message.value());
      }
      if (__builtin_add_overflow(total, message.value(), &total)) {
        return grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "sum overflows int64");
      }
    }
    response->set_result(total);
    return grpc::Status::OK;
  }

  grpc::Status GetUsage(grpc::ServerContext* context, const sum::v1::GetUsageRequest*,
                        sum::v1::GetUsageResponse* response) override {
    if (grpc::Status status = state_.CheckBearer(context); !status.ok()) return status;
    sum::v1::Usage* usage = response->add_usage();
    usage->set_subject("user-1");
    usage->set_calls(3);
    return grpc::Status::OK;
  }

 private:
  FakeState& state_;
};

// Both fakes on one gRPC server on 127.0.0.1:<free port>.
class FakeServer final {
 public:
  FakeServer() : auth_(state), sum_(state) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&auth_);
    builder.RegisterService(&sum_);
    server_ = builder.BuildAndStart();
  }
  ~FakeServer() {
    if (server_) server_->Shutdown();
  }

  bool ok() const { return server_ != nullptr && port_ > 0; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  FakeState state;

 private:
  FakeAuthService auth_;
  FakeSumService sum_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace tollgate::cli::testing
