// Two real auth_service processes on one real PostgreSQL database: replicas
// that start together on an empty database both come up (the migrations run
// under an advisory lock), and 50 concurrent Refresh calls with one token,
// spread over both replicas, mint exactly one successor (SPEC section 4).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <latch>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/postgres_suite.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::auth {
namespace {

using testing::ChildProcess;
using testing::PostgresCluster;
using v1::AuthResponse;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kPassword[] = "correct horse battery staple";
constexpr int kConcurrentRefreshes = 50;
constexpr int kRounds = 5;
constexpr auto kStartTimeout = std::chrono::seconds(60);

// The environment of one replica: the same HS256 secret for all of them (so
// either replica accepts the other's tokens), cheap Argon2 (tests hash a lot).
std::vector<std::string> ReplicaEnvironment(const std::string& database_url) {
  return {
      "AUTH_LISTEN=127.0.0.1:0",
      "AUTH_DATABASE_URL=" + database_url,
      "JWT_SECRET_KEY=refresh-race-test-secret-0123456789abcdef",
      "AUTH_ARGON2_MEMORY_KIB=8192",
      "AUTH_ARGON2_ITERATIONS=1",
      "AUTH_HASH_THREADS=2",
      "AUTH_HASH_QUEUE=64",
      "AUTH_DATABASE_POOL_SIZE=4",
  };
}

// A running replica and a connected stub to it.
struct Replica {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::AuthService::Stub> stub;
};

class RefreshRaceTest : public testing::PostgresSuite {
 protected:
  void SetUp() override { ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_; }

  void TearDown() override {
    // SIGTERM drains and exits 0 (SPEC section 7).
    for (Replica& replica : replicas_) {
      if (!replica.process) continue;
      replica.stub.reset();
      replica.channel.reset();
      EXPECT_TRUE(replica.process->Terminate().ok()) << "pid " << replica.process->pid();
      EXPECT_EQ(replica.process->ExitCode(), 0) << "pid " << replica.process->pid();
    }
    replicas_.clear();
  }

  // Starts `count` replicas on `database_url` at the same moment (forked
  // back to back, before any of them has had time to migrate), then waits
  // for each to print its port and connects to it.
  void StartReplicasTogether(const std::string& database_url, int count) {
    for (int i = 0; i < count; ++i) {
      auto process = ChildProcess::Start(kAuthServiceBinary, {}, ReplicaEnvironment(database_url));
      ASSERT_TRUE(process.ok()) << process.status();
      replicas_.push_back(Replica{*std::move(process), 0, nullptr, nullptr});
    }
    for (Replica& replica : replicas_) {
      auto port = replica.process->WaitForPort(kStartTimeout);
      ASSERT_TRUE(port.ok()) << "replica pid " << replica.process->pid()
                             << " did not come up: " << port.status();
      replica.port = *port;
      replica.channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(*port),
                                            grpc::InsecureChannelCredentials());
      ASSERT_TRUE(replica.channel->WaitForConnected(std::chrono::system_clock::now() +
                                                    std::chrono::seconds(10)))
          << "cannot connect to replica on port " << *port;
      replica.stub = v1::AuthService::NewStub(replica.channel);
    }
  }

  static grpc::Status Register(v1::AuthService::Stub& stub, const std::string& email,
                               AuthResponse* response) {
    v1::RegisterRequest request;
    request.set_email(email);
    request.set_password(kPassword);
    request.set_first_name("Ada");
    request.set_last_name("Lovelace");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub.Register(&context, request, response);
  }

  static grpc::Status Refresh(v1::AuthService::Stub& stub, const std::string& refresh_token,
                              AuthResponse* response) {
    v1::RefreshRequest request;
    request.set_refresh_token(refresh_token);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub.Refresh(&context, request, response);
  }

  std::vector<Replica> replicas_;
};


TEST_F(RefreshRaceTest, TwoReplicasStartingTogetherOnAnEmptyDatabaseBothComeUp) {
  auto url = cluster_->CreateDatabase("replicas_together");
  ASSERT_TRUE(url.ok()) << url.status();
  StartReplicasTogether(*url, 2);
  ASSERT_EQ(replicas_.size(), 2u);
  ASSERT_NE(replicas_[0].stub, nullptr);
  ASSERT_NE(replicas_[1].stub, nullptr);
  EXPECT_NE(replicas_[0].port, replicas_[1].port);

  // Each migration was applied exactly once.
  pqxx::connection connection(*url);
  pqxx::nontransaction txn(connection);
  const pqxx::result versions =
      txn.exec("SELECT version, count(*) FROM schema_migrations GROUP BY version");
  ASSERT_FALSE(versions.empty());
  for (const auto& row : versions) {
    EXPECT_EQ(row[1].as<int>(), 1) << "migration " << row[0].c_str() << " recorded twice";
  }

  // One database behind both: an account registered on A logs in on B.
  AuthResponse registered;
  ASSERT_EQ(Register(*replicas_[0].stub, "together@example.com", &registered).error_code(),
            grpc::StatusCode::OK);
  v1::LoginRequest login;
  login.set_email("together@example.com");
  login.set_password(kPassword);
  AuthResponse logged_in;
  grpc::ClientContext context;
  const grpc::Status status = replicas_[1].stub->Login(&context, login, &logged_in);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OK) << status.error_message();
  EXPECT_EQ(logged_in.user().id(), registered.user().id());
}

