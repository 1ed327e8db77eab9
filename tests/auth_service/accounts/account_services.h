#pragma once

// The account services of auth_service/accounts/ wired as AuthServer wires
// them, over the fake stores (fake_stores.h): the real PasswordHasher with
// Argon2's smallest parameters, a real AccessTokenIssuer with an HS256 key,
// a FakeClock and a deterministic random source.

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "auth_service/accounts/admin_service.h"
#include "auth_service/accounts/email_address.h"
#include "auth_service/accounts/page_token.h"
#include "auth_service/accounts/profile_service.h"
#include "auth_service/accounts/recovery_service.h"
#include "auth_service/accounts/session_service.h"
#include "auth_service/accounts/token_pair_issuer.h"
#include "auth_service/password/password_hasher.h"
#include "common/metrics/service_metrics.h"
#include "common/token/access_token_issuer.h"
#include "common/token/access_token_verifier.h"
#include "common/token/jwk_set.h"
#include "prometheus/registry.h"
#include "tests/auth_service/accounts/fake_stores.h"
#include "tests/support/fake_clock.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/test_keys.h"

namespace tollgate::testing {

inline constexpr char kTestPassword[] = "correct horse battery staple";
inline constexpr int64_t kVerifyTtlSeconds = 86400;
inline constexpr int64_t kResetTtlSeconds = 1800;

class AccountServices {
 public:
  AccountServices()
      : signing_key_(GenerateKey(JwsAlgorithm::kHS256)),
        published_keys_(*JwkSet::FromKeys({signing_key_})),
        hasher_(MakeHasher()),
        issuer_(signing_key_, AccessTokenOptions{}, random_),
        refresh_codec_(std::string(32, 'k')),
        pairs_(issuer_, refresh_codec_, random_, auth::RefreshLifetimes{}),
        page_tokens_(std::string(32, 'p')),
        sessions_(auth::SessionService::Dependencies{&stores_.users, &stores_.sessions,
                                                     &stores_.login_failures, &hasher_, &pairs_,
                                                     &clock_, published_keys_, &metrics_}),
        profiles_(auth::ProfileService::Dependencies{&stores_.users, &hasher_, &pairs_, &random_,
                                                     &clock_, kVerifyTtlSeconds, "",
                                                     stores_.MailQueuedHook()}),
        recovery_(auth::RecoveryService::Dependencies{
            &stores_.users, &stores_.codes, &hasher_, &random_, &clock_, kResetTtlSeconds,
            kVerifyTtlSeconds, "", stores_.MailQueuedHook()}),
        admin_(auth::AdminService::Dependencies{&stores_.users, &page_tokens_, &clock_,
                                                std::set<std::string>{"admin", "user"}}) {}

  // Argon2id at its smallest (8 KiB, one pass): the tests hash a lot.
  static auth::PasswordHasher MakeHasher() {
    auto hasher = auth::PasswordHasher::Create(
        auth::Argon2Params{.memory_kib = 8, .iterations = 1, .parallelism = 1});
    EXPECT_TRUE(hasher.ok()) << hasher.status();
    return *std::move(hasher);
  }

  // An account stored directly (no store call counted), with `password`.
  auth::UserRecord AddUser(const std::string& email, std::vector<std::string> roles = {"user"},
                           bool active = true, bool verified = false,
                           const std::string& password = kTestPassword) {
    auto hash = hasher_.Hash(password);
    EXPECT_TRUE(hash.ok()) << hash.status();
    const std::string normalized = *auth::NormalizeEmail(email);
    return stores_.db.AddUser(
        auth::NewUser{normalized, auth::EmailKey(normalized), "Ada", "Lovelace", *hash,
                      std::move(roles)},
        clock_.NowUnixSeconds(), active, verified);
  }

  // The verified identity of an access token for `user`, as the
  // interceptor would hand it to a handler.
  Identity IdentityOf(const auth::UserRecord& user) {
    auto token = issuer_.Issue({user.id, user.email, user.roles}, clock_.NowUnixSeconds());
    EXPECT_TRUE(token.ok()) << token.status();
    TokenResult<Identity> identity =
        AccessTokenVerifier(AccessTokenVerifierOptions{})
            .Verify(token->token, published_keys_, clock_.NowUnixSeconds());
    EXPECT_TRUE(identity.ok());
    return std::move(identity).value();
  }

  FakeStores& stores() { return stores_; }
  FakeDatabase& db() { return stores_.db; }
  FakeClock& clock() { return clock_; }
  const auth::PasswordHasher& hasher() const { return hasher_; }
  const auth::RefreshTokenCodec& refresh_codec() const { return refresh_codec_; }
  const JwkSet& published_keys() const { return published_keys_; }
  const AccessTokenIssuer& issuer() const { return issuer_; }
  auth::SessionService& sessions() { return sessions_; }
  auth::ProfileService& profiles() { return profiles_; }
  auth::RecoveryService& recovery() { return recovery_; }
  auth::AdminService& admin() { return admin_; }
  const AuthServiceMetrics& metrics() const { return metrics_; }

 private:
  prometheus::Registry registry_;
  AuthServiceMetrics metrics_{registry_};  // what the services count
  FakeStores stores_;
  FakeClock clock_;
  SeededRandomSource random_;
  Jwk signing_key_;
  JwkSet published_keys_;
  auth::PasswordHasher hasher_;
  AccessTokenIssuer issuer_;
  auth::RefreshTokenCodec refresh_codec_;
  auth::TokenPairIssuer pairs_;
  auth::PageTokenCodec page_tokens_;
  auth::SessionService sessions_;
  auth::ProfileService profiles_;
  auth::RecoveryService recovery_;
  auth::AdminService admin_;
};

// The exact code and message of `status`, for EXPECT_TRUE(HasStatus(...)).
inline ::testing::AssertionResult HasStatus(const absl::Status& status, absl::StatusCode code,
                                            const std::string& message) {
  if (status.code() == code && std::string(status.message()) == message) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "got " << absl::StatusCodeToString(status.code()) << " \"" << status.message()
         << "\", want " << absl::StatusCodeToString(code) << " \"" << message << "\"";
}

// The one code on its own line in a mail body ("tgp_..." or "tge_..."), or
// "" when the body has none.
inline std::string CodeInMail(const std::string& body) {
  const std::string reset = CodeOnItsOwnLine(body, "tgp_");
  return reset.empty() ? CodeOnItsOwnLine(body, "tge_") : reset;
}

}  // namespace tollgate::testing
