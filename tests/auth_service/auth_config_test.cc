#include "auth_service/auth_config.h"

#include <gtest/gtest.h>

#include <chrono>
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

TEST_F(AuthConfigTest, ConnectionLimitsAndShutdownGraceDefaultToTheDocumentedValues) {
  absl::StatusOr<AuthConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->connection_limits, ConnectionLimits{});
  EXPECT_EQ(config->shutdown_grace_seconds, 10);
}

TEST_F(AuthConfigTest, ReadsConnectionLimitsAndShutdownGrace) {
  env_["AUTH_MAX_CONNECTION_IDLE"] = "0";
  env_["AUTH_MAX_CONNECTION_AGE"] = "604800";
  env_["AUTH_MAX_CONNECTION_AGE_GRACE"] = "0";
  env_["AUTH_KEEPALIVE_MIN_PING_INTERVAL"] = "1";
  env_["AUTH_MAX_CONCURRENT_STREAMS"] = "65536";
  env_["AUTH_SHUTDOWN_GRACE"] = "0";
  absl::StatusOr<AuthConfig> config = Parse({"--max-connection-idle=7"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->connection_limits.max_idle, std::chrono::seconds(7));  // the flag wins
  EXPECT_EQ(config->connection_limits.max_age, std::chrono::seconds(604800));
  EXPECT_EQ(config->connection_limits.max_age_grace, std::chrono::seconds(0));
  EXPECT_EQ(config->connection_limits.min_ping_interval, std::chrono::seconds(1));
  EXPECT_EQ(config->connection_limits.max_concurrent_streams, 65536);
  EXPECT_EQ(config->shutdown_grace_seconds, 0);
}

TEST_F(AuthConfigTest, RejectsConnectionLimitsAndShutdownGraceOutsideTheirRange) {
  ExpectInvalid(Parse({"--max-connection-idle=-1"}), "AUTH_MAX_CONNECTION_IDLE");
  ExpectInvalid(Parse({"--max-connection-idle=86401"}), "AUTH_MAX_CONNECTION_IDLE");
  ExpectInvalid(Parse({"--max-connection-age=604801"}), "AUTH_MAX_CONNECTION_AGE");
  ExpectInvalid(Parse({"--max-connection-age-grace=3601"}), "AUTH_MAX_CONNECTION_AGE_GRACE");
  ExpectInvalid(Parse({"--keepalive-min-ping-interval=0"}), "AUTH_KEEPALIVE_MIN_PING_INTERVAL");
  ExpectInvalid(Parse({"--max-concurrent-streams=0"}), "AUTH_MAX_CONCURRENT_STREAMS");
  ExpectInvalid(Parse({"--max-concurrent-streams=65537"}), "AUTH_MAX_CONCURRENT_STREAMS");
  ExpectInvalid(Parse({"--shutdown-grace=-1"}), "AUTH_SHUTDOWN_GRACE");
  ExpectInvalid(Parse({"--shutdown-grace=3601"}), "AUTH_SHUTDOWN_GRACE");
  ExpectInvalid(Parse({"--shutdown-grace=10s"}), "AUTH_SHUTDOWN_GRACE");
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

TEST_F(AuthConfigTest, ReadsTlsFilesAndRejectsHalfOfThem) {
  absl::StatusOr<AuthConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->tls.enabled());

  env_["AUTH_TLS_CERT"] = "/tls/c.pem";
  env_["AUTH_TLS_KEY"] = "/tls/k.pem";
  config = Parse({"--tls-client-ca", "/tls/ca.pem"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->tls.enabled());
  EXPECT_EQ(config->tls.certificate.path, "/tls/c.pem");
  EXPECT_EQ(config->tls.certificate.setting, "AUTH_TLS_CERT (--tls-cert)");
  EXPECT_EQ(config->tls.private_key.path, "/tls/k.pem");
  EXPECT_EQ(config->tls.private_key.setting, "AUTH_TLS_KEY (--tls-key)");
  EXPECT_EQ(config->tls.client_ca.path, "/tls/ca.pem");
  EXPECT_EQ(config->tls.client_ca.setting, "AUTH_TLS_CLIENT_CA (--tls-client-ca)");

  env_.erase("AUTH_TLS_KEY");
  config = Parse();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "AUTH_TLS_CERT (--tls-cert) and AUTH_TLS_KEY (--tls-key): set both or neither");
  env_.erase("AUTH_TLS_CERT");
  config = Parse({"--tls-client-ca=/tls/ca.pem"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "AUTH_TLS_CLIENT_CA (--tls-client-ca): needs AUTH_TLS_CERT (--tls-cert) and "
            "AUTH_TLS_KEY (--tls-key)");
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
        "AUTH_BOOTSTRAP_ADMIN_PASSWORD", "AUTH_HTTP_LISTEN", "AUTH_SHUTDOWN_GRACE"}) {
    EXPECT_NE(help.find(variable), std::string::npos) << variable;
  }
}