TEST_F(RefreshRaceTest, ConcurrentRefreshAcrossTwoReplicasMintsExactlyOneSuccessor) {
  auto url = cluster_->CreateDatabase("refresh_race");
  ASSERT_TRUE(url.ok()) << url.status();
  StartReplicasTogether(*url, 2);
  ASSERT_EQ(replicas_.size(), 2u);
  pqxx::connection connection(*url);

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    AuthResponse registered;
    const std::string email = "race." + std::to_string(round) + "@example.com";
    const grpc::Status register_status = Register(*replicas_[0].stub, email, &registered);
    ASSERT_EQ(register_status.error_code(), grpc::StatusCode::OK)
        << register_status.error_message();
    const std::string original = registered.refresh_token();
    ASSERT_FALSE(original.empty());

    // Every thread waits at the latch, then all call at once; even threads
    // go to replica A, odd ones to replica B.
    std::vector<grpc::Status> statuses(kConcurrentRefreshes);
    std::vector<AuthResponse> responses(kConcurrentRefreshes);
    std::latch start(kConcurrentRefreshes);
    std::vector<std::thread> threads;
    for (int i = 0; i < kConcurrentRefreshes; ++i) {
      threads.emplace_back([&, i] {
        v1::AuthService::Stub& stub = *replicas_[i % 2].stub;
        start.arrive_and_wait();
        statuses[i] = Refresh(stub, original, &responses[i]);
      });
    }
    for (std::thread& thread : threads) thread.join();

    std::set<std::string> successors;
    std::map<int, int> ok_per_replica;
    for (int i = 0; i < kConcurrentRefreshes; ++i) {
      if (statuses[i].ok()) {
        successors.insert(responses[i].refresh_token());
        ++ok_per_replica[i % 2];
        EXPECT_FALSE(responses[i].access_token().empty()) << "call " << i;
        EXPECT_EQ(responses[i].user().id(), registered.user().id()) << "call " << i;
      } else {
        EXPECT_EQ(statuses[i].error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << "call " << i << ": " << statuses[i].error_message();
        EXPECT_EQ(statuses[i].error_message(), "invalid refresh token") << "call " << i;
      }
    }
    ASSERT_GE(successors.size(), 1u) << "no Refresh call succeeded";
    ASSERT_EQ(successors.size(), 1u) << "more than one successor was minted";
    const std::string successor = *successors.begin();
    EXPECT_NE(successor, original);
    EXPECT_EQ(successor.rfind("tgr_", 0), 0u);
    std::cerr << "round " << round << ": OK answers from replica A " << ok_per_replica[0]
              << ", from replica B " << ok_per_replica[1] << " of " << kConcurrentRefreshes
              << "\n";

    // In the database: the original (spent) and exactly one live successor
    // in the family. The token_hash is SHA-256 of the token's text.
    {
      pqxx::nontransaction txn(connection);
      const pqxx::result rows = txn.exec_params(
          "SELECT count(*), count(*) FILTER (WHERE used_at IS NULL) FROM refresh_tokens "
          "WHERE family_id = (SELECT family_id FROM refresh_tokens "
          "                   WHERE token_hash = sha256(convert_to($1, 'UTF8')))",
          original);
      ASSERT_EQ(rows.size(), 1u);
      EXPECT_EQ(rows[0][0].as<int>(), 2) << "rows in the family after the race";
      EXPECT_EQ(rows[0][1].as<int>(), 1) << "unspent rows in the family after the race";
    }

    // The successor works, on either replica.
    AuthResponse next;
    const grpc::Status next_status = Refresh(*replicas_[round % 2].stub, successor, &next);
    ASSERT_EQ(next_status.error_code(), grpc::StatusCode::OK) << next_status.error_message();
    EXPECT_NE(next.refresh_token(), successor);
    EXPECT_NE(next.refresh_token(), original);
  }
}

}  // namespace
}  // namespace tollgate::auth
