#include "sum_service/sum_config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tollgate::sum {
namespace {

constexpr char kSecret32[] = "0123456789abcdef0123456789abcdef";

class SumConfigTest : public ::testing::Test {
 protected:
  std::map<std::string, std::string> env_ = {{"SUM_KEYS_SOURCE", "grpc://auth:50051"}};

  absl::StatusOr<SumConfig> Parse(std::vector<std::string> args = {}) {
    args.insert(args.begin(), "sum_service");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    return SumConfig::FromFlagsAndEnv(
        static_cast<int>(args.size()), argv.data(),
        [this](const std::string& name) -> std::optional<std::string> {
          auto found = env_.find(name);
          if (found == env_.end()) return std::nullopt;
          return found->second;
        });
  }

  // Asserts INVALID_ARGUMENT whose one-line message mentions `needle`.
  void ExpectInvalid(const absl::StatusOr<SumConfig>& config, const std::string& needle) {
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find(needle), absl::string_view::npos)
        << config.status().message();
    EXPECT_EQ(config.status().message().find('\n'), absl::string_view::npos);
  }
};

TEST_F(SumConfigTest, UsesSpecDefaultsWithAuthServiceAsKeySource) {
  absl::StatusOr<SumConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listen_address, "0.0.0.0:50052");
  EXPECT_EQ(config->keys_source, SumConfig::KeysSource::kAuthService);
  EXPECT_EQ(config->keys_target, "auth:50051");
  EXPECT_EQ(config->jwt_secret_key, "");
  EXPECT_EQ(config->token_issuer, "tollgate");
  EXPECT_EQ(config->token_audience, "tollgate");
  EXPECT_EQ(config->token_leeway_seconds, 30);
  EXPECT_EQ(config->http_listen_address, "");
}

TEST_F(SumConfigTest, ConnectionLimitsAndShutdownGraceDefaultToTheDocumentedValues) {
  absl::StatusOr<SumConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->connection_limits, ConnectionLimits{});
  EXPECT_EQ(config->shutdown_grace_seconds, 10);
}

