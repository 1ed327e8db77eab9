#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "auth_service/auth_config.h"
#include "auth_service/auth_server.h"
#include "tests/support/fake_clock.h"
#include "tests/support/postgres_suite.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::auth {

// An AuthConfig for in-process tests: 127.0.0.1:0, an HS256 key, short
// lifetimes, and small Argon2 parameters (tests hash a lot). No mail, no
// janitor; tests set what they exercise.
inline AuthConfig TestAuthConfig(const std::string& database_url) {
  AuthConfig config;
  config.listen_address = "127.0.0.1:0";
  config.database_url = database_url;
  config.jwt_secret_key = std::string(32, 's');
  config.token_issuer = "tollgate";
  config.token_audience = "tollgate";
  config.token_leeway_seconds = 30;
  config.access_ttl_seconds = 900;
  config.refresh_idle_ttl_seconds = 3600;
  config.session_ttl_seconds = 4 * 3600;
  config.refresh_grace_seconds = 10;
  config.argon2_memory_kib = 8192;
  config.argon2_iterations = 1;
  config.hash_threads = 2;
  config.hash_queue = 64;
  config.database_pool_size = 4;
  config.reset_ttl_seconds = 1800;
  config.verify_ttl_seconds = 86400;
  config.grantable_roles = {"user", "admin"};
  config.mail_from = "no-reply@tollgate.test";
  config.mail_poll_interval_seconds = 1;
  return config;
}

// A fixture base for suites that run AuthServer in the test process on the
// suite's PostgreSQL, with an injected clock: SetUp in the suite sets
// config_ (TestAuthConfig plus what it exercises) and calls StartServer.
class InProcessAuthServerSuite : public testing::PostgresSuite {
 protected:
  // (Re)starts the server with config_ and points stub_ at it.
  void StartServer() {
    stub_.reset();
    server_.reset();
    auto server = AuthServer::Start(config_, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                       grpc::InsecureChannelCredentials());
    stub_ = v1::AuthService::NewStub(channel);
  }

  // A fresh email per call, so tests never collide in the shared database.
  static std::string NewEmail() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string(info->name()) + "." + std::to_string(counter++) + "@example.com";
  }

  testing::FakeClock clock_;
  AuthConfig config_;
  std::unique_ptr<AuthServer> server_;
  std::unique_ptr<v1::AuthService::Stub> stub_;
};

}  // namespace tollgate::auth
