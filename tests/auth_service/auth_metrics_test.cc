// AuthService's tollgate_* metrics as an operator sees them: an in-process
// AuthServer (real gRPC server and AUTH_HTTP_LISTEN on 127.0.0.1:0, a real
// PostgreSQL started by the test), /metrics scraped over HTTP and parsed
// (tests/support/prometheus_text.h) before and after known calls, and the
// exact change of each counter checked: denials by reason, token-cache hits
// and misses, login failures, refresh reuse, hash sheds and pool waits.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "auth_service/auth_server.h"
#include "prometheus/text_serializer.h"
#include "tests/auth_service/in_process_auth_server.h"
#include "tests/support/prometheus_text.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::auth {
namespace {

using std::chrono::milliseconds;
using tollgate::testing::Delta;
using tollgate::testing::PrometheusText;
using tollgate::testing::ServedValue;

constexpr char kPassword[] = "correct horse battery staple";

class AuthMetricsTest : public InProcessAuthServerSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    config_ = TestAuthConfig(cluster_->url());
    config_.http_listen_address = "127.0.0.1:0";
  }

  PrometheusText Scrape() {
    return tollgate::testing::ScrapeMetricsOrFail(server_->http_port());
  }
  // tollgate_auth_denied_total's change by reason, without unchanged reasons.
  static std::map<std::string, double> DenialDeltas(const PrometheusText& before,
                                                    const PrometheusText& after) {
    return tollgate::testing::DeltasByLabel(before, after, "tollgate_auth_denied_total",
                                            "reason");
  }

  v1::AuthResponse RegisterOrDie(const std::string& email) {
    v1::AuthResponse response;
    const grpc::Status status = Register(email, &response);
    EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    return response;
  }
  grpc::Status Register(const std::string& email, v1::AuthResponse* response = nullptr) {
    v1::RegisterRequest request;
    request.set_email(email);
    request.set_password(kPassword);
    request.set_first_name("Ada");
    request.set_last_name("Lovelace");
    v1::AuthResponse unused;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub_->Register(&context, request, response != nullptr ? response : &unused);
  }
  grpc::Status Login(const std::string& email, const std::string& password) {
    v1::LoginRequest request;
    request.set_email(email);
    request.set_password(password);
    v1::AuthResponse response;
    grpc::ClientContext context;
    return stub_->Login(&context, request, &response);
  }
  grpc::Status Refresh(const std::string& refresh_token, v1::AuthResponse* response) {
    v1::RefreshRequest request;
    request.set_refresh_token(refresh_token);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub_->Refresh(&context, request, response);
  }
  // GetCurrentUser (role "user") with this bearer token; none when empty.
  grpc::Status GetCurrentUser(const std::string& access_token) {
    grpc::ClientContext context;
    if (!access_token.empty()) context.AddMetadata("authorization", "Bearer " + access_token);
    v1::User user;
    return stub_->GetCurrentUser(&context, v1::GetCurrentUserRequest(), &user);
  }
  grpc::Status ListUsers(const std::string& access_token) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + access_token);
    v1::ListUsersResponse response;
    return stub_->ListUsers(&context, v1::ListUsersRequest(), &response);
  }
};

TEST_F(AuthMetricsTest, ServesEveryTollgateFamilyWithItsType) {
  StartServer();
  const PrometheusText text = Scrape();
  for (const char* counter :
       {"tollgate_auth_denied_total", "tollgate_token_cache_hits_total",
        "tollgate_token_cache_misses_total", "tollgate_undecodable_requests_total",
        "tollgate_db_pool_waits_total", "tollgate_password_hash_shed_total",
        "tollgate_refresh_reuse_detected_total", "tollgate_login_failures_total"}) {
    EXPECT_EQ(text.Type(counter), "counter") << counter;
  }
  for (const char* gauge : {"tollgate_db_pool_in_use", "tollgate_password_hash_queue_depth",
                            "tollgate_mail_outbox_pending"}) {
    EXPECT_EQ(text.Type(gauge), "gauge") << gauge;
  }
  EXPECT_EQ(ServedValue(text, "tollgate_db_pool_in_use"), 0);
  EXPECT_EQ(ServedValue(text, "tollgate_password_hash_queue_depth"), 0);
  EXPECT_EQ(ServedValue(text, "tollgate_mail_outbox_pending"), 0);
  // Every denial reason is a series before its first denial.
  EXPECT_EQ(
      ServedValue(text, "tollgate_auth_denied_total", {{"reason", "missing_authorization"}}), 0);
  EXPECT_EQ(ServedValue(text, "tollgate_auth_denied_total", {{"reason", "expired"}}), 0);
  // AuthService signs with its own keys: it fetches none.
  EXPECT_EQ(text.Type("tollgate_jwks_fetch_total"), "");
  EXPECT_EQ(text.Type("tollgate_jwks_age_seconds"), "");
}

