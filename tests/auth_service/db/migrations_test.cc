#include "auth_service/db/migrations.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/nontransaction>
#include <pqxx/result>

#include "tests/support/postgres_suite.h"

namespace tollgate::auth {
namespace {

using ::tollgate::testing::PostgresCluster;

class MigrationsTest : public ::tollgate::testing::PostgresSuite {
 protected:
  void SetUp() override {
    // Fails (never skips) every test when PostgreSQL could not start.
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
  }

  // A fresh, empty database for this test; its URL.
  static std::string EmptyDatabase(const std::string& name) {
    absl::StatusOr<std::string> url = cluster_->CreateDatabase(name);
    EXPECT_TRUE(url.ok()) << url.status();
    return url.value_or("");
  }

  // Rows of a query, each row's fields joined with '|'.
  static std::vector<std::string> Query(const std::string& url, const std::string& sql) {
    pqxx::connection connection(url);
    pqxx::nontransaction txn(connection);
    std::vector<std::string> rows;
    for (const auto& row : txn.exec(sql)) {
      std::string text;
      for (const auto& field : row) {
        if (!text.empty()) text += "|";
        text += field.is_null() ? "NULL" : field.c_str();
      }
      rows.push_back(text);
    }
    return rows;
  }

  static std::vector<std::string> EmbeddedVersions() {
    std::vector<std::string> versions;
    for (const Migration& migration : EmbeddedMigrations()) {
      versions.push_back(std::to_string(migration.version) + "|" + std::string(migration.name));
    }
    return versions;
  }

};

TEST_F(MigrationsTest, EmbeddedMigrationsStartAtOneAndIncrease) {
  const std::span<const Migration> migrations = EmbeddedMigrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations[0].version, 1);
  EXPECT_EQ(migrations[0].name, "accounts");
  for (size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_FALSE(migrations[i].name.empty());
    EXPECT_NE(migrations[i].sql.find("CREATE"), std::string_view::npos);
    if (i > 0) {
      EXPECT_GT(migrations[i].version, migrations[i - 1].version);
    }
  }
}

TEST_F(MigrationsTest, EmptyDatabaseGetsEveryTableAndEveryVersion) {
  const std::string url = EmptyDatabase("migrations_empty");
  pqxx::connection connection(url);

  ASSERT_TRUE(ApplyMigrations(connection).ok());

  EXPECT_EQ(Query(url, "SELECT to_regclass('users') IS NOT NULL, to_regclass('refresh_families') IS NOT NULL, "
                       "to_regclass('refresh_tokens') IS NOT NULL, to_regclass('server_secrets') IS NOT NULL, "
                       "to_regclass('refresh_families_user_id') IS NOT NULL, "
                       "to_regclass('refresh_tokens_family_id') IS NOT NULL, "
                       "to_regclass('refresh_families_expires_at') IS NOT NULL, "
                       "to_regclass('refresh_families_revoked_at') IS NOT NULL"),
            std::vector<std::string>{"t|t|t|t|t|t|t|t"});
  // Issue 8's tables and the indexes the janitor and ListUsers use.
  EXPECT_EQ(Query(url, "SELECT to_regclass('one_time_codes') IS NOT NULL, "
                       "to_regclass('one_time_codes_expires_at') IS NOT NULL, "
                       "to_regclass('login_failures') IS NOT NULL, "
                       "to_regclass('login_failures_last_failure_at') IS NOT NULL, "
                       "to_regclass('mail_outbox') IS NOT NULL, "
                       "to_regclass('maintenance_done') IS NOT NULL, "
                       "to_regclass('users_created_at_id') IS NOT NULL"),
            std::vector<std::string>{"t|t|t|t|t|t|t"});
  EXPECT_EQ(Query(url, "SELECT version, name FROM schema_migrations ORDER BY version"),
            EmbeddedVersions());
  // The column names and types other code queries by.
  EXPECT_EQ(Query(url, "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                       "WHERE table_name = 'users' ORDER BY ordinal_position"),
            (std::vector<std::string>{
                "id|uuid|NO", "email|text|NO", "email_normalized|text|NO", "first_name|text|NO",
                "last_name|text|NO", "password_hash|text|NO", "roles|ARRAY|NO",
                "is_active|boolean|NO", "is_verified|boolean|NO", "created_at|bigint|NO",
                "updated_at|bigint|NO"}));
  EXPECT_EQ(Query(url, "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                       "WHERE table_name = 'refresh_tokens' ORDER BY ordinal_position"),
            (std::vector<std::string>{"token_hash|bytea|NO", "family_id|uuid|NO",
                                      "created_at|bigint|NO", "expires_at|bigint|NO",
                                      "used_at|bigint|YES"}));
  // Defaults: a new account is an active, unverified 'user'.
  EXPECT_EQ(Query(url, "INSERT INTO users (email, email_normalized, first_name, last_name, "
                       "password_hash, created_at, updated_at) "
                       "VALUES ('A@x.org', 'a@x.org', 'A', 'B', '$argon2id$', 1, 1) "
                       "RETURNING roles, is_active, is_verified"),
            std::vector<std::string>{"{user}|t|f"});
}

TEST_F(MigrationsTest, ApplyingTwiceIsANoOp) {
  const std::string url = EmptyDatabase("migrations_twice");
  pqxx::connection connection(url);
  ASSERT_TRUE(ApplyMigrations(connection).ok());
  Query(url, "INSERT INTO server_secrets VALUES ('kept', '\\x01')");
  const std::vector<std::string> recorded =
      Query(url, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version");

  const absl::Status again = ApplyMigrations(connection);

  EXPECT_TRUE(again.ok()) << again;
  EXPECT_EQ(Query(url, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"),
            recorded);
  EXPECT_EQ(Query(url, "SELECT name FROM server_secrets"), std::vector<std::string>{"kept"});
}

// Replicas starting together on an empty database: without the advisory
// lock, concurrent CREATE TABLE statements collide and some replicas fail.
TEST_F(MigrationsTest, ConcurrentReplicasOnAnEmptyDatabaseAllSucceed) {
  constexpr int kReplicas = 4;
  for (int round = 0; round < 3; ++round) {
    const std::string url = EmptyDatabase("migrations_race_" + std::to_string(round));
    std::vector<std::unique_ptr<pqxx::connection>> connections;
    for (int i = 0; i < kReplicas; ++i) connections.push_back(std::make_unique<pqxx::connection>(url));
    std::vector<absl::Status> results(kReplicas);
    std::latch start(kReplicas);
    std::vector<std::thread> replicas;
    for (int i = 0; i < kReplicas; ++i) {
      replicas.emplace_back([&, i] {
        start.arrive_and_wait();
        results[i] = ApplyMigrations(*connections[i]);
      });
    }
    for (std::thread& replica : replicas) replica.join();

    for (int i = 0; i < kReplicas; ++i) {
      EXPECT_TRUE(results[i].ok()) << "round " << round << ", replica " << i << ": " << results[i];
    }
    EXPECT_EQ(Query(url, "SELECT version, name FROM schema_migrations ORDER BY version"),
              EmbeddedVersions());
  }
}

TEST_F(MigrationsTest, FailingMigrationRollsEverythingBack) {
  const std::string url = EmptyDatabase("migrations_failing");
  pqxx::connection connection(url);
  const Migration migrations[] = {
      {1, "fine", "CREATE TABLE fine (x int)"},
      {2, "broken", "CREATE TABLE broken ("},
  };

  const absl::Status status = ApplyMigrations(connection, migrations);

  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_NE(status.message().find("schema migration 2 (broken)"), std::string_view::npos) << status;
  EXPECT_EQ(Query(url, "SELECT to_regclass('fine') IS NULL, to_regclass('schema_migrations') IS NULL"),
            std::vector<std::string>{"t|t"});
}

TEST_F(MigrationsTest, RefusesARecordedVersionWithAnotherName) {
  const std::string url = EmptyDatabase("migrations_renamed");
  pqxx::connection connection(url);
  ASSERT_TRUE(ApplyMigrations(connection).ok());
  const Migration renamed[] = {{1, "something_else", "SELECT 1"}};

  const absl::Status status = ApplyMigrations(connection, renamed);

  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
}

TEST_F(MigrationsTest, AppliesThroughThePool) {
  PostgresPool::Options options;
  options.url = EmptyDatabase("migrations_pool");
  PostgresPool pool(options);

  const absl::Status status = ApplyMigrations(pool);

  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(Query(options.url, "SELECT version, name FROM schema_migrations ORDER BY version"),
            EmbeddedVersions());
}

TEST_F(MigrationsTest, UnreachableDatabaseIsUnavailable) {
  // A port that is bound but never listens: connecting is refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  PostgresPool::Options options;
  options.url = "postgresql://postgres@127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/tollgate";
  PostgresPool pool(options);

  const absl::Status status = ApplyMigrations(pool);
  ::close(fd);

  EXPECT_EQ(status, absl::UnavailableError("database unavailable"));
}

}  // namespace
}  // namespace tollgate::auth