TEST_F(AuthConfigTest, LogsAsJsonAtInfoUnlessToldOtherwise) {
  absl::StatusOr<AuthConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_format, logging::Format::kJson);
  EXPECT_EQ(config->log_level, logging::Level::kInfo);
  env_["AUTH_LOG_FORMAT"] = "text";
  env_["AUTH_LOG_LEVEL"] = "error";
  config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_format, logging::Format::kText);
  EXPECT_EQ(config->log_level, logging::Level::kError);
  ExpectInvalid(Parse({"--log-format=yaml"}), "AUTH_LOG_FORMAT (--log-format): must be json or text");
  ExpectInvalid(Parse({"--log-level=trace"}), "AUTH_LOG_LEVEL (--log-level): must be debug");
}

// The start-up log shows every setting: a new secret setting that forgot
// its Secrecy would be printed in clear.
TEST_F(AuthConfigTest, EverySecretLookingSettingIsMaskedInTheLog) {
  for (const config::Setting* setting : AuthConfig::Settings()) {
    const std::string name(setting->env.data(), setting->env.size());
    if (name.find("PASSWORD") != std::string::npos || name.find("SECRET") != std::string::npos ||
        name.find("_URL") != std::string::npos) {
      EXPECT_NE(setting->secrecy, config::Secrecy::kNone) << name;
    }
  }
}

TEST_F(AuthConfigTest, LoggedSettingsMaskTheSecrets) {
  env_["AUTH_DATABASE_URL"] = "postgresql://tollgate:db-pass@localhost/tollgate";
  env_.erase("AUTH_SIGNING_KEYS");
  env_["JWT_SECRET_KEY"] = kSecret32;
  env_["AUTH_BOOTSTRAP_ADMIN_EMAIL"] = "admin@example.com";
  env_["AUTH_BOOTSTRAP_ADMIN_PASSWORD"] = "admin-pass";
  env_["AUTH_SMTP_URL"] = "smtp://mailer:smtp-pass@mail:25";
  absl::StatusOr<AuthConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  std::map<std::string, std::string> shown;
  for (const config::LoggedSetting& setting : config->logged_settings) {
    shown[setting.variable] = setting.value;
  }
  EXPECT_EQ(shown.size(), AuthConfig::Settings().size());
  EXPECT_EQ(shown["AUTH_DATABASE_URL"], "postgresql://tollgate:***@localhost/tollgate");
  EXPECT_EQ(shown["JWT_SECRET_KEY"], "<set>");
  EXPECT_EQ(shown["AUTH_BOOTSTRAP_ADMIN_EMAIL"], "admin@example.com");
  EXPECT_EQ(shown["AUTH_BOOTSTRAP_ADMIN_PASSWORD"], "<set>");
  EXPECT_EQ(shown["AUTH_SMTP_URL"], "smtp://mailer:***@mail:25");
  EXPECT_EQ(shown["AUTH_SMTP_PASSWORD"], "");
}

}  // namespace
}  // namespace tollgate::auth