TEST_F(AuthMetricsTest, CountsDenialsByReasonAndTokenCacheHitsAndMisses) {
  StartServer();
  const std::string token = RegisterOrDie(NewEmail()).access_token();
  // Another signature (its first character changed): still base64url.
  std::string tampered = token;
  char& signature_start = tampered[tampered.rfind('.') + 1];
  signature_start = signature_start == 'A' ? 'B' : 'A';
  const PrometheusText before = Scrape();

  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(GetCurrentUser("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(GetCurrentUser(token).ok());  // a miss, then hits
  EXPECT_EQ(ListUsers(token).error_code(), grpc::StatusCode::PERMISSION_DENIED);  // a hit
  EXPECT_EQ(GetCurrentUser(tampered).error_code(), grpc::StatusCode::UNAUTHENTICATED);  // a miss

  const PrometheusText after = Scrape();
  const std::map<std::string, double> expected = {
      {"missing_authorization", 3}, {"missing_role", 1}, {"bad_signature", 1}};
  EXPECT_EQ(DenialDeltas(before, after), expected);
  EXPECT_EQ(Delta(before, after, "tollgate_token_cache_misses_total"), 2);
  EXPECT_EQ(Delta(before, after, "tollgate_token_cache_hits_total"), 3);
}

TEST_F(AuthMetricsTest, CountsWrongPasswordsAndUnknownEmailsAsLoginFailures) {
  StartServer();
  const std::string email = NewEmail();
  RegisterOrDie(email);
  const PrometheusText before = Scrape();
  EXPECT_EQ(Login(email, "not the password").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const PrometheusText after_wrong_password = Scrape();
  EXPECT_EQ(Delta(before, after_wrong_password, "tollgate_login_failures_total"), 1);

  EXPECT_EQ(Login(NewEmail(), kPassword).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Login(email, kPassword).ok());
  const PrometheusText after = Scrape();
  EXPECT_EQ(Delta(before, after, "tollgate_login_failures_total"), 2);
  // A refused login is not a denial of the access policy (Login is public).
  EXPECT_EQ(DenialDeltas(before, after), (std::map<std::string, double>{}));
}

TEST_F(AuthMetricsTest, CountsARefreshTokenReusedAfterTheGraceWindowOnce) {
  StartServer();
  const std::string first = RegisterOrDie(NewEmail()).refresh_token();
  v1::AuthResponse rotated;
  ASSERT_TRUE(Refresh(first, &rotated).ok());
  clock_.Advance(config_.refresh_grace_seconds + 1);
  const PrometheusText before = Scrape();

  v1::AuthResponse ignored;
  EXPECT_EQ(Refresh(first, &ignored).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const PrometheusText after_reuse = Scrape();
  EXPECT_EQ(Delta(before, after_reuse, "tollgate_refresh_reuse_detected_total"), 1);

  // The family is revoked now: its tokens are refused, but nothing new was
  // detected.
  EXPECT_EQ(Refresh(rotated.refresh_token(), &ignored).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Refresh(first, &ignored).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Delta(before, Scrape(), "tollgate_refresh_reuse_detected_total"), 1);
}

// One hashing thread and a queue of one: a third password call while the
// first hashes and the second waits is shed, and counted once.
TEST_F(AuthMetricsTest, CountsAPasswordCallShedByAFullHashQueue) {
  config_.hash_threads = 1;
  config_.hash_queue = 1;
  // Slow hashes (about a second each here), so the first is still running
  // while the test queues the second and sends the third.
  config_.argon2_memory_kib = 65536;
  config_.argon2_iterations = 10;
  StartServer();
  const PrometheusText before = Scrape();

  std::future<grpc::Status> running = std::async(std::launch::async, [&] { return Register(NewEmail()); });
  std::future<grpc::Status> queued = std::async(std::launch::async, [&] { return Register(NewEmail()); });
  // Both accepted: one hashing, one waiting (bounded poll).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Scrape().Value("tollgate_password_hash_queue_depth") != 1.0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_EQ(Scrape().Value("tollgate_password_hash_queue_depth"), 1.0);

  const grpc::Status shed = Register(NewEmail());
  EXPECT_EQ(shed.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(shed.error_message(), "too many password operations in progress, retry later");
  EXPECT_TRUE(running.get().ok());
  EXPECT_TRUE(queued.get().ok());

  const PrometheusText after = Scrape();
  EXPECT_EQ(Delta(before, after, "tollgate_password_hash_shed_total"), 1);
  EXPECT_EQ(ServedValue(after, "tollgate_password_hash_queue_depth"), 0);
}

// One pooled connection, held by a Refresh that waits on a table lock the
// test takes: a Login then finds no free connection, waits, and is shed.
TEST_F(AuthMetricsTest, CountsACallThatWaitedForABusyPool) {
  config_.database_pool_size = 1;
  StartServer();
  const std::string email = NewEmail();
  const std::string refresh_token = RegisterOrDie(email).refresh_token();
  const PrometheusText before = Scrape();
  EXPECT_EQ(ServedValue(before, "tollgate_db_pool_in_use"), 0);

  pqxx::connection locker(cluster_->url());
  pqxx::work lock(locker);
  lock.exec("LOCK TABLE refresh_tokens IN ACCESS EXCLUSIVE MODE");
  std::future<grpc::Status> refresh = std::async(std::launch::async, [&] {
    v1::AuthResponse response;
    return Refresh(refresh_token, &response);
  });
  {
    // Until the Refresh waits for the lock on the pool's only connection.
    pqxx::connection watcher(cluster_->url());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int waiting = 0;
    while (waiting == 0 && std::chrono::steady_clock::now() < deadline) {
      pqxx::nontransaction query(watcher);
      waiting = query.exec1("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")[0]
                    .as<int>();
      if (waiting == 0) std::this_thread::sleep_for(milliseconds(5));
    }
    ASSERT_EQ(waiting, 1);
  }

  const grpc::Status login = Login(email, kPassword);
  EXPECT_EQ(login.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << login.error_message();
  lock.abort();
  EXPECT_TRUE(refresh.get().ok());

  // The health probe, which waited too (uncounted), may hold the connection
  // for a moment now; scrapes do not count as waits either.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  PrometheusText after = Scrape();
  while (after.Value("tollgate_db_pool_in_use") != 0.0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
    after = Scrape();
  }
  EXPECT_EQ(ServedValue(after, "tollgate_db_pool_in_use"), 0);
  EXPECT_EQ(Delta(before, after, "tollgate_db_pool_waits_total"), 1);
}

// The registry is made before anything that feeds it, so the counters count
// with AUTH_HTTP_LISTEN off too (and /metrics, once on, shows the history).
TEST_F(AuthMetricsTest, CountsWithoutTheHttpPort) {
  config_.http_listen_address.clear();
  StartServer();
  ASSERT_EQ(server_->http_port(), 0);
  EXPECT_EQ(Login(NewEmail(), kPassword).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetCurrentUser("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto text = PrometheusText::Parse(
      prometheus::TextSerializer().Serialize(server_->metrics_registry().Collect()));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->Value("tollgate_login_failures_total"), 1);
  EXPECT_EQ(text->Value("tollgate_auth_denied_total", {{"reason", "missing_authorization"}}), 1);
}

}  // namespace
}  // namespace tollgate::auth