TEST_F(SumConfigTest, ReadsConnectionLimitsAndShutdownGrace) {
  env_["SUM_MAX_CONNECTION_IDLE"] = "86400";
  env_["SUM_MAX_CONNECTION_AGE"] = "0";
  env_["SUM_MAX_CONNECTION_AGE_GRACE"] = "3600";
  env_["SUM_KEEPALIVE_MIN_PING_INTERVAL"] = "7200";
  env_["SUM_MAX_CONCURRENT_STREAMS"] = "1";
  env_["SUM_SHUTDOWN_GRACE"] = "3600";
  absl::StatusOr<SumConfig> config = Parse({"--max-concurrent-streams", "8"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->connection_limits.max_idle, std::chrono::seconds(86400));
  EXPECT_EQ(config->connection_limits.max_age, std::chrono::seconds(0));
  EXPECT_EQ(config->connection_limits.max_age_grace, std::chrono::seconds(3600));
  EXPECT_EQ(config->connection_limits.min_ping_interval, std::chrono::seconds(7200));
  EXPECT_EQ(config->connection_limits.max_concurrent_streams, 8);  // the flag wins
  EXPECT_EQ(config->shutdown_grace_seconds, 3600);
}

TEST_F(SumConfigTest, RejectsConnectionLimitsAndShutdownGraceOutsideTheirRange) {
  ExpectInvalid(Parse({"--max-connection-idle=86401"}), "SUM_MAX_CONNECTION_IDLE");
  ExpectInvalid(Parse({"--max-connection-age=-1"}), "SUM_MAX_CONNECTION_AGE");
  ExpectInvalid(Parse({"--max-connection-age-grace=-1"}), "SUM_MAX_CONNECTION_AGE_GRACE");
  ExpectInvalid(Parse({"--keepalive-min-ping-interval=7201"}), "SUM_KEEPALIVE_MIN_PING_INTERVAL");
  ExpectInvalid(Parse({"--max-concurrent-streams=many"}), "SUM_MAX_CONCURRENT_STREAMS");
  ExpectInvalid(Parse({"--shutdown-grace=3601"}), "SUM_SHUTDOWN_GRACE");
}

TEST_F(SumConfigTest, ReadsJwksFileInBothUriSpellings) {
  absl::StatusOr<SumConfig> config = Parse({"--keys-source=file:/etc/tollgate/jwks.json"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->keys_source, SumConfig::KeysSource::kJwksFile);
  EXPECT_EQ(config->keys_target, "/etc/tollgate/jwks.json");

  config = Parse({"--keys-source", "file:///etc/tollgate/jwks.json"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->keys_target, "/etc/tollgate/jwks.json");
}

TEST_F(SumConfigTest, AcceptsSharedSecretInsteadOfKeySource) {
  env_.erase("SUM_KEYS_SOURCE");
  env_["JWT_SECRET_KEY"] = kSecret32;
  absl::StatusOr<SumConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->keys_source, SumConfig::KeysSource::kSharedSecret);
  EXPECT_EQ(config->jwt_secret_key, kSecret32);
}

TEST_F(SumConfigTest, RejectsNeitherKeySourceNorSharedSecret) {
  env_.erase("SUM_KEYS_SOURCE");
  ExpectInvalid(Parse(), "one is required");
}

TEST_F(SumConfigTest, RejectsBothKeySourceAndSharedSecret) {
  env_["JWT_SECRET_KEY"] = kSecret32;
  ExpectInvalid(Parse(), "not both");
}

TEST_F(SumConfigTest, RejectsShortSharedSecretWithoutEchoingIt) {
  env_.erase("SUM_KEYS_SOURCE");
  env_["JWT_SECRET_KEY"] = "hunter2";
  absl::StatusOr<SumConfig> config = Parse();
  ExpectInvalid(config, "at least 32 bytes, got 7");
  EXPECT_EQ(config.status().message().find("hunter2"), absl::string_view::npos);
}

TEST_F(SumConfigTest, RejectsMalformedKeySources) {
  ExpectInvalid(Parse({"--keys-source=https://auth/jwks.json"}), "grpc://, grpcs:// or file:");
  ExpectInvalid(Parse({"--keys-source=grpc://auth"}), "grpc://host:port");
  ExpectInvalid(Parse({"--keys-source=grpc://unix:/run/auth.sock"}), "grpc://host:port");
  ExpectInvalid(Parse({"--keys-source=file:"}), "needs a path");
}

TEST_F(SumConfigTest, ReadsKeySourceOverTlsWithItsCaAndClientCertificate) {
  env_["SUM_KEYS_SOURCE"] = "grpcs://auth.internal:50051";
  env_["SUM_KEYS_CA"] = "/tls/ca.pem";
  env_["SUM_KEYS_CLIENT_CERT"] = "/tls/sum.pem";
  env_["SUM_KEYS_CLIENT_KEY"] = "/tls/sum-key.pem";
  absl::StatusOr<SumConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->keys_source, SumConfig::KeysSource::kAuthService);
  EXPECT_TRUE(config->keys_over_tls);
  EXPECT_EQ(config->keys_target, "auth.internal:50051");
  EXPECT_EQ(config->keys_tls.ca.path, "/tls/ca.pem");
  EXPECT_EQ(config->keys_tls.ca.setting, "SUM_KEYS_CA (--keys-ca)");
  EXPECT_EQ(config->keys_tls.certificate.path, "/tls/sum.pem");
  EXPECT_EQ(config->keys_tls.private_key.path, "/tls/sum-key.pem");
}

TEST_F(SumConfigTest, KeySourceOverTlsWithoutCaTrustsTheSystemCas) {
  env_["SUM_KEYS_SOURCE"] = "grpcs://auth:50051";
  absl::StatusOr<SumConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->keys_over_tls);
  EXPECT_FALSE(config->keys_tls.any_set());
  EXPECT_FALSE(Parse({"--keys-source=grpc://auth:50051"})->keys_over_tls);
}

TEST_F(SumConfigTest, RejectsKeyTlsFilesWithoutAGrpcsKeySource) {
  env_["SUM_KEYS_CA"] = "/tls/ca.pem";
  absl::StatusOr<SumConfig> config = Parse();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "SUM_KEYS_CA (--keys-ca): needs a grpcs:// SUM_KEYS_SOURCE (--keys-source)");
  ExpectInvalid(Parse({"--keys-source=grpcs://auth"}), "must be grpcs://host:port");
}

TEST_F(SumConfigTest, RejectsAKeySourceClientCertificateWithoutItsKey) {
  env_["SUM_KEYS_SOURCE"] = "grpcs://auth:50051";
  env_["SUM_KEYS_CLIENT_CERT"] = "/tls/sum.pem";
  absl::StatusOr<SumConfig> config = Parse();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "SUM_KEYS_CLIENT_CERT (--keys-client-cert) and SUM_KEYS_CLIENT_KEY "
            "(--keys-client-key): set both or neither");
}

