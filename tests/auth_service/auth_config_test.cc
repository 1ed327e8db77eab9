#include "auth_service/auth_config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tollgate::auth {
namespace {

constexpr char kSecret32[] = "0123456789abcdef0123456789abcdef";

class AuthConfigTest : public ::testing::Test {
 protected:
  // The least a valid configuration needs.
  std::map<std::string, std::string> env_ = {
      {"AUTH_DATABASE_URL", "postgresql://tollgate@localhost/tollgate"},
      {"AUTH_SIGNING_KEYS", "/keys/es256.pem"},
  };

  absl::StatusOr<AuthConfig> Parse(std::vector<std::string> args = {}) {
    args.insert(args.begin(), "auth_service");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    return AuthConfig::FromFlagsAndEnv(
        static_cast<int>(args.size()), argv.data(),
        [this](const std::string& name) -> std::optional<std::string> {
          auto found = env_.find(name);
          if (found == env_.end()) return std::nullopt;
          return found->second;
        });
  }

  // Asserts INVALID_ARGUMENT whose one-line message mentions `needle`.
  void ExpectInvalid(const absl::StatusOr<AuthConfig>& config, const std::string& needle) {
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find(needle), absl::string_view::npos)
        << config.status().message();
    EXPECT_EQ(config.status().message().find('\n'), absl::string_view::npos);
  }
};

TEST_F(AuthConfigTest, UsesSpecDefaultsWhenOnlyRequiredSettingsAreGiven) {
  absl::StatusOr<AuthConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_address, "0.0.0.0:50051");
  EXPECT_EQ(config->database_url, "postgresql://tollgate@localhost/tollgate");
  EXPECT_EQ(config->signing_key_files, std::vector<std::string>{"/keys/es256.pem"});
  EXPECT_EQ(config->jwt_secret_key, "");
  EXPECT_EQ(config->token_issuer, "tollgate");
  EXPECT_EQ(config->token_audience, "tollgate");
  EXPECT_EQ(config->token_leeway_seconds, 30);
  EXPECT_EQ(config->access_ttl_seconds, 900);
  EXPECT_EQ(config->refresh_idle_ttl_seconds, 604800);
  EXPECT_EQ(config->session_ttl_seconds, 2592000);
  EXPECT_EQ(config->refresh_grace_seconds, 10);
  EXPECT_EQ(config->session_purge_interval_seconds, 3600);
  EXPECT_EQ(config->bootstrap_admin_email, "");
  EXPECT_EQ(config->http_listen_address, "");
}

TEST_F(AuthConfigTest, FlagWinsOverEnvironmentInBothFlagForms) {
  env_["AUTH_LISTEN"] = "127.0.0.1:1";
  env_["AUTH_ACCESS_TTL"] = "60";
  absl::StatusOr<AuthConfig> config =
      Parse({"--listen=127.0.0.1:2", "--access-ttl", "120", "--token-issuer", "https://id"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_address, "127.0.0.1:2");
  EXPECT_EQ(config->access_ttl_seconds, 120);
  EXPECT_EQ(config->token_issuer, "https://id");
}

TEST_F(AuthConfigTest, EmptyValueCountsAsUnset) {
  env_["AUTH_LISTEN"] = "";
  env_["TOKEN_LEEWAY"] = "";
  absl::StatusOr<AuthConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_address, "0.0.0.0:50051");
  EXPECT_EQ(config->token_leeway_seconds, 30);
}

TEST_F(AuthConfigTest, SplitsAndTrimsSigningKeyFilesInOrder) {
  env_["AUTH_SIGNING_KEYS"] = " new.pem, old.pem ,,";
  absl::StatusOr<AuthConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->signing_key_files, (std::vector<std::string>{"new.pem", "old.pem"}));
}

TEST_F(AuthConfigTest, AcceptsSharedSecretInsteadOfSigningKeys) {
  env_.erase("AUTH_SIGNING_KEYS");
  env_["JWT_SECRET_KEY"] = kSecret32;
  absl::StatusOr<AuthConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->signing_key_files.empty());
  EXPECT_EQ(config->jwt_secret_key, kSecret32);
}

TEST_F(AuthConfigTest, RejectsMissingDatabaseUrl) {
  env_.erase("AUTH_DATABASE_URL");
  ExpectInvalid(Parse(), "AUTH_DATABASE_URL");
}

TEST_F(AuthConfigTest, RejectsNeitherSigningKeysNorSharedSecret) {
  env_.erase("AUTH_SIGNING_KEYS");
  ExpectInvalid(Parse(), "one is required");
}

TEST_F(AuthConfigTest, RejectsSigningKeysListingNoFile) {
  env_["AUTH_SIGNING_KEYS"] = " , ";
  ExpectInvalid(Parse(), "AUTH_SIGNING_KEYS");
}

TEST_F(AuthConfigTest, RejectsBothSigningKeysAndSharedSecret) {
  env_["JWT_SECRET_KEY"] = kSecret32;
  ExpectInvalid(Parse(), "not both");
}

