#include "auth_service/auth_config.h"

#include <algorithm>
#include <array>

#include "absl/status/status.h"
#include "auth_service/client_address.h"
#include "auth_service/mail/smtp_mail_sender.h"
#include "common/config/server_settings.h"
#include "common/config/token_settings.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace tollgate::auth {
namespace {

using config::Describe;
using config::kTokenSettings;
using config::ParseInteger;
using config::ParseSeconds;
using config::ProcessEnv;
using config::RawSettings;
using config::Secrecy;
using config::ServerSettings;
using config::Setting;

// ---------------------------------------------------------------------------
// AuthService settings (SPEC section 7).

constexpr int64_t kOneDay = 24 * 60 * 60;
constexpr int64_t kOneYear = 365 * kOneDay;
constexpr ServerSettings kServer = ServerSettings::WithPrefix<"AUTH_">(
    "0.0.0.0:50051", "HTTP address for metrics and /.well-known/jwks.json");
constexpr Setting kDatabaseWait{"database-wait", "AUTH_DATABASE_WAIT", "30", "",
                                "how long start-up waits for an unreachable PostgreSQL, "
                                "seconds [0, 3600]"};
constexpr Setting kDatabaseUrl{"database-url", "AUTH_DATABASE_URL", "", "required",
                               "libpq connection URI (postgresql://user:pass@host/db)",
                               Secrecy::kPasswordInUrl};
constexpr Setting kSigningKeys{
    "signing-keys", "AUTH_SIGNING_KEYS", "", "required unless JWT_SECRET_KEY",
    "comma-separated PEM private key files; the first signs, all are published; "
    "the key type picks ES256 / EdDSA / RS256"};
constexpr Setting kAccessTtl{"access-ttl", "AUTH_ACCESS_TTL", "900", "",
                             "access token lifetime, seconds [1, 86400]"};
constexpr Setting kRefreshIdleTtl{"refresh-idle-ttl", "AUTH_REFRESH_IDLE_TTL", "604800", "",
                                  "refresh token idle lifetime, seconds, at most the session's"};
constexpr Setting kSessionTtl{"session-ttl", "AUTH_SESSION_TTL", "2592000", "",
                              "session (refresh family) absolute lifetime, seconds [1, 1 year]"};
constexpr Setting kRefreshGrace{"refresh-grace", "AUTH_REFRESH_GRACE", "10", "",
                                "retry window for a lost Refresh reply, seconds [0, 300]"};
constexpr Setting kSessionPurgeInterval{
    "session-purge-interval", "AUTH_SESSION_PURGE_INTERVAL", "3600", "",
    "how often ended sessions (a day past expiry or revocation) are deleted, seconds "
    "[0 = never, 86400]"};
constexpr Setting kBootstrapAdminEmail{"bootstrap-admin-email", "AUTH_BOOTSTRAP_ADMIN_EMAIL", "",
                                       "unset",
                                       "first admin: created or promoted at start-up (set with "
                                       "its password, or neither)"};
constexpr Setting kBootstrapAdminPassword{"bootstrap-admin-password",
                                          "AUTH_BOOTSTRAP_ADMIN_PASSWORD", "", "unset",
                                          "first admin's password (prefer the variable)",
                                          Secrecy::kSecret};

constexpr Setting kArgon2MemoryKib{"argon2-memory-kib", "AUTH_ARGON2_MEMORY_KIB", "19456", "",
                                   "Argon2id memory per hash, KiB [8192, 1048576] (OWASP: 19456)"};
constexpr Setting kArgon2Iterations{"argon2-iterations", "AUTH_ARGON2_ITERATIONS", "2", "",
                                    "Argon2id passes [1, 10] (OWASP: 2)"};
constexpr Setting kHashThreads{"hash-threads", "AUTH_HASH_THREADS", "0", "cores",
                               "password hashing threads [0 = one per core, 64]"};
constexpr Setting kHashQueue{"hash-queue", "AUTH_HASH_QUEUE", "16", "",
                             "password operations that may wait; more are shed with "
                             "RESOURCE_EXHAUSTED [1, 4096]"};
constexpr Setting kDatabasePoolSize{"database-pool-size", "AUTH_DATABASE_POOL_SIZE", "8", "",
                                    "PostgreSQL connections [1, 64]"};
constexpr Setting kResetTtl{"reset-ttl", "AUTH_RESET_TTL", "1800", "",
                            "password-reset code lifetime, seconds [60, 86400]"};
constexpr Setting kVerifyTtl{"verify-ttl", "AUTH_VERIFY_TTL", "86400", "",
                             "email-verification code lifetime, seconds [60, 30 days]"};
constexpr Setting kRoles{"roles", "AUTH_ROLES", "user,admin", "",
                         "comma-separated roles an admin may grant (user and admin always)"};
constexpr Setting kTrustedProxies{
    "trusted-proxies", "AUTH_TRUSTED_PROXIES", "", "unset",
    "comma-separated addresses or CIDR ranges whose x-forwarded-for names the client"};
constexpr Setting kSmtpUrl{"smtp-url", "AUTH_SMTP_URL", "", "unset: mail waits in the outbox",
                           "smtp://host:port or smtps://host:port, optional ?starttls=required; "
                           "the user and password may be in the URL",
                           Secrecy::kPasswordInUrl};
constexpr Setting kSmtpUser{"smtp-user", "AUTH_SMTP_USER", "", "unset",
                            "SMTP user, when not in AUTH_SMTP_URL"};
constexpr Setting kSmtpPassword{"smtp-password", "AUTH_SMTP_PASSWORD", "", "unset",
                                "SMTP password (prefer the variable)", Secrecy::kSecret};
constexpr Setting kMailFrom{"mail-from", "AUTH_MAIL_FROM", "tollgate@localhost", "",
                            "sender address of account mail (also the Message-ID domain)"};
constexpr Setting kMailLinkBase{"mail-link-base", "AUTH_MAIL_LINK_BASE", "", "unset: no link",
                                "prefix of the link put in mails before the code"};
constexpr Setting kMailPollInterval{
    "mail-poll-interval", "AUTH_MAIL_POLL_INTERVAL", "5", "",
    "how often the outbox is looked at for mail due again or queued by another replica, "
    "seconds [1, 3600] (new mail of this replica goes at once)"};

// The shorter name the checks below use.
constexpr const Setting& kJwtSecretKey = kTokenSettings.jwt_secret_key;

// --help's order, and the README table's.
constexpr auto kSettings = config::JoinSettings(
    kServer.GrpcPortSettings(),
    std::to_array<const Setting*>({
        &kDatabaseUrl,
        &kDatabaseWait,
        &kSigningKeys,
        &kTokenSettings.jwt_secret_key,
        &kTokenSettings.issuer,
        &kTokenSettings.audience,
        &kTokenSettings.leeway,
        &kAccessTtl,
        &kRefreshIdleTtl,
        &kSessionTtl,
        &kRefreshGrace,
        &kSessionPurgeInterval,
        &kBootstrapAdminEmail,
        &kBootstrapAdminPassword,
        &kServer.http_listen,
        &kServer.max_calls_in_flight,
        &kArgon2MemoryKib,
        &kArgon2Iterations,
        &kHashThreads,
        &kHashQueue,
        &kDatabasePoolSize,
        &kResetTtl,
        &kVerifyTtl,
        &kRoles,
        &kTrustedProxies,
        &kSmtpUrl,
        &kSmtpUser,
        &kSmtpPassword,
        &kMailFrom,
        &kMailLinkBase,
        &kMailPollInterval,
        &kServer.log_format,
        &kServer.log_level,
    }));

}  // namespace

