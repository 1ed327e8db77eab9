#include "sum_service/sum_config.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tollgate::sum {
namespace {

using config::CheckListenAddress;
using config::Describe;
using config::HelpTable;
using config::ParseInteger;
using config::ParseSeconds;
using config::ProcessEnv;
using config::RawSettings;
using config::Setting;

// ---------------------------------------------------------------------------
// SumService settings (SPEC section 7).

// RFC 7518 section 3.2: an HS256 key must be at least as long as the hash.
constexpr size_t kMinSecretKeyBytes = 32;

constexpr Setting kListen{"listen", "SUM_LISTEN", "0.0.0.0:50052", "",
                          "gRPC listen address (host:port or unix:path)"};
constexpr Setting kReusePort{"reuseport", "SUM_REUSEPORT", "0", "",
                             "1: share the listen port with other processes (SO_REUSEPORT); "
                             "0: a port in use fails the start"};
constexpr Setting kKeysSource{"keys-source", "SUM_KEYS_SOURCE", "",
                              "required unless JWT_SECRET_KEY",
                              "verification keys: grpc://host:port (AuthService GetJwks) or "
                              "file:/path/jwks.json (file:///path also accepted)"};
constexpr Setting kJwtSecretKey{"jwt-secret-key", "JWT_SECRET_KEY", "", "unset",
                                "HS256 shared secret, at least 32 bytes; never published "
                                "(prefer the variable)"};
constexpr Setting kTokenIssuer{"token-issuer", "TOKEN_ISSUER", "tollgate", "",
                               "`iss` that AuthService issues and every verifier requires"};
constexpr Setting kTokenAudience{"token-audience", "TOKEN_AUDIENCE", "tollgate", "",
                                 "`aud` that AuthService issues and every verifier requires"};
constexpr Setting kTokenLeeway{"token-leeway", "TOKEN_LEEWAY", "30", "",
                               "clock leeway, seconds [0, 300]"};
constexpr Setting kHttpListen{"http-listen", "SUM_HTTP_LISTEN", "", "off",
                              "HTTP address for metrics"};

constexpr const Setting* kSettings[] = {
    &kListen,        &kReusePort,   &kKeysSource,  &kJwtSecretKey, &kTokenIssuer,
    &kTokenAudience, &kTokenLeeway, &kHttpListen,
};

constexpr absl::string_view kGrpcScheme = "grpc://";
constexpr absl::string_view kFileScheme = "file:";

}  // namespace

bool SumConfig::WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

std::string SumConfig::HelpText() {
  return absl::StrCat(
      "sum_service: tollgate SumService (a protected example service) over gRPC.\n"
      "\n"
      "Usage: sum_service [--flag=value | --flag value]...\n"
      "\n"
      "Every flag has an environment variable of the same meaning; the flag wins.\n"
      "An empty value counts as unset. Pass secrets by variable: flags show in ps.\n"
      "\n",
      HelpTable(kSettings));
}

std::span<const config::Setting* const> SumConfig::Settings() { return kSettings; }

absl::StatusOr<SumConfig> SumConfig::FromFlagsAndEnv(int argc, char** argv) {
  return FromFlagsAndEnv(argc, argv, ProcessEnv);
}

absl::StatusOr<SumConfig> SumConfig::FromFlagsAndEnv(int argc, char** argv,
                                                     const EnvLookup& env) {
  absl::StatusOr<RawSettings> raw = RawSettings::Read(kSettings, argc, argv, env);
  if (!raw.ok()) return raw.status();

  SumConfig config;
  config.listen_address = raw->Get(kListen);
  if (absl::Status status = CheckListenAddress(kListen, config.listen_address); !status.ok()) {
    return status;
  }

  const std::string& keys_source = raw->Get(kKeysSource);
  config.jwt_secret_key = raw->Get(kJwtSecretKey);
  // One key source at a time: silently preferring one would leave an
  // operator believing tokens are checked against the other.
  if (!keys_source.empty() && !config.jwt_secret_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("set either ", Describe(kKeysSource), " or ",
                                                   Describe(kJwtSecretKey), ", not both"));
  }
  if (keys_source.empty() && config.jwt_secret_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(kKeysSource), " or ",
                                                   Describe(kJwtSecretKey), ": one is required"));
  }
  if (!config.jwt_secret_key.empty()) {
    if (config.jwt_secret_key.size() < kMinSecretKeyBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(Describe(kJwtSecretKey), ": must be at least ", kMinSecretKeyBytes,
                       " bytes, got ", config.jwt_secret_key.size()));
    }
    config.keys_source = KeysSource::kSharedSecret;
  } else if (absl::StartsWith(keys_source, kGrpcScheme)) {
    config.keys_source = KeysSource::kAuthService;
    config.keys_target = keys_source.substr(kGrpcScheme.size());
    if (absl::Status status = CheckListenAddress(kKeysSource, config.keys_target);
        !status.ok() || absl::StartsWith(config.keys_target, "unix:")) {
      return absl::InvalidArgumentError(absl::StrCat(
          Describe(kKeysSource), ": must be grpc://host:port, got '", keys_source, "'"));
    }
  } else if (absl::StartsWith(keys_source, kFileScheme)) {
    config.keys_source = KeysSource::kJwksFile;
    absl::string_view path = absl::string_view(keys_source).substr(kFileScheme.size());
    // file:///etc/jwks.json (RFC 8089) names the same file as file:/etc/jwks.json.
    if (absl::StartsWith(path, "//")) path.remove_prefix(2);
    if (path.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Describe(kKeysSource), ": file: needs a path, got '", keys_source, "'"));
    }
    config.keys_target = std::string(path);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(kKeysSource), ": must start with grpc:// or file:, got '",
                     keys_source, "'"));
  }

  absl::StatusOr<int64_t> reuse_port = ParseInteger(*raw, kReusePort, 0, 1, "an integer");
  if (!reuse_port.ok()) return reuse_port.status();
  config.reuse_port = *reuse_port == 1;

  config.token_issuer = raw->Get(kTokenIssuer);
  config.token_audience = raw->Get(kTokenAudience);
  absl::StatusOr<int64_t> leeway = ParseSeconds(*raw, kTokenLeeway, 0, 300);
  if (!leeway.ok()) return leeway.status();
  config.token_leeway_seconds = *leeway;

  config.http_listen_address = raw->Get(kHttpListen);
  if (!config.http_listen_address.empty()) {
    if (absl::Status status = CheckListenAddress(kHttpListen, config.http_listen_address);
        !status.ok()) {
      return status;
    }
  }
  return config;
}

}  // namespace tollgate::sum
