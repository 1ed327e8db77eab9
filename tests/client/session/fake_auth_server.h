#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tollgate/auth/v1/auth.grpc.pb.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::client::testing {

inline constexpr char kEmail[] = "ada@example.com";
inline constexpr char kPassword[] = "correct horse battery staple";

// What the fake AuthService and SumService share: the live tokens, knobs
// that make Refresh fail or wait, and counts of what they were asked.
struct FakeAuthState {
  std::mutex mutex;
  std::condition_variable changed;  // notified when a Refresh starts

  int last_pair = 0;
  int64_t expires_in = 900;
  int64_t refresh_expires_in = 3600;
  std::string live_refresh_token;
  std::set<std::string> live_access_tokens;

  bool reject_refresh = false;             // Refresh answers UNAUTHENTICATED
  grpc::Status refresh_failure;            // when not OK, Refresh answers it
  bool hold_refresh = false;               // Refresh waits while true
  bool fail_logout = false;

  int refresh_calls = 0;                   // every Refresh, whatever it answered
  int sum_calls = 0;                       // every Sum, admitted or not
  std::vector<std::string> authorizations;  // of every Sum, in order
  std::vector<auth::v1::LogoutRequest> logouts;

  // Pair n: access token "access-n", refresh token "tgr_refresh-n"; it
  // becomes the live pair (the previous access token stays valid, as on the
  // real server).
  auth::v1::AuthResponse IssueLocked() {
    ++last_pair;
    auth::v1::AuthResponse response;
    response.set_access_token("access-" + std::to_string(last_pair));
    response.set_token_type("Bearer");
    response.set_expires_in(expires_in);
    response.set_refresh_token("tgr_refresh-" + std::to_string(last_pair));
    response.set_refresh_expires_in(refresh_expires_in);
    response.mutable_user()->set_id("user-1");
    response.mutable_user()->set_email(kEmail);
    live_refresh_token = response.refresh_token();
    live_access_tokens.insert(response.access_token());
    return response;
  }
  auth::v1::AuthResponse Issue() {
    std::lock_guard<std::mutex> lock(mutex);
    return IssueLocked();
  }
};

class FakeAuthService final : public auth::v1::AuthService::Service {
 public:
  explicit FakeAuthService(FakeAuthState& state) : state_(state) {}

  grpc::Status Login(grpc::ServerContext*, const auth::v1::LoginRequest* request,
                     auth::v1::AuthResponse* response) override {
    if (request->email() != kEmail || request->password() != kPassword) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid email or password");
    }
    *response = state_.Issue();
    return grpc::Status::OK;
  }

  grpc::Status Refresh(grpc::ServerContext*, const auth::v1::RefreshRequest* request,
                       auth::v1::AuthResponse* response) override {
    std::unique_lock<std::mutex> lock(state_.mutex);
    ++state_.refresh_calls;
    state_.changed.notify_all();
    state_.changed.wait(lock, [this] { return !state_.hold_refresh; });
    if (!state_.refresh_failure.ok()) return state_.refresh_failure;
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
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database unavailable");
    }
    state_.logouts.push_back(*request);
    state_.live_refresh_token.clear();
    return grpc::Status::OK;
  }

 private:
  FakeAuthState& state_;
};

// Sum behind a bearer check against the live access tokens.
class FakeSumService final : public sum::v1::SumService::Service {
 public:
  explicit FakeSumService(FakeAuthState& state) : state_(state) {}

  grpc::Status Sum(grpc::ServerContext* context, const sum::v1::SumRequest* request,
                   sum::v1::SumResponse* response) override {
    std::lock_guard<std::mutex> lock(state_.mutex);
    ++state_.sum_calls;
    const auto found = context->client_metadata().find("authorization");
    const std::string authorization =
        found == context->client_metadata().end()
            ? ""
            : std::string(found->second.data(), found->second.size());
    state_.authorizations.push_back(authorization);
    if (authorization.rfind("Bearer ", 0) != 0 ||
        state_.live_access_tokens.count(authorization.substr(7)) == 0) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid token: expired");
    }
    response->set_result(request->a() + request->b());
    return grpc::Status::OK;
  }

 private:
  FakeAuthState& state_;
};

// Both fakes on one plaintext port of 127.0.0.1, for one test.
class FakeAuthServer final {
 public:
  FakeAuthServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&auth_);
    builder.RegisterService(&sum_);
    server_ = builder.BuildAndStart();
  }
  ~FakeAuthServer() {
    {
      std::lock_guard<std::mutex> lock(state.mutex);
      state.hold_refresh = false;
    }
    state.changed.notify_all();
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  bool ok() const { return server_ != nullptr && port_ > 0; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::shared_ptr<grpc::Channel> NewChannel() const {
    return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }

  // Holds every Refresh until Release(); WaitForRefreshCalls(n) returns once
  // n Refresh calls have arrived.
  void HoldRefresh() {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.hold_refresh = true;
  }
  void ReleaseRefresh() {
    {
      std::lock_guard<std::mutex> lock(state.mutex);
      state.hold_refresh = false;
    }
    state.changed.notify_all();
  }
  bool WaitForRefreshCalls(int n) {
    std::unique_lock<std::mutex> lock(state.mutex);
    return state.changed.wait_for(lock, std::chrono::seconds(10),
                                  [&] { return state.refresh_calls >= n; });
  }

  int refresh_calls() {
    std::lock_guard<std::mutex> lock(state.mutex);
    return state.refresh_calls;
  }
  int sum_calls() {
    std::lock_guard<std::mutex> lock(state.mutex);
    return state.sum_calls;
  }
  std::vector<std::string> authorizations() {
    std::lock_guard<std::mutex> lock(state.mutex);
    return state.authorizations;
  }

  FakeAuthState state;

 private:
  FakeAuthService auth_{state};
  FakeSumService sum_{state};
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace tollgate::client::testing
