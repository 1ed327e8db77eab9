#include "sum_service/sum_config.h"

#include <gtest/gtest.h>

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
  ExpectInvalid(Parse({"--keys-source=https://auth/jwks.json"}), "grpc:// or file:");
  ExpectInvalid(Parse({"--keys-source=grpc://auth"}), "grpc://host:port");
  ExpectInvalid(Parse({"--keys-source=grpc://unix:/run/auth.sock"}), "grpc://host:port");
  ExpectInvalid(Parse({"--keys-source=file:"}), "needs a path");
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

}  // namespace
}  // namespace tollgate::sum