TEST_F(SumConfigTest, ReadsServerTlsFilesAndRejectsHalfOfThem) {
  absl::StatusOr<SumConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->tls.enabled());

  config = Parse({"--tls-cert=/tls/c.pem", "--tls-key=/tls/k.pem", "--tls-client-ca=/tls/ca.pem"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->tls.enabled());
  EXPECT_EQ(config->tls.certificate.path, "/tls/c.pem");
  EXPECT_EQ(config->tls.certificate.setting, "SUM_TLS_CERT (--tls-cert)");
  EXPECT_EQ(config->tls.private_key.path, "/tls/k.pem");
  EXPECT_EQ(config->tls.client_ca.path, "/tls/ca.pem");

  config = Parse({"--tls-cert=/tls/c.pem"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "SUM_TLS_CERT (--tls-cert) and SUM_TLS_KEY (--tls-key): set both or neither");
  config = Parse({"--tls-key=/tls/k.pem"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "SUM_TLS_CERT (--tls-cert) and SUM_TLS_KEY (--tls-key): set both or neither");
  config = Parse({"--tls-client-ca=/tls/ca.pem"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "SUM_TLS_CLIENT_CA (--tls-client-ca): needs SUM_TLS_CERT (--tls-cert) and "
            "SUM_TLS_KEY (--tls-key)");
}

TEST_F(SumConfigTest, RejectsLeewayOutsideItsRange) {
  ExpectInvalid(Parse({"--token-leeway=301"}), "TOKEN_LEEWAY");
  ExpectInvalid(Parse({"--token-leeway=abc"}), "TOKEN_LEEWAY");
}

TEST_F(SumConfigTest, RejectsUnknownFlagsAndMalformedListenAddresses) {
  ExpectInvalid(Parse({"--database-url=x"}), "unknown flag --database-url");
  ExpectInvalid(Parse({"--listen=50052"}), "SUM_LISTEN");
  ExpectInvalid(Parse({"--http-listen=host:"}), "SUM_HTTP_LISTEN");
}

TEST_F(SumConfigTest, HelpListsEveryVariableOfTheSpec) {
  std::string help = SumConfig::HelpText();
  for (const char* variable : {"SUM_LISTEN", "SUM_KEYS_SOURCE", "JWT_SECRET_KEY", "TOKEN_ISSUER",
                               "TOKEN_AUDIENCE", "TOKEN_LEEWAY", "SUM_HTTP_LISTEN"}) {
    EXPECT_NE(help.find(variable), std::string::npos) << variable;
  }
}

TEST_F(SumConfigTest, LogsAsJsonAtInfoUnlessToldOtherwise) {
  absl::StatusOr<SumConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_format, logging::Format::kJson);
  EXPECT_EQ(config->log_level, logging::Level::kInfo);
  config = Parse({"--log-format=text", "--log-level=debug"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_format, logging::Format::kText);
  EXPECT_EQ(config->log_level, logging::Level::kDebug);
  ExpectInvalid(Parse({"--log-format=yaml"}), "SUM_LOG_FORMAT (--log-format): must be json or text");
  ExpectInvalid(Parse({"--log-level=trace"}), "SUM_LOG_LEVEL (--log-level): must be debug");
}

// The start-up log shows every setting: a new secret setting that forgot
// its Secrecy would be printed in clear.
TEST_F(SumConfigTest, EverySecretLookingSettingIsMaskedInTheLog) {
  for (const config::Setting* setting : SumConfig::Settings()) {
    const std::string name(setting->env.data(), setting->env.size());
    if (name.find("PASSWORD") != std::string::npos || name.find("SECRET") != std::string::npos) {
      EXPECT_NE(setting->secrecy, config::Secrecy::kNone) << name;
    }
  }
  env_.erase("SUM_KEYS_SOURCE");
  env_["JWT_SECRET_KEY"] = kSecret32;
  absl::StatusOr<SumConfig> config = Parse();
  ASSERT_TRUE(config.ok()) << config.status();
  bool secret_shown = false;
  for (const config::LoggedSetting& setting : config->logged_settings) {
    if (setting.variable == "JWT_SECRET_KEY") secret_shown = setting.value == "<set>";
    EXPECT_EQ(setting.value.find(kSecret32), std::string::npos) << setting.variable;
  }
  EXPECT_TRUE(secret_shown);
}

}  // namespace
}  // namespace tollgate::sum