TEST_F(AuthConfigTest, RejectsShortSharedSecretWithoutEchoingIt) {
  env_.erase("AUTH_SIGNING_KEYS");
  env_["JWT_SECRET_KEY"] = "hunter2-but-31-bytes-long-xxxxx";
  absl::StatusOr<AuthConfig> config = Parse();
  ExpectInvalid(config, "at least 32 bytes, got 31");
  EXPECT_EQ(config.status().message().find("hunter2"), absl::string_view::npos);
}

TEST_F(AuthConfigTest, RejectsSecondsOutsideTheirRange) {
  ExpectInvalid(Parse({"--access-ttl=0"}), "AUTH_ACCESS_TTL");
  ExpectInvalid(Parse({"--access-ttl=86401"}), "AUTH_ACCESS_TTL");
  ExpectInvalid(Parse({"--token-leeway=-1"}), "TOKEN_LEEWAY");
  ExpectInvalid(Parse({"--token-leeway=301"}), "TOKEN_LEEWAY");
  ExpectInvalid(Parse({"--refresh-grace=12s"}), "AUTH_REFRESH_GRACE");
  ExpectInvalid(Parse({"--session-ttl=31536001"}), "AUTH_SESSION_TTL");
  ExpectInvalid(Parse({"--session-purge-interval=86401"}), "AUTH_SESSION_PURGE_INTERVAL");
  ExpectInvalid(Parse({"--session-purge-interval=-1"}), "AUTH_SESSION_PURGE_INTERVAL");
}

TEST_F(AuthConfigTest, AcceptsSecondsAtTheEdgesOfTheirRange) {
  absl::StatusOr<AuthConfig> config =
      Parse({"--access-ttl=86400", "--token-leeway=0", "--refresh-grace=300",
             "--session-purge-interval=0"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->session_purge_interval_seconds, 0);  // never
  EXPECT_EQ(config->access_ttl_seconds, 86400);
  EXPECT_EQ(config->token_leeway_seconds, 0);
  EXPECT_EQ(config->refresh_grace_seconds, 300);
}

TEST_F(AuthConfigTest, RejectsRefreshIdleTtlLongerThanSessionTtl) {
  ExpectInvalid(Parse({"--session-ttl=3600", "--refresh-idle-ttl=3601"}), "must not exceed");
}

TEST_F(AuthConfigTest, RejectsOnlyOneOfTheBootstrapAdminSettings) {
  env_["AUTH_BOOTSTRAP_ADMIN_EMAIL"] = "admin@example.com";
  ExpectInvalid(Parse(), "set both or neither");
  env_["AUTH_BOOTSTRAP_ADMIN_PASSWORD"] = "correct horse battery staple";
  absl::StatusOr<AuthConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->bootstrap_admin_email, "admin@example.com");
}

TEST_F(AuthConfigTest, RejectsMalformedListenAddresses) {
  ExpectInvalid(Parse({"--listen=localhost"}), "AUTH_LISTEN");
  ExpectInvalid(Parse({"--listen=localhost:65536"}), "AUTH_LISTEN");
  ExpectInvalid(Parse({"--http-listen=:x"}), "AUTH_HTTP_LISTEN");
  EXPECT_TRUE(Parse({"--listen=[::]:0", "--http-listen=127.0.0.1:9090"}).ok());
  EXPECT_TRUE(Parse({"--listen=unix:/run/tollgate/auth.sock"}).ok());
}

TEST_F(AuthConfigTest, RejectsUnknownFlagsPositionalArgumentsAndMissingValues) {
  ExpectInvalid(Parse({"--no-such-flag=1"}), "unknown flag --no-such-flag");
  ExpectInvalid(Parse({"extra"}), "unexpected argument 'extra'");
  ExpectInvalid(Parse({"--listen"}), "--listen needs a value");
}

TEST_F(AuthConfigTest, WantsHelpForEitherSpelling) {
  std::string program = "auth_service", long_help = "--help", short_help = "-h";
  char* with_long[] = {program.data(), long_help.data(), nullptr};
  char* with_short[] = {program.data(), short_help.data(), nullptr};
  char* without[] = {program.data(), nullptr};
  EXPECT_TRUE(AuthConfig::WantsHelp(2, with_long));
  EXPECT_TRUE(AuthConfig::WantsHelp(2, with_short));
  EXPECT_FALSE(AuthConfig::WantsHelp(1, without));
}

TEST_F(AuthConfigTest, HelpListsEveryVariableOfTheSpec) {
  std::string help = AuthConfig::HelpText();
  for (const char* variable :
       {"AUTH_LISTEN", "AUTH_DATABASE_URL", "AUTH_SIGNING_KEYS", "JWT_SECRET_KEY", "TOKEN_ISSUER",
        "TOKEN_AUDIENCE", "TOKEN_LEEWAY", "AUTH_ACCESS_TTL", "AUTH_REFRESH_IDLE_TTL",
        "AUTH_SESSION_TTL", "AUTH_REFRESH_GRACE", "AUTH_BOOTSTRAP_ADMIN_EMAIL",
        "AUTH_BOOTSTRAP_ADMIN_PASSWORD", "AUTH_HTTP_LISTEN"}) {
    EXPECT_NE(help.find(variable), std::string::npos) << variable;
  }
}

}  // namespace
}  // namespace tollgate::auth