bool AuthConfig::WantsHelp(int argc, char** argv) { return config::WantsHelp(argc, argv); }

std::string AuthConfig::HelpText() {
  return config::ServiceHelpText(
      "auth_service", "tollgate AuthService (accounts, access and refresh tokens) over gRPC.",
      kSettings);
}

std::span<const config::Setting* const> AuthConfig::Settings() { return kSettings; }

absl::StatusOr<AuthConfig> AuthConfig::FromFlagsAndEnv(int argc, char** argv) {
  return FromFlagsAndEnv(argc, argv, ProcessEnv);
}

absl::StatusOr<AuthConfig> AuthConfig::FromFlagsAndEnv(int argc, char** argv,
                                                       const EnvLookup& env) {
  absl::StatusOr<RawSettings> raw = RawSettings::Read(kSettings, argc, argv, env);
  if (!raw.ok()) return raw.status();

  AuthConfig config;
  if (absl::Status status = config::ParseServerConfig(*raw, kServer, config); !status.ok()) {
    return status;
  }

  config.database_url = raw->Get(kDatabaseUrl);
  if (config.database_url.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(kDatabaseUrl), ": is required"));
  }

  for (absl::string_view file : absl::StrSplit(raw->Get(kSigningKeys), ',')) {
    file = absl::StripAsciiWhitespace(file);
    if (!file.empty()) config.signing_key_files.emplace_back(file);
  }
  config.jwt_secret_key = raw->Get(kJwtSecretKey);
  if (!raw->Get(kSigningKeys).empty() && config.signing_key_files.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(kSigningKeys), ": lists no file"));
  }
  // One signing mode at a time: silently preferring one would leave an
  // operator believing tokens are signed with the other.
  if (!config.signing_key_files.empty() && !config.jwt_secret_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("set either ", Describe(kSigningKeys), " or ",
                                                   Describe(kJwtSecretKey), ", not both"));
  }
  if (config.signing_key_files.empty() && config.jwt_secret_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(kSigningKeys), " or ",
                                                   Describe(kJwtSecretKey), ": one is required"));
  }
  if (absl::Status status = config::CheckJwtSecretKeyLength(config.jwt_secret_key);
      !status.ok()) {
    return status;
  }

  config.token_issuer = raw->Get(kTokenSettings.issuer);
  config.token_audience = raw->Get(kTokenSettings.audience);
  absl::StatusOr<int64_t> leeway = config::ParseTokenLeewaySeconds(*raw);
  if (!leeway.ok()) return leeway.status();
  config.token_leeway_seconds = *leeway;

  struct SecondsSetting {
    const Setting& setting;
    int64_t min_seconds;
    int64_t max_seconds;
    int64_t& out;
  };
  for (const SecondsSetting& s : {
           SecondsSetting{kAccessTtl, 1, kOneDay, config.access_ttl_seconds},
           SecondsSetting{kSessionTtl, 1, kOneYear, config.session_ttl_seconds},
           SecondsSetting{kRefreshIdleTtl, 1, kOneYear, config.refresh_idle_ttl_seconds},
           SecondsSetting{kRefreshGrace, 0, 300, config.refresh_grace_seconds},
           SecondsSetting{kSessionPurgeInterval, 0, kOneDay, config.session_purge_interval_seconds},
           SecondsSetting{kResetTtl, 60, kOneDay, config.reset_ttl_seconds},
           SecondsSetting{kVerifyTtl, 60, 30 * kOneDay, config.verify_ttl_seconds},
           SecondsSetting{kMailPollInterval, 1, 3600, config.mail_poll_interval_seconds},
           SecondsSetting{kDatabaseWait, 0, 3600, config.database_wait_seconds},
       }) {
    absl::StatusOr<int64_t> seconds = ParseSeconds(*raw, s.setting, s.min_seconds, s.max_seconds);
    if (!seconds.ok()) return seconds.status();
    s.out = *seconds;
  }
  if (config.refresh_idle_ttl_seconds > config.session_ttl_seconds) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(kRefreshIdleTtl), ": must not exceed ", Describe(kSessionTtl), " (",
                     config.session_ttl_seconds, "), got ", config.refresh_idle_ttl_seconds));
  }

  config.bootstrap_admin_email = raw->Get(kBootstrapAdminEmail);
  config.bootstrap_admin_password = raw->Get(kBootstrapAdminPassword);
  if (config.bootstrap_admin_email.empty() != config.bootstrap_admin_password.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(kBootstrapAdminEmail), " and ",
                                                   Describe(kBootstrapAdminPassword),
                                                   ": set both or neither"));
  }

  struct IntegerSetting {
    const Setting& setting;
    int64_t min_value;
    int64_t max_value;
    int64_t& out;
  };
  for (const IntegerSetting& s : {
           IntegerSetting{kArgon2MemoryKib, 8192, 1048576, config.argon2_memory_kib},
           IntegerSetting{kArgon2Iterations, 1, 10, config.argon2_iterations},
           IntegerSetting{kHashThreads, 0, 64, config.hash_threads},
           IntegerSetting{kHashQueue, 1, 4096, config.hash_queue},
           IntegerSetting{kDatabasePoolSize, 1, 64, config.database_pool_size},
       }) {
    absl::StatusOr<int64_t> value = ParseInteger(*raw, s.setting, s.min_value, s.max_value,
                                                 "an integer");
    if (!value.ok()) return value.status();
    s.out = *value;
  }

  // user and admin are always grantable: without them no account could be
  // given the roles the service's own methods need.
  config.grantable_roles = {"user", "admin"};
  for (absl::string_view role : absl::StrSplit(raw->Get(kRoles), ',')) {
    role = absl::StripAsciiWhitespace(role);
    if (role.empty()) continue;
    for (char c : role) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' &&
          c != '.' && c != ':') {
        return absl::InvalidArgumentError(
            absl::StrCat(Describe(kRoles), ": role '", role,
                         "' may hold only letters, digits, '_', '-', '.' and ':'"));
      }
    }
    if (role.size() > 64) {
      return absl::InvalidArgumentError(
          absl::StrCat(Describe(kRoles), ": a role is at most 64 characters"));
    }
    if (std::find(config.grantable_roles.begin(), config.grantable_roles.end(), role) ==
        config.grantable_roles.end()) {
      config.grantable_roles.emplace_back(role);
    }
  }
  config.trusted_proxies = raw->Get(kTrustedProxies);
  config.smtp_url = raw->Get(kSmtpUrl);
  config.smtp_user = raw->Get(kSmtpUser);
  config.smtp_password = raw->Get(kSmtpPassword);
  if (!config.smtp_url.empty()) {
    // The reason names AUTH_SMTP_URL and never echoes a password.
    if (auto smtp = SmtpSettings::Parse(config.smtp_url, config.smtp_user, config.smtp_password);
        !smtp.ok()) {
      return smtp.status();
    }
  }
  if (auto proxies = TrustedProxies::Parse(config.trusted_proxies); !proxies.ok()) {
    return proxies.status();
  }
  config.mail_from = raw->Get(kMailFrom);
  config.mail_link_base = raw->Get(kMailLinkBase);
  if (config.mail_from.find_first_of("\r\n") != std::string::npos ||
      config.mail_from.find('@') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(kMailFrom), ": must be one email address"));
  }

  config.logged_settings = raw->ForLog();
  return config;
}

}  // namespace tollgate::auth
