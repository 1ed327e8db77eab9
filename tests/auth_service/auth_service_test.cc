// AuthService end to end in one process: the real gRPC server on 127.0.0.1:0,
// a real PostgreSQL cluster started by the test, an injected clock.
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "auth_service/auth_server.h"
#include "auth_service/db/postgres_pool.h"
#include "auth_service/store/janitor_batches.h"
#include "auth_service/store/postgres_session_store.h"
#include "common/token/access_token_verifier.h"
#include "common/token/jwk_set.h"
#include "tests/auth_service/in_process_auth_server.h"
#include "tests/support/fake_clock.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/prometheus_text.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::auth {
namespace {

using v1::AuthResponse;
using tollgate::testing::PrometheusText;
using tollgate::testing::ScrapeMetrics;

constexpr char kPassword[] = "correct horse battery staple";

class AuthServiceTest : public InProcessAuthServerSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    config_ = TestAuthConfig(cluster_->url());
    StartServer();
  }



  grpc::Status Register(const std::string& email, const std::string& password,
                        AuthResponse* response, const std::string& first = "Ada",
                        const std::string& last = "Lovelace") {
    v1::RegisterRequest request;
    request.set_email(email);
    request.set_password(password);
    request.set_first_name(first);
    request.set_last_name(last);
    grpc::ClientContext context;
    return stub_->Register(&context, request, response);
  }
  grpc::Status Login(const std::string& email, const std::string& password, AuthResponse* response) {
    v1::LoginRequest request;
    request.set_email(email);
    request.set_password(password);
    grpc::ClientContext context;
    return stub_->Login(&context, request, response);
  }
  grpc::Status Refresh(const std::string& token, AuthResponse* response) {
    v1::RefreshRequest request;
    request.set_refresh_token(token);
    grpc::ClientContext context;
    return stub_->Refresh(&context, request, response);
  }
  grpc::Status Logout(const std::string& token, bool all_sessions) {
    v1::LogoutRequest request;
    request.set_refresh_token(token);
    request.set_all_sessions(all_sessions);
    v1::LogoutResponse response;
    grpc::ClientContext context;
    return stub_->Logout(&context, request, &response);
  }
  AuthResponse RegisterOrDie(const std::string& email) {
    AuthResponse response;
    const grpc::Status status = Register(email, kPassword, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  void Sql(const std::string& statement) {
    pqxx::connection conn(cluster_->url());
    pqxx::work txn(conn);
    txn.exec(statement);
    txn.commit();
  }
  // "families|tokens" of the account with this email, as stored.
  std::string StoredSessions(const std::string& email) {
    pqxx::connection conn(cluster_->url());
    pqxx::work txn(conn);
    const pqxx::row row = txn.exec_params1(
        "SELECT (SELECT count(*) FROM refresh_families f JOIN users u ON u.id = f.user_id "
        "        WHERE u.email = $1), "
        "       (SELECT count(*) FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id "
        "        JOIN users u ON u.id = f.user_id WHERE u.email = $1)",
        email);
    return row[0].as<std::string>() + "|" + row[1].as<std::string>();
  }
  // Polls until StoredSessions(email) is `expected` (the janitor runs every
  // second here), at most 10 s; returns the last value seen.
  std::string AwaitStoredSessions(const std::string& email, const std::string& expected) {
    std::string seen;
    for (int i = 0; i < 100; ++i) {
      seen = StoredSessions(email);
      if (seen == expected) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return seen;
  }
  static void ExpectStatus(const grpc::Status& status, grpc::StatusCode code,
                           const std::string& message_part = "") {
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_NE(status.error_message().find(message_part), std::string::npos)
        << "'" << status.error_message() << "' lacks '" << message_part << "'";
  }

};


TEST_F(AuthServiceTest, HappyPathRegisterLoginRefreshTwiceLogout) {
  const std::string email = NewEmail();
  AuthResponse registered = RegisterOrDie(email);
  EXPECT_EQ(registered.token_type(), "Bearer");
  EXPECT_EQ(registered.expires_in(), 900);
  EXPECT_EQ(registered.refresh_expires_in(), 3600);
  EXPECT_EQ(registered.user().email(), email);
  EXPECT_EQ(registered.user().first_name(), "Ada");
  EXPECT_EQ(registered.user().roles_size(), 1);
  EXPECT_EQ(registered.user().roles(0), "user");
  EXPECT_TRUE(registered.user().is_active());
  EXPECT_FALSE(registered.user().is_verified());
  EXPECT_EQ(registered.user().created_at().seconds(), clock_.NowUnixSeconds());
  EXPECT_EQ(registered.refresh_token().rfind("tgr_", 0), 0u);
  EXPECT_EQ(registered.user().id().size(), 36u);  // UUID

  AuthResponse login;
  ASSERT_TRUE(Login(email, kPassword, &login).ok());
  EXPECT_EQ(login.user().id(), registered.user().id());
  EXPECT_NE(login.refresh_token(), registered.refresh_token());

  // The access token verifies with the secret and carries the user.
  auto keys = JwkSet::FromKeys({*Jwk::FromHmacSecret(config_.jwt_secret_key)});
  AccessTokenVerifier verifier(AccessTokenVerifierOptions{"tollgate", "tollgate", 30});
  auto identity = verifier.Verify(login.access_token(), *keys, clock_.NowUnixSeconds());
  ASSERT_TRUE(identity.ok()) << ToString(identity.error());
  EXPECT_EQ(identity.value().subject(), registered.user().id());
  EXPECT_EQ(identity.value().email(), email);

  AuthResponse first, second;
  ASSERT_TRUE(Refresh(login.refresh_token(), &first).ok());
  ASSERT_TRUE(Refresh(first.refresh_token(), &second).ok());
  EXPECT_NE(first.refresh_token(), login.refresh_token());
  EXPECT_NE(second.refresh_token(), first.refresh_token());
  EXPECT_EQ(second.user().id(), registered.user().id());

  ASSERT_TRUE(Logout(second.refresh_token(), false).ok());
  AuthResponse after;
  ExpectStatus(Refresh(second.refresh_token(), &after), grpc::StatusCode::UNAUTHENTICATED,
               "invalid refresh token");
  EXPECT_TRUE(after.access_token().empty());
}

TEST_F(AuthServiceTest, RegisterRejectsTakenEmailInAnyCase) {
  const std::string email = NewEmail();
  RegisterOrDie(email);
  AuthResponse response;
  std::string shouted = email;
  for (char& c : shouted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ExpectStatus(Register("  " + shouted + " ", kPassword, &response),
               grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(AuthServiceTest, RegisterNamesTheBadField) {
  AuthResponse response;
  ExpectStatus(Register("not-an-email", kPassword, &response), grpc::StatusCode::INVALID_ARGUMENT,
               "email");
  ExpectStatus(Register(NewEmail(), "short", &response), grpc::StatusCode::INVALID_ARGUMENT,
               "password");
  ExpectStatus(Register(NewEmail(), "password123", &response), grpc::StatusCode::INVALID_ARGUMENT,
               "password");
  const std::string email = NewEmail();
  ExpectStatus(Register(email, email, &response), grpc::StatusCode::INVALID_ARGUMENT, "password");
  ExpectStatus(Register(NewEmail(), kPassword, &response, "", "Lovelace"),
               grpc::StatusCode::INVALID_ARGUMENT, "first_name");
  ExpectStatus(Register(NewEmail(), kPassword, &response, "Ada", "  "),
               grpc::StatusCode::INVALID_ARGUMENT, "last_name");
  ExpectStatus(Register(NewEmail(), std::string(1025, 'x'), &response),
               grpc::StatusCode::INVALID_ARGUMENT, "password");
}

TEST_F(AuthServiceTest, LoginAnswersUnknownEmailAndWrongPasswordAlike) {
  const std::string email = NewEmail();
  RegisterOrDie(email);
  AuthResponse response;
  const grpc::Status wrong_password = Login(email, "not the password at all", &response);
  const grpc::Status unknown_email = Login(NewEmail(), kPassword, &response);
  EXPECT_EQ(wrong_password.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(unknown_email.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong_password.error_message(), unknown_email.error_message());
  EXPECT_EQ(wrong_password.error_message(), "invalid email or password");
}

TEST_F(AuthServiceTest, LoginOfDeactivatedAccountIsPermissionDenied) {
  const std::string email = NewEmail();
  RegisterOrDie(email);
  Sql("UPDATE users SET is_active = false WHERE email = '" + email + "'");
  AuthResponse response;
  ExpectStatus(Login(email, kPassword, &response), grpc::StatusCode::PERMISSION_DENIED,
               "account is deactivated");
  // A wrong password still says nothing about the account's state.
  ExpectStatus(Login(email, "not the password at all", &response),
               grpc::StatusCode::UNAUTHENTICATED, "invalid email or password");
}

TEST_F(AuthServiceTest, RepeatedFailuresBackOffThenRecover) {
  const std::string email = NewEmail();
  RegisterOrDie(email);
  AuthResponse response;
  for (int i = 0; i < 5; ++i) {
    ExpectStatus(Login(email, "wrong password " + std::to_string(i), &response),
                 grpc::StatusCode::UNAUTHENTICATED);
  }
  // Locked now, even with the right password.
  ExpectStatus(Login(email, kPassword, &response), grpc::StatusCode::RESOURCE_EXHAUSTED,
               "retry after 30 s");
  clock_.Advance(30);
  ASSERT_TRUE(Login(email, kPassword, &response).ok());
}

TEST_F(AuthServiceTest, RefreshRejectsUnknownAndMalformedTokens) {
  AuthResponse response;
  for (const std::string& token :
       {std::string(), std::string("tgr_"), std::string("garbage"),
        "tgr_" + std::string(43, 'A'), std::string(10000, 'x')}) {
    ExpectStatus(Refresh(token, &response), grpc::StatusCode::UNAUTHENTICATED,
                 "invalid refresh token");
  }
}

TEST_F(AuthServiceTest, ReuseAfterRotationRevokesOnlyThatFamily) {
  const std::string email = NewEmail();
  AuthResponse session_a = RegisterOrDie(email);
  AuthResponse session_b;
  ASSERT_TRUE(Login(email, kPassword, &session_b).ok());

  AuthResponse rotated;
  ASSERT_TRUE(Refresh(session_a.refresh_token(), &rotated).ok());
  clock_.Advance(config_.refresh_grace_seconds + 1);  // past the retry window
  AuthResponse reuse;
  ExpectStatus(Refresh(session_a.refresh_token(), &reuse), grpc::StatusCode::UNAUTHENTICATED,
               "invalid refresh token");
  // The family is gone: the newer token fails too...
  ExpectStatus(Refresh(rotated.refresh_token(), &reuse), grpc::StatusCode::UNAUTHENTICATED);
  // ...and the user's other session still works.
  AuthResponse other;
  EXPECT_TRUE(Refresh(session_b.refresh_token(), &other).ok());
}

TEST_F(AuthServiceTest, RetryWithinGraceGetsTheSameSuccessorUntilItIsUsed) {
  AuthResponse session = RegisterOrDie(NewEmail());
  AuthResponse first, retry;
  ASSERT_TRUE(Refresh(session.refresh_token(), &first).ok());
  clock_.Advance(config_.refresh_grace_seconds);  // still inside the window
  ASSERT_TRUE(Refresh(session.refresh_token(), &retry).ok());
  EXPECT_EQ(retry.refresh_token(), first.refresh_token());
  EXPECT_EQ(retry.user().id(), first.user().id());

  AuthResponse next;
  ASSERT_TRUE(Refresh(first.refresh_token(), &next).ok());  // the successor is used
  AuthResponse late;
  ExpectStatus(Refresh(session.refresh_token(), &late), grpc::StatusCode::UNAUTHENTICATED);
  // That was reuse: the whole family, including `next`, is revoked.
  ExpectStatus(Refresh(next.refresh_token(), &late), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthServiceTest, RefreshTokenExpiresAfterIdleLifetime) {
  AuthResponse session = RegisterOrDie(NewEmail());
  clock_.Advance(config_.refresh_idle_ttl_seconds - 1);
  AuthResponse rotated;
  ASSERT_TRUE(Refresh(session.refresh_token(), &rotated).ok());
  clock_.Advance(config_.refresh_idle_ttl_seconds);
  AuthResponse expired;
  ExpectStatus(Refresh(rotated.refresh_token(), &expired), grpc::StatusCode::UNAUTHENTICATED,
               "invalid refresh token");
}

TEST_F(AuthServiceTest, SessionEndsAtAbsoluteLifetimeEvenWhenActive) {
  AuthResponse current = RegisterOrDie(NewEmail());
  // Refresh every idle-1 s; the family's absolute lifetime still ends it.
  int64_t elapsed = 0;
  const int64_t step = config_.refresh_idle_ttl_seconds - 1;
  while (elapsed + step < config_.session_ttl_seconds) {
    clock_.Advance(step);
    elapsed += step;
    AuthResponse next;
    ASSERT_TRUE(Refresh(current.refresh_token(), &next).ok()) << "at +" << elapsed << " s";
    EXPECT_LE(next.refresh_expires_in(), config_.session_ttl_seconds - elapsed);
    current = next;
  }
  clock_.Advance(config_.session_ttl_seconds - elapsed);
  AuthResponse expired;
  ExpectStatus(Refresh(current.refresh_token(), &expired), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthServiceTest, DeactivatedUserCannotRefresh) {
  const std::string email = NewEmail();
  AuthResponse session = RegisterOrDie(email);
  Sql("UPDATE users SET is_active = false WHERE email = '" + email + "'");
  AuthResponse response;
  ExpectStatus(Refresh(session.refresh_token(), &response), grpc::StatusCode::UNAUTHENTICATED,
               "invalid refresh token");
}

TEST_F(AuthServiceTest, LogoutIsIdempotentAndAllSessionsEndsEveryFamily) {
  const std::string email = NewEmail();
  AuthResponse a = RegisterOrDie(email);
  AuthResponse b, c;
  ASSERT_TRUE(Login(email, kPassword, &b).ok());
  ASSERT_TRUE(Login(email, kPassword, &c).ok());
  AuthResponse bystander = RegisterOrDie(NewEmail());

  EXPECT_TRUE(Logout(a.refresh_token(), false).ok());
  EXPECT_TRUE(Logout(a.refresh_token(), false).ok());  // again: still OK
  EXPECT_TRUE(Logout("tgr_" + std::string(43, 'Q'), false).ok());  // unknown: OK (RFC 7009)
  EXPECT_TRUE(Logout("not a token", true).ok());
  AuthResponse response;
  ExpectStatus(Refresh(a.refresh_token(), &response), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(Refresh(b.refresh_token(), &response).ok());  // b's session survived

  EXPECT_TRUE(Logout(c.refresh_token(), true).ok());
  ExpectStatus(Refresh(response.refresh_token(), &response), grpc::StatusCode::UNAUTHENTICATED);
  ExpectStatus(Refresh(c.refresh_token(), &response), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Refresh(bystander.refresh_token(), &response).ok());
}

TEST_F(AuthServiceTest, StoresOnlyTheHashOfRefreshTokens) {
  AuthResponse session = RegisterOrDie(NewEmail());
  pqxx::connection conn(cluster_->url());
  pqxx::work txn(conn);
  const pqxx::result raw = txn.exec_params(
      "SELECT count(*) FROM refresh_tokens WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'",
      session.refresh_token().substr(4, 20));
  EXPECT_EQ(raw[0][0].as<int>(), 0);
  const pqxx::result hashed = txn.exec_params(
      "SELECT count(*) FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
      session.refresh_token());
  EXPECT_EQ(hashed[0][0].as<int>(), 1);
}

TEST_F(AuthServiceTest, PasswordHashIsArgon2idPhcAndUpgradedAtNextLogin) {
  const std::string email = NewEmail();
  RegisterOrDie(email);
  auto stored_hash = [&] {
    pqxx::connection conn(cluster_->url());
    pqxx::work txn(conn);
    return txn.exec_params("SELECT password_hash FROM users WHERE email = $1", email)[0][0]
        .as<std::string>();
  };
  EXPECT_EQ(stored_hash().rfind("$argon2id$v=19$m=8192,t=1,p=1$", 0), 0u) << stored_hash();
  config_.argon2_memory_kib = 9216;
  config_.argon2_iterations = 2;
  StartServer();
  AuthResponse response;
  ASSERT_TRUE(Login(email, kPassword, &response).ok());
  EXPECT_EQ(stored_hash().rfind("$argon2id$v=19$m=9216,t=2,p=1$", 0), 0u) << stored_hash();
  ASSERT_TRUE(Login(email, kPassword, &response).ok());
}

TEST_F(AuthServiceTest, BootstrapAdminIsCreatedThenPromoted) {
  const std::string email = NewEmail();
  RegisterOrDie(email);  // exists as a plain user first
  config_.bootstrap_admin_email = email;
  config_.bootstrap_admin_password = "a brand new admin password";
  StartServer();
  AuthResponse response;
  ASSERT_TRUE(Login(email, "a brand new admin password", &response).ok());
  std::vector<std::string> roles(response.user().roles().begin(), response.user().roles().end());
  EXPECT_EQ(roles, (std::vector<std::string>{"admin", "user"}));
}

TEST_F(AuthServiceTest, GetJwksPublishesEveryPublicKeyAndNoSecret) {
  v1::GetJwksResponse jwks;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetJwks(&context, v1::GetJwksRequest(), &jwks).ok());
  EXPECT_EQ(jwks.jwks_json(), R"({"keys":[]})");  // HS256 only: nothing to publish
}

TEST_F(AuthServiceTest, HostileInputIsStoredVerbatimAndHarmless) {
  const std::string evil_name = "Robert'); DROP TABLE users;--";
  const std::string email = "o'brien+" + std::to_string(clock_.NowUnixSeconds()) +
                            "\"x\"@example.com";
  AuthResponse response;
  ASSERT_TRUE(Register(email, kPassword, &response, evil_name, "$1 \\\\ %_ ;").ok());
  EXPECT_EQ(response.user().first_name(), evil_name);
  EXPECT_EQ(response.user().last_name(), "$1 \\\\ %_ ;");
  ASSERT_TRUE(Login(email, kPassword, &response).ok());
  ExpectStatus(Login("' OR '1'='1@example.com", "' OR '1'='1", &response),
               grpc::StatusCode::UNAUTHENTICATED);
  ExpectStatus(Refresh("tgr_'; DELETE FROM refresh_tokens;--", &response),
               grpc::StatusCode::UNAUTHENTICATED);
  // Very long strings: refused with the field named, never a crash.
  const std::string huge(100000, 'a');
  ExpectStatus(Register(huge + "@example.com", kPassword, &response),
               grpc::StatusCode::INVALID_ARGUMENT, "email");
  ExpectStatus(Register(NewEmail(), kPassword, &response, huge, "x"),
               grpc::StatusCode::INVALID_ARGUMENT, "first_name");
  ExpectStatus(Login(huge, huge, &response), grpc::StatusCode::UNAUTHENTICATED);
  ExpectStatus(Refresh(huge, &response), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Logout(huge, true).ok());
  // The table is still there and the account still works.
  ASSERT_TRUE(Login(email, kPassword, &response).ok());
}

// AuthService's own account and admin methods pass the same interceptor as
// any protected service (SPEC section 6).
TEST_F(AuthServiceTest, OwnProtectedMethodsAreGuardedByTheInterceptor) {
  const AuthResponse session = RegisterOrDie(NewEmail());
  {
    grpc::ClientContext context;
    v1::User user;
    const grpc::Status status = stub_->GetCurrentUser(&context, v1::GetCurrentUserRequest(), &user);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(status.error_message(),
              "authorization metadata is required: send 'authorization: Bearer <token>'");
    const auto trailers = context.GetServerTrailingMetadata();
    EXPECT_EQ(trailers.count("www-authenticate"), 1u);
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + session.access_token());
    v1::ListUsersResponse users;
    const grpc::Status status = stub_->ListUsers(&context, v1::ListUsersRequest(), &users);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(status.error_message(), "method tollgate.auth.v1.AuthService/ListUsers requires role 'admin'");
  }
  {
    // Past the guard, the caller's own account.
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + session.access_token());
    v1::User user;
    const grpc::Status status = stub_->GetCurrentUser(&context, v1::GetCurrentUserRequest(), &user);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(user.id(), session.user().id());
  }
  {
    // An expired token, by the service's own clock.
    clock_.Advance(900 + 30);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + session.access_token());
    v1::User user;
    const grpc::Status status = stub_->GetCurrentUser(&context, v1::GetCurrentUserRequest(), &user);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(status.error_message(), "token expired");
  }
}

TEST_F(AuthServiceTest, PurgeGoesInBatchesStopsWhenToldAndYieldsToAnotherReplica) {
  // Five sessions, revoked at unix second 5: no other test's data ended
  // before second 6.
  std::vector<std::string> emails;
  for (int i = 0; i < 5; ++i) {
    emails.push_back(NewEmail());
    RegisterOrDie(emails.back());
  }
  std::string in_list;
  for (const std::string& email : emails) in_list += (in_list.empty() ? "'" : ", '") + email + "'";
  Sql("UPDATE refresh_families SET revoked_at = 5 WHERE user_id IN "
      "(SELECT id FROM users WHERE email IN (" + in_list + "))");

  PostgresPoolOptions options;
  options.url = cluster_->url();
  options.size = 2;
  options.prepared_statements = PostgresSessionStore::PreparedStatements();
  PostgresPool pool(options);
  PostgresSessionStore store(pool);
  const auto remaining = [&] {
    int left = 0;
    for (const std::string& email : emails) left += StoredSessions(email) == "1|1" ? 1 : 0;
    return left;
  };

  // Another replica's janitor holds the lock: this one purges nothing.
  {
    pqxx::connection other(cluster_->url());
    pqxx::work holding(other);
    holding.exec_params("SELECT pg_advisory_xact_lock($1)", kJanitorLockKey);
    const absl::StatusOr<int64_t> purged = store.PurgeEndedSessions(6, [] { return true; }, 2);
    ASSERT_TRUE(purged.ok()) << purged.status();
    EXPECT_EQ(*purged, 0);
    EXPECT_EQ(remaining(), 5);
  }  // the lock goes with the transaction

  // Told to stop after one batch: one batch of two.
  int batches = 0;
  absl::StatusOr<int64_t> purged =
      store.PurgeEndedSessions(6, [&batches] { return batches++ < 1; }, 2);
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(*purged, 2);
  EXPECT_EQ(remaining(), 3);

  // The rest, in batches of two: 2, then 1 (a short batch ends the round).
  purged = store.PurgeEndedSessions(6, [] { return true; }, 2);
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(*purged, 3);
  EXPECT_EQ(remaining(), 0);
  for (const std::string& email : emails) EXPECT_EQ(StoredSessions(email), "0|0") << email;
}

TEST_F(AuthServiceTest, JanitorDeletesSessionsADayAfterTheyEndedAndKeepsLiveOnes) {
  config_.session_ttl_seconds = 7 * 86400;
  config_.session_purge_interval_seconds = 1;
  StartServer();

  // C: a session whose absolute lifetime ends, then a day and more passes.
  const std::string expired_email = NewEmail();
  const AuthResponse registered = RegisterOrDie(expired_email);
  AuthResponse expired;
  ASSERT_TRUE(Refresh(registered.refresh_token(), &expired).ok());
  clock_.Advance(7 * 86400 + kEndedSessionRetentionSeconds + 1);

  // A: live. B: logged out (revoked) just now.
  const std::string live_email = NewEmail();
  const std::string revoked_email = NewEmail();
  const AuthResponse live = RegisterOrDie(live_email);
  const AuthResponse revoked = RegisterOrDie(revoked_email);
  ASSERT_TRUE(Logout(revoked.refresh_token(), false).ok());

  // C goes with both its tokens (the spent one and its successor).
  EXPECT_EQ(AwaitStoredSessions(expired_email, "0|0"), "0|0");
  EXPECT_EQ(StoredSessions(live_email), "1|1");
  EXPECT_EQ(StoredSessions(revoked_email), "1|1");  // revoked less than a day ago
  // What the client sees (an expired session answered the same before the
  // purge; the 0|0 above is what proves the deletion).
  AuthResponse unused;
  ExpectStatus(Refresh(expired.refresh_token(), &unused), grpc::StatusCode::UNAUTHENTICATED,
               "invalid refresh token");

  // A day later the revoked session goes too. The live one stays until its
  // absolute lifetime is over, although its token has idled out.
  clock_.Advance(kEndedSessionRetentionSeconds + 1);
  EXPECT_EQ(AwaitStoredSessions(revoked_email, "0|0"), "0|0");
  EXPECT_EQ(StoredSessions(live_email), "1|1");
  // The accounts themselves stay.
  AuthResponse login;
  EXPECT_TRUE(Login(expired_email, kPassword, &login).ok());
}

TEST_F(AuthServiceTest, HttpPortServesHealthReadinessJwksAndMetrics) {
  config_.http_listen_address = "127.0.0.1:0";
  StartServer();
  ASSERT_GT(server_->http_port(), 0);
  httplib::Client http("127.0.0.1", server_->http_port());
  http.set_read_timeout(5, 0);

  auto healthz = http.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  auto readyz = http.Get("/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 200);

  // The same set as GetJwks (empty here: an HS256 secret is never
  // published), with its media type, a cache lifetime and an ETag.
  v1::GetJwksResponse jwks;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetJwks(&context, v1::GetJwksRequest(), &jwks).ok());
  auto served = http.Get("/.well-known/jwks.json");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
  EXPECT_EQ(served->body, jwks.jwks_json());
  EXPECT_EQ(served->get_header_value("Content-Type"), "application/jwk-set+json");
  EXPECT_EQ(served->get_header_value("Cache-Control"), "public, max-age=300");
  const std::string etag = served->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto not_modified = http.Get("/.well-known/jwks.json", {{"If-None-Match", etag}});
  ASSERT_TRUE(not_modified);
  EXPECT_EQ(not_modified->status, 304);

  absl::StatusOr<PrometheusText> metrics = ScrapeMetrics(server_->http_port());
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(metrics->Value("tollgate_password_hash_queue_depth"), 0);
  EXPECT_TRUE(metrics->Value("tollgate_mail_outbox_pending").has_value());
  EXPECT_TRUE(metrics->Value("process_resident_memory_bytes").has_value());

  // Readiness follows the database: down, 503; back, 200.
  ASSERT_TRUE(cluster_->Stop().ok());
  int status = 0;
  for (int i = 0; i < 50 && status != 503; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto probe = http.Get("/readyz");
    status = probe ? probe->status : 0;
  }
  EXPECT_EQ(status, 503);
  ASSERT_TRUE(cluster_->StartAgain().ok());
  for (int i = 0; i < 50 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto probe = http.Get("/readyz");
    status = probe ? probe->status : 0;
  }
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace tollgate::auth
