#include "sum_service/sum_config.h"

#include <array>

#include "common/config/server_settings.h"
#include "common/config/token_settings.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tollgate::sum {
namespace {

using config::CheckListenAddress;
using config::Describe;
using config::kTokenSettings;
using config::ProcessEnv;
using config::RawSettings;
using config::ServerSettings;
using config::Setting;

// ---------------------------------------------------------------------------
// SumService settings (SPEC section 7).

constexpr ServerSettings kServer =
    ServerSettings::WithPrefix<"SUM_">("0.0.0.0:50052", "HTTP address for metrics");
constexpr Setting kKeysSource{"keys-source", "SUM_KEYS_SOURCE", "",
                              "required unless JWT_SECRET_KEY",
                              "verification keys: AuthService GetJwks at grpc://host:port, or "
                              "grpcs://host:port over TLS; or file:/path/jwks.json "
                              "(file:///path also accepted)"};
constexpr Setting kKeysCa{"keys-ca", "SUM_KEYS_CA", "", "system CAs",
                          "PEM CA bundle that a grpcs:// key source's certificate must chain to"};
constexpr Setting kKeysClientCert{"keys-client-cert", "SUM_KEYS_CLIENT_CERT", "", "unset",
                                  "PEM certificate shown to a grpcs:// key source that asks for "
                                  "one (mTLS), with SUM_KEYS_CLIENT_KEY"};
constexpr Setting kKeysClientKey{"keys-client-key", "SUM_KEYS_CLIENT_KEY", "", "unset",
                                 "PEM private key of SUM_KEYS_CLIENT_CERT, unencrypted"};

// The shorter name the checks below use.
constexpr const Setting& kJwtSecretKey = kTokenSettings.jwt_secret_key;

// --help's order, and the README table's.
constexpr auto kSettings = config::JoinSettings(
    kServer.GrpcPortSettings(),
    std::to_array<const Setting*>({
        &kKeysSource,
        &kKeysCa,
        &kKeysClientCert,
        &kKeysClientKey,
        &kTokenSettings.jwt_secret_key,
        &kTokenSettings.issuer,
        &kTokenSettings.audience,
        &kTokenSettings.leeway,
        &kServer.http_listen,
        &kServer.max_calls_in_flight,
        &kServer.log_format,
        &kServer.log_level,
    }));

constexpr absl::string_view kGrpcScheme = "grpc://";
constexpr absl::string_view kGrpcsScheme = "grpcs://";
constexpr absl::string_view kFileScheme = "file:";

}  // namespace

bool SumConfig::WantsHelp(int argc, char** argv) { return config::WantsHelp(argc, argv); }

std::string SumConfig::HelpText() {
  return config::ServiceHelpText(
      "sum_service", "tollgate SumService (a protected example service) over gRPC.", kSettings);
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
  if (absl::Status status = config::ParseServerConfig(*raw, kServer, config); !status.ok()) {
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
    if (absl::Status status = config::CheckJwtSecretKeyLength(config.jwt_secret_key);
        !status.ok()) {
      return status;
    }
    config.keys_source = KeysSource::kSharedSecret;
  } else if (absl::StartsWith(keys_source, kGrpcScheme) ||
             absl::StartsWith(keys_source, kGrpcsScheme)) {
    config.keys_source = KeysSource::kAuthService;
    config.keys_over_tls = absl::StartsWith(keys_source, kGrpcsScheme);
    const absl::string_view scheme = config.keys_over_tls ? kGrpcsScheme : kGrpcScheme;
    config.keys_target = keys_source.substr(scheme.size());
    if (absl::Status status = CheckListenAddress(kKeysSource, config.keys_target);
        !status.ok() || absl::StartsWith(config.keys_target, "unix:")) {
      return absl::InvalidArgumentError(absl::StrCat(Describe(kKeysSource), ": must be ", scheme,
                                                     "host:port, got '", keys_source, "'"));
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
        absl::StrCat(Describe(kKeysSource), ": must start with grpc://, grpcs:// or file:, got '",
                     keys_source, "'"));
  }
  config.keys_tls = tls::ClientTlsFiles{{Describe(kKeysCa), raw->Get(kKeysCa)},
                                        {Describe(kKeysClientCert), raw->Get(kKeysClientCert)},
                                        {Describe(kKeysClientKey), raw->Get(kKeysClientKey)}};
  // Ignoring one would leave an operator believing the keys come over TLS.
  for (const tls::SettingFile* file :
       {&config.keys_tls.ca, &config.keys_tls.certificate, &config.keys_tls.private_key}) {
    if (file->set() && !config.keys_over_tls) {
      return absl::InvalidArgumentError(
          absl::StrCat(file->setting, ": needs a grpcs:// ", Describe(kKeysSource)));
    }
  }
  if (absl::Status status = tls::CheckClientPairing(config.keys_tls); !status.ok()) return status;

  config.token_issuer = raw->Get(kTokenSettings.issuer);
  config.token_audience = raw->Get(kTokenSettings.audience);
  absl::StatusOr<int64_t> leeway = config::ParseTokenLeewaySeconds(*raw);
  if (!leeway.ok()) return leeway.status();
  config.token_leeway_seconds = *leeway;

  config.logged_settings = raw->ForLog();
  return config;
}

}  // namespace tollgate::sum
