// BearerToken parsing and BearerAuthenticator::Decide: every refusal of SPEC
// section 3 with its exact code and message, the leeway edge at +/- 1 s on a
// FakeClock, the unknown-kid retry, and what the verified-token cache may and
// may not skip.
#include "common/auth/bearer_authenticator.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/metrics/counter_mirror.h"
#include "common/metrics/service_metrics.h"
#include "common/token/jws.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "tests/common/auth/test_tokens.h"
#include "tests/support/fake_clock.h"
#include "tests/support/prometheus_text.h"
#include "tests/support/test_keys.h"
#include "tollgate/sum/v1/sum.pb.h"
#include "tollgate/testing/policy_test.pb.h"

namespace tollgate {
namespace {

using Outcome = AuthDecision::Outcome;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kTtl = 900;
constexpr int64_t kLeeway = 30;

constexpr char kSum[] = "/tollgate.sum.v1.SumService/Sum";
constexpr char kGetUsage[] = "/tollgate.sum.v1.SumService/GetUsage";
constexpr char kOpen[] = "/tollgate.testing.PolicyTestService/Open";
constexpr char kUnannotated[] = "/tollgate.testing.PolicyTestService/Unannotated";

constexpr char kMissingMessage[] =
    "authorization metadata is required: send 'authorization: Bearer <token>'";
constexpr char kMalformedMessage[] =
    "invalid authorization format: use 'authorization: Bearer <token>'";

// An opaque refresh token as AuthService issues them: "tgr_" + base64url of
// 32 random bytes. Sent as a bearer token by mistake, it must be refused as
// a malformed access token, never looked up.
constexpr char kRefreshTokenShaped[] = "tgr_Qk9HVVMtcmVmcmVzaC10b2tlbi1ieXRlcy0wMTIzNDU2Nzg5YWJjZGVm";

// A KeySource whose key set the test swaps, counting refresh requests.
class SwappableKeySource final : public KeySource {
 public:
  explicit SwappableKeySource(JwkSet keys) : keys_(std::make_shared<const JwkSet>(std::move(keys))) {}
  std::shared_ptr<const JwkSet> Current() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return keys_;
  }
  void RefreshForUnknownKid(std::function<void()> done) override {
    ++refreshes_;
    done();
  }
  void Set(JwkSet keys) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      keys_ = std::make_shared<const JwkSet>(std::move(keys));
    }
    KeysChanged();
  }
  int refreshes() const { return refreshes_; }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const JwkSet> keys_;
  int refreshes_ = 0;
};

std::string Bearer(const std::string& token) { return "Bearer " + token; }

class BearerAuthenticatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    (void)sum::v1::SumRequest::descriptor();
    (void)tollgate::testing::OpenRequest::descriptor();
    signing_key_ = new Jwk(tollgate::testing::GenerateKey(JwsAlgorithm::kES256));
    other_key_ = new Jwk(tollgate::testing::GenerateKey(JwsAlgorithm::kES256));
  }
  static void TearDownTestSuite() {
    delete signing_key_;
    delete other_key_;
  }

  BearerAuthenticatorTest()
      : keys_(*JwkSet::FromKeys({*signing_key_})),
        minter_(*signing_key_, AccessTokenOptions{"tollgate", "tollgate", kTtl}) {
    MakeAuthenticator(/*cache_capacity=*/1000);
  }

  void MakeAuthenticator(size_t cache_capacity, GuardMetrics* metrics = nullptr) {
    auto policy = AccessPolicy::FromServices(
        {"tollgate.sum.v1.SumService", "tollgate.testing.PolicyTestService"});
    ASSERT_TRUE(policy.ok()) << policy.status();
    authenticator_ = std::make_unique<BearerAuthenticator>(
        *std::move(policy),
        AccessTokenVerifier(AccessTokenVerifierOptions{"tollgate", "tollgate", kLeeway}), keys_,
        clock_, BearerAuthenticator::Options{cache_capacity, metrics});
  }

  AuthDecision Decide(std::string_view method, std::string_view authorization, int count = 1,
                      bool keys_refreshed = false) {
    return authenticator_->Decide(method, AuthorizationMetadata{count, authorization},
                                  keys_refreshed);
  }
  AuthDecision DecideWithoutAuthorization(std::string_view method) {
    return authenticator_->Decide(method, AuthorizationMetadata{}, false);
  }

  // A token that names the signing key's kid but is signed by another key.
  static std::string ForgedToken(const std::vector<std::string>& roles) {
    tollgate::testing::TokenMinter forger(other_key_->WithKid(signing_key_->kid()));
    return forger.Mint(roles, kNow);
  }

  static Jwk* signing_key_;
  static Jwk* other_key_;
  tollgate::testing::FakeClock clock_{kNow};
  SwappableKeySource keys_;
  tollgate::testing::TokenMinter minter_;
  std::unique_ptr<BearerAuthenticator> authenticator_;
};

Jwk* BearerAuthenticatorTest::signing_key_ = nullptr;
Jwk* BearerAuthenticatorTest::other_key_ = nullptr;

void ExpectRejected(const AuthDecision& decision, grpc::StatusCode code,
                    const std::string& message) {
  ASSERT_EQ(decision.outcome, Outcome::kReject);
  EXPECT_EQ(decision.caller, nullptr);
  const grpc::Status status = ToGrpcStatus(decision.denial);
  EXPECT_EQ(status.error_code(), code);
  EXPECT_EQ(status.error_message(), message);
}

void ExpectAdmittedAnonymously(const AuthDecision& decision) {
  EXPECT_EQ(decision.outcome, Outcome::kAdmit);
  EXPECT_EQ(decision.caller, nullptr);
}

// ---- BearerToken: the syntax of the authorization value ----

TEST(BearerTokenTest, ReturnsTheTokenAfterSchemeAndOneSpace) {
  EXPECT_EQ(BearerToken("Bearer abc.DEF-_09.x"), "abc.DEF-_09.x");
}

TEST(BearerTokenTest, SchemeIsCaseInsensitive) {
  EXPECT_EQ(BearerToken("bearer abc"), "abc");
  EXPECT_EQ(BearerToken("BEARER abc"), "abc");
  EXPECT_EQ(BearerToken("bEaReR abc"), "abc");
}

TEST(BearerTokenTest, RefusesOtherSchemes) {
  EXPECT_EQ(BearerToken("Basic dXNlcjpwYXNz"), "");
  EXPECT_EQ(BearerToken("Token abc"), "");
  EXPECT_EQ(BearerToken("Bearerabc"), "");
  EXPECT_EQ(BearerToken("Bearer:abc"), "");
  EXPECT_EQ(BearerToken("abc"), "");
}

TEST(BearerTokenTest, RefusesSchemeWithoutToken) {
  EXPECT_EQ(BearerToken(""), "");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken("Bearer "), "");
}

TEST(BearerTokenTest, RefusesExtraWhitespace) {
  EXPECT_EQ(BearerToken("Bearer  abc"), "");
  EXPECT_EQ(BearerToken("Bearer\tabc"), "");
  EXPECT_EQ(BearerToken(" Bearer abc"), "");
  EXPECT_EQ(BearerToken("Bearer abc "), "");
  EXPECT_EQ(BearerToken("Bearer a bc"), "");
}

TEST(BearerTokenTest, RefusesCharactersOutsideBase64UrlAndDot) {
  for (char c : std::string("+/=%,;:\"\\ \t\r\n*~!")) {
    EXPECT_EQ(BearerToken(std::string("Bearer ab") + c + "cd"), "") << "character " << int(c);
  }
  EXPECT_EQ(BearerToken(std::string("Bearer ab\0cd", 12)), "");
  EXPECT_EQ(BearerToken("Bearer ab\xC3\xA9" "cd"), "");  // UTF-8 e-acute
}

TEST(BearerTokenTest, AcceptsTokenOfExactlyTheMaximumSize) {
  const std::string token(kMaxTokenBytes, 'a');
  EXPECT_EQ(BearerToken("Bearer " + token), token);
}

TEST(BearerTokenTest, RefusesTokenOneByteOverTheMaximumSize) {
  EXPECT_EQ(BearerToken("Bearer " + std::string(kMaxTokenBytes + 1, 'a')), "");
}

// ---- Decide: the authorization metadata ----

TEST_F(BearerAuthenticatorTest, AdmitsValidTokenWithTheRoleAndReturnsItsIdentity) {
  const IssuedAccessToken issued = minter_.Issue({"user"}, kNow, "user-42");
  const AuthDecision decision = Decide(kSum, Bearer(issued.token));
  ASSERT_EQ(decision.outcome, Outcome::kAdmit);
  ASSERT_NE(decision.caller, nullptr);
  EXPECT_EQ(decision.caller->subject(), "user-42");
  EXPECT_EQ(decision.caller->email(), "user-1@example.com");
  EXPECT_EQ(decision.caller->roles(), std::vector<std::string>{"user"});
  EXPECT_EQ(decision.caller->token_id(), issued.token_id);
  EXPECT_EQ(decision.caller->expires_at_unix_seconds(), kNow + kTtl);
}

TEST_F(BearerAuthenticatorTest, RefusesMissingAuthorizationOnProtectedMethod) {
  ExpectRejected(DecideWithoutAuthorization(kSum), grpc::StatusCode::UNAUTHENTICATED,
                 kMissingMessage);
}

TEST_F(BearerAuthenticatorTest, RefusesBasicScheme) {
  ExpectRejected(Decide(kSum, "Basic dXNlcjpwYXNz"), grpc::StatusCode::UNAUTHENTICATED,
                 kMalformedMessage);
}

TEST_F(BearerAuthenticatorTest, RefusesBearerWithoutToken) {
  ExpectRejected(Decide(kSum, "Bearer"), grpc::StatusCode::UNAUTHENTICATED, kMalformedMessage);
  ExpectRejected(Decide(kSum, "Bearer "), grpc::StatusCode::UNAUTHENTICATED, kMalformedMessage);
}

TEST_F(BearerAuthenticatorTest, RefusesEmptyAuthorizationValue) {
  ExpectRejected(Decide(kSum, ""), grpc::StatusCode::UNAUTHENTICATED, kMalformedMessage);
}

TEST_F(BearerAuthenticatorTest, RefusesTwoSpacesAfterBearer) {
  ExpectRejected(Decide(kSum, "Bearer  " + minter_.Mint({"user"}, kNow)),
                 grpc::StatusCode::UNAUTHENTICATED, kMalformedMessage);
}

TEST_F(BearerAuthenticatorTest, AcceptsLowercaseScheme) {
  const AuthDecision decision = Decide(kSum, "bearer " + minter_.Mint({"user"}, kNow));
  EXPECT_EQ(decision.outcome, Outcome::kAdmit);
  EXPECT_NE(decision.caller, nullptr);
}

TEST_F(BearerAuthenticatorTest, RefusesTwoAuthorizationValuesEvenIfTheFirstIsValid) {
  ExpectRejected(Decide(kSum, Bearer(minter_.Mint({"user"}, kNow)), /*count=*/2),
                 grpc::StatusCode::UNAUTHENTICATED, kMalformedMessage);
}

TEST_F(BearerAuthenticatorTest, RefusesTokenOverMaximumSizeAsMalformedAuthorization) {
  ExpectRejected(Decide(kSum, Bearer(std::string(kMaxTokenBytes + 1, 'a'))),
                 grpc::StatusCode::UNAUTHENTICATED, kMalformedMessage);
}

TEST_F(BearerAuthenticatorTest, RefusesTokenWithCharactersOutsideBase64Url) {
  const std::string token = minter_.Mint({"user"}, kNow);
  ExpectRejected(Decide(kSum, Bearer(token + "=")), grpc::StatusCode::UNAUTHENTICATED,
                 kMalformedMessage);
  ExpectRejected(Decide(kSum, Bearer("a+b/c")), grpc::StatusCode::UNAUTHENTICATED,
                 kMalformedMessage);
}

// ---- Decide: the token ----

TEST_F(BearerAuthenticatorTest, AdmitsTokenOneSecondBeforeExpPlusLeeway) {
  const std::string token = minter_.Mint({"user"}, kNow);
  clock_.Set(kNow + kTtl + kLeeway - 1);
  EXPECT_EQ(Decide(kSum, Bearer(token)).outcome, Outcome::kAdmit);
}

TEST_F(BearerAuthenticatorTest, RefusesTokenAtExpPlusLeewayAsExpired) {
  const std::string token = minter_.Mint({"user"}, kNow);
  clock_.Set(kNow + kTtl + kLeeway);
  ExpectRejected(Decide(kSum, Bearer(token)), grpc::StatusCode::UNAUTHENTICATED, "token expired");
}

TEST_F(BearerAuthenticatorTest, CachedTokenExpiresAtTheSameEdge) {
  const std::string token = minter_.Mint({"user"}, kNow);
  ASSERT_EQ(Decide(kSum, Bearer(token)).outcome, Outcome::kAdmit);
  ASSERT_EQ(authenticator_->cached_tokens(), 1u);
  clock_.Set(kNow + kTtl + kLeeway - 1);
  EXPECT_EQ(Decide(kSum, Bearer(token)).outcome, Outcome::kAdmit);
  clock_.Set(kNow + kTtl + kLeeway);
  ExpectRejected(Decide(kSum, Bearer(token)), grpc::StatusCode::UNAUTHENTICATED, "token expired");
  EXPECT_EQ(authenticator_->cached_tokens(), 0u);
}

TEST_F(BearerAuthenticatorTest, RefusesTokenNotYetValidBeyondLeeway) {
  const std::string token = minter_.Mint({"user"}, kNow + kLeeway + 1);  // iat/nbf in the future
  ExpectRejected(Decide(kSum, Bearer(token)), grpc::StatusCode::UNAUTHENTICATED,
                 "invalid token: token not yet valid");
}

TEST_F(BearerAuthenticatorTest, RefusesWrongIssuer) {
  tollgate::testing::TokenMinter other_issuer(*signing_key_,
                                              AccessTokenOptions{"not-tollgate", "tollgate", kTtl});
  ExpectRejected(Decide(kSum, Bearer(other_issuer.Mint({"user"}, kNow))),
                 grpc::StatusCode::UNAUTHENTICATED, "invalid token: wrong issuer");
}

TEST_F(BearerAuthenticatorTest, RefusesWrongAudience) {
  tollgate::testing::TokenMinter other_audience(
      *signing_key_, AccessTokenOptions{"tollgate", "another-service", kTtl});
  ExpectRejected(Decide(kSum, Bearer(other_audience.Mint({"user"}, kNow))),
                 grpc::StatusCode::UNAUTHENTICATED, "invalid token: wrong audience");
}

TEST_F(BearerAuthenticatorTest, RefusesRefreshTokenAsMalformedToken) {
  ExpectRejected(Decide(kSum, Bearer(kRefreshTokenShaped)), grpc::StatusCode::UNAUTHENTICATED,
                 "invalid token: malformed token");
}

TEST_F(BearerAuthenticatorTest, RefusesBadSignature) {
  ExpectRejected(Decide(kSum, Bearer(ForgedToken({"user"}))), grpc::StatusCode::UNAUTHENTICATED,
                 "invalid token: bad signature");
}

TEST_F(BearerAuthenticatorTest, RefusesTamperedPayload) {
  // Swap in the payload of another valid token: header and signature are
  // genuine, the signed bytes are not.
  const std::string user = minter_.Mint({"user"}, kNow);
  const std::string admin = minter_.Mint({"admin"}, kNow);
  const size_t u1 = user.find('.'), u2 = user.rfind('.');
  const size_t a1 = admin.find('.'), a2 = admin.rfind('.');
  const std::string spliced =
      user.substr(0, u1) + admin.substr(a1, a2 - a1) + user.substr(u2);
  ExpectRejected(Decide(kGetUsage, Bearer(spliced)), grpc::StatusCode::UNAUTHENTICATED,
                 "invalid token: bad signature");
}

// ---- Decide: roles and the policy ----

TEST_F(BearerAuthenticatorTest, RefusesValidTokenWithoutTheRoleAsPermissionDenied) {
  ExpectRejected(Decide(kGetUsage, Bearer(minter_.Mint({"user"}, kNow))),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "method tollgate.sum.v1.SumService/GetUsage requires role 'admin'");
}

TEST_F(BearerAuthenticatorTest, RefusesValidTokenWithoutAnyRole) {
  ExpectRejected(Decide(kSum, Bearer(minter_.Mint({}, kNow))), grpc::StatusCode::PERMISSION_DENIED,
                 "method tollgate.sum.v1.SumService/Sum requires role 'user'");
}

TEST_F(BearerAuthenticatorTest, RolesAreMatchedExactly) {
  // "a verified token whose roles contain this": admin does not imply user,
  // and role names are case-sensitive.
  ExpectRejected(Decide(kSum, Bearer(minter_.Mint({"admin"}, kNow))),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "method tollgate.sum.v1.SumService/Sum requires role 'user'");
  ExpectRejected(Decide(kGetUsage, Bearer(minter_.Mint({"Admin", "user"}, kNow))),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "method tollgate.sum.v1.SumService/GetUsage requires role 'admin'");
  EXPECT_EQ(Decide(kGetUsage, Bearer(minter_.Mint({"user", "admin"}, kNow))).outcome,
            Outcome::kAdmit);
}

TEST_F(BearerAuthenticatorTest, RefusesMethodWithoutOptionEvenWithValidToken) {
  ExpectRejected(Decide(kUnannotated, Bearer(minter_.Mint({"user", "admin"}, kNow))),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "method tollgate.testing.PolicyTestService/Unannotated is not in the access policy");
}

TEST_F(BearerAuthenticatorTest, RefusesUnknownMethodWithoutLookingAtTheToken) {
  ExpectRejected(DecideWithoutAuthorization("/tollgate.sum.v1.SumService/Nope"),
                 grpc::StatusCode::PERMISSION_DENIED,
                 "method tollgate.sum.v1.SumService/Nope is not in the access policy");
}

// ---- Decide: public methods ----

TEST_F(BearerAuthenticatorTest, AdmitsPublicMethodWithoutAuthorization) {
  ExpectAdmittedAnonymously(DecideWithoutAuthorization(kOpen));
}

TEST_F(BearerAuthenticatorTest, AdmitsPublicMethodWithGarbageAuthorizationWithoutCaller) {
  ExpectAdmittedAnonymously(Decide(kOpen, "Bearer garbage"));
  ExpectAdmittedAnonymously(Decide(kOpen, "Basic dXNlcjpwYXNz"));
  ExpectAdmittedAnonymously(Decide(kOpen, "Bearer  two-spaces"));
  ExpectAdmittedAnonymously(Decide(kOpen, Bearer(minter_.Mint({"user"}, kNow)), /*count=*/2));
  ExpectAdmittedAnonymously(Decide(kOpen, Bearer(ForgedToken({"user"}))));
  ExpectAdmittedAnonymously(Decide(kOpen, Bearer(kRefreshTokenShaped)));
}

TEST_F(BearerAuthenticatorTest, AdmitsPublicMethodWithExpiredTokenWithoutCaller) {
  const std::string token = minter_.Mint({"user"}, kNow);
  clock_.Set(kNow + kTtl + kLeeway);
  ExpectAdmittedAnonymously(Decide(kOpen, Bearer(token)));
}

TEST_F(BearerAuthenticatorTest, AdmitsPublicMethodWithValidTokenWithItsIdentity) {
  // Public needs no role: a token without any still identifies the caller.
  const AuthDecision decision = Decide(kOpen, Bearer(minter_.Mint({}, kNow, "user-7")));
  ASSERT_EQ(decision.outcome, Outcome::kAdmit);
  ASSERT_NE(decision.caller, nullptr);
  EXPECT_EQ(decision.caller->subject(), "user-7");
}

TEST_F(BearerAuthenticatorTest, HealthCheckIsAdmittedWithoutAuthorization) {
  ExpectAdmittedAnonymously(DecideWithoutAuthorization("/grpc.health.v1.Health/Check"));
}

// ---- Decide: unknown kid ----

TEST_F(BearerAuthenticatorTest, UnknownKidAsksForNewKeysFirst) {
  tollgate::testing::TokenMinter rotated(*other_key_);
  const AuthDecision decision = Decide(kSum, Bearer(rotated.Mint({"user"}, kNow)));
  EXPECT_EQ(decision.outcome, Outcome::kRetryWithNewKeys);
  EXPECT_EQ(decision.caller, nullptr);
  // Decide itself never asks the KeySource: the interceptor does.
  EXPECT_EQ(keys_.refreshes(), 0);
}

TEST_F(BearerAuthenticatorTest, UnknownKidOnPublicMethodAlsoAsksForNewKeys) {
  tollgate::testing::TokenMinter rotated(*other_key_);
  EXPECT_EQ(Decide(kOpen, Bearer(rotated.Mint({"user"}, kNow))).outcome,
            Outcome::kRetryWithNewKeys);
}

TEST_F(BearerAuthenticatorTest, UnknownKidAfterRefreshIsInvalidToken) {
  tollgate::testing::TokenMinter rotated(*other_key_);
  ExpectRejected(Decide(kSum, Bearer(rotated.Mint({"user"}, kNow)), 1, /*keys_refreshed=*/true),
                 grpc::StatusCode::UNAUTHENTICATED, "invalid token: unknown key id");
}

TEST_F(BearerAuthenticatorTest, UnknownKidAfterRefreshOnPublicMethodIsAnonymous) {
  tollgate::testing::TokenMinter rotated(*other_key_);
  ExpectAdmittedAnonymously(
      Decide(kOpen, Bearer(rotated.Mint({"user"}, kNow)), 1, /*keys_refreshed=*/true));
}

TEST_F(BearerAuthenticatorTest, AdmitsRotatedKeyOnceTheKeySourceHoldsIt) {
  tollgate::testing::TokenMinter rotated(*other_key_);
  const std::string token = rotated.Mint({"user"}, kNow);
  ASSERT_EQ(Decide(kSum, Bearer(token)).outcome, Outcome::kRetryWithNewKeys);
  keys_.Set(*JwkSet::FromKeys({*signing_key_, *other_key_}));
  const AuthDecision decision = Decide(kSum, Bearer(token), 1, /*keys_refreshed=*/true);
  EXPECT_EQ(decision.outcome, Outcome::kAdmit);
  EXPECT_NE(decision.caller, nullptr);
}

// ---- Decide: the verified-token cache ----

TEST_F(BearerAuthenticatorTest, CachesAdmittedTokenOnce) {
  const std::string token = minter_.Mint({"user"}, kNow);
  const AuthDecision first = Decide(kSum, Bearer(token));
  const AuthDecision second = Decide(kSum, Bearer(token));
  ASSERT_EQ(first.outcome, Outcome::kAdmit);
  ASSERT_EQ(second.outcome, Outcome::kAdmit);
  EXPECT_EQ(first.caller, second.caller);  // the cached identity
  EXPECT_EQ(authenticator_->cached_tokens(), 1u);
}

TEST_F(BearerAuthenticatorTest, DoesNotCacheRefusedTokens) {
  (void)Decide(kSum, Bearer(ForgedToken({"user"})));
  (void)Decide(kSum, Bearer(kRefreshTokenShaped));
  const std::string expired = minter_.Mint({"user"}, kNow - kTtl - kLeeway);
  (void)Decide(kSum, Bearer(expired));
  EXPECT_EQ(authenticator_->cached_tokens(), 0u);
}

TEST_F(BearerAuthenticatorTest, CachedTokenStillNeedsTheMethodsRole) {
  const std::string token = minter_.Mint({"user"}, kNow);
  ASSERT_EQ(Decide(kSum, Bearer(token)).outcome, Outcome::kAdmit);
  ExpectRejected(Decide(kGetUsage, Bearer(token)), grpc::StatusCode::PERMISSION_DENIED,
                 "method tollgate.sum.v1.SumService/GetUsage requires role 'admin'");
}

TEST_F(BearerAuthenticatorTest, ForgedTokenIsRefusedAfterTheGenuineOneWasCached) {
  // The cache is keyed by the exact bytes: a token that reuses the cached
  // token's header and claims with another signature is verified afresh.
  const std::string token = minter_.Mint({"user"}, kNow);
  ASSERT_EQ(Decide(kSum, Bearer(token)).outcome, Outcome::kAdmit);
  const std::string forged = ForgedToken({"user"});
  const std::string spliced = token.substr(0, token.rfind('.')) + forged.substr(forged.rfind('.'));
  ExpectRejected(Decide(kSum, Bearer(spliced)), grpc::StatusCode::UNAUTHENTICATED,
                 "invalid token: bad signature");
}

TEST_F(BearerAuthenticatorTest, WithdrawingAKeyEndsItsCachedTokensAtOnce) {
  // The cache is bound to the key set a token was verified with: taking a
  // (compromised) key out of the JWKS must not leave its tokens admitted
  // until their exp on the servers that happened to cache them.
  const std::string token = minter_.Mint({"user"}, kNow);
  ASSERT_EQ(Decide(kSum, Bearer(token)).outcome, Outcome::kAdmit);
  ASSERT_EQ(authenticator_->cached_tokens(), 1u);
  keys_.Set(*JwkSet::FromKeys({*other_key_}));
  ExpectRejected(Decide(kSum, Bearer(token), 1, true), grpc::StatusCode::UNAUTHENTICATED,
                 "invalid token: unknown key id");
  ExpectRejected(Decide(kSum, Bearer(minter_.Mint({"user"}, kNow, "user-2")), 1, true),
                 grpc::StatusCode::UNAUTHENTICATED, "invalid token: unknown key id");
}

TEST_F(BearerAuthenticatorTest, WithoutCacheWithdrawnKeyTakesEffectAtOnce) {
  MakeAuthenticator(/*cache_capacity=*/0);
  const std::string token = minter_.Mint({"user"}, kNow);
  ASSERT_EQ(Decide(kSum, Bearer(token)).outcome, Outcome::kAdmit);
  EXPECT_EQ(authenticator_->cached_tokens(), 0u);
  keys_.Set(*JwkSet::FromKeys({*other_key_}));
  ExpectRejected(Decide(kSum, Bearer(token), 1, true), grpc::StatusCode::UNAUTHENTICATED,
                 "invalid token: unknown key id");
}

// ---- Counting (Options::metrics) ----

class BearerAuthenticatorCountingTest : public BearerAuthenticatorTest {
 protected:
  BearerAuthenticatorCountingTest() { MakeCountingAuthenticator(&metrics_); }

  // A new authenticator counting into `metrics`, and a new mirror of its
  // cache counts (the old one's callbacks name the old authenticator).
  void MakeCountingAuthenticator(GuardMetrics* metrics) {
    MakeAuthenticator(/*cache_capacity=*/1000, metrics);
    mirror_ = std::make_unique<CounterMirror>();
    authenticator_->MirrorCacheCounts(*mirror_);
  }

  // tollgate_auth_denied_total{reason} as a scrape shows it.
  std::map<std::string, double> Denials() const {
    auto text = tollgate::testing::PrometheusText::Parse(
        prometheus::TextSerializer().Serialize(registry_.Collect()));
    EXPECT_TRUE(text.ok()) << text.status();
    std::map<std::string, double> denials;
    if (!text.ok()) return denials;
    for (const auto& sample : text->Samples("tollgate_auth_denied_total")) {
      EXPECT_EQ(sample.labels.size(), 1u);
      denials[sample.labels.at("reason")] = sample.value;
    }
    return denials;
  }
  // The token-cache counters as a scrape shows them: the mirror first.
  double Hits() const {
    (void)mirror_->Collect();
    return metrics_.token_cache_hits_total.Value();
  }
  double Misses() const {
    (void)mirror_->Collect();
    return metrics_.token_cache_misses_total.Value();
  }

  prometheus::Registry registry_;
  GuardMetrics metrics_{registry_};
  std::unique_ptr<CounterMirror> mirror_;
};

// Every reason and every TokenError is a series from the start, so rate()
// over any of them works before its first denial.
TEST_F(BearerAuthenticatorCountingTest, EveryDenialSeriesIsScrapedFromZero) {
  std::map<std::string, double> expected;
  for (const char* reason : {"missing_authorization", "malformed_authorization", "missing_role",
                             "method_not_in_policy"}) {
    expected[reason] = 0;
  }
  for (TokenError error : kAllTokenErrors) expected[std::string(TokenErrorName(error))] = 0;
  ASSERT_EQ(expected.size(), 4 + kTokenErrorCount);
  EXPECT_EQ(Denials(), expected);
  EXPECT_EQ(Hits(), 0);
  EXPECT_EQ(Misses(), 0);
}

TEST_F(BearerAuthenticatorCountingTest, CountsEachRefusalOnceUnderItsReason) {
  tollgate::testing::TokenMinter rotated(*other_key_);
  const std::string user_token = minter_.Mint({"user"}, kNow);
  ASSERT_EQ(DecideWithoutAuthorization(kSum).outcome, Outcome::kReject);
  ASSERT_EQ(DecideWithoutAuthorization(kSum).outcome, Outcome::kReject);
  ASSERT_EQ(Decide(kSum, "Basic dXNlcjpwYXNz").outcome, Outcome::kReject);
  ASSERT_EQ(Decide(kSum, Bearer(minter_.Mint({"user"}, kNow - kTtl - kLeeway))).outcome,
            Outcome::kReject);
  ASSERT_EQ(Decide(kSum, Bearer(ForgedToken({"user"}))).outcome, Outcome::kReject);
  ASSERT_EQ(Decide(kGetUsage, Bearer(user_token)).outcome, Outcome::kReject);
  ASSERT_EQ(Decide(kUnannotated, Bearer(user_token)).outcome, Outcome::kReject);
  // An unknown kid is counted when it is final, not when it asks for keys.
  ASSERT_EQ(Decide(kSum, Bearer(rotated.Mint({"user"}, kNow))).outcome,
            Outcome::kRetryWithNewKeys);
  ASSERT_EQ(Decide(kSum, Bearer(rotated.Mint({"user"}, kNow)), 1, /*keys_refreshed=*/true).outcome,
            Outcome::kReject);

  std::map<std::string, double> denials = Denials();
  EXPECT_EQ(denials["missing_authorization"], 2);
  EXPECT_EQ(denials["malformed_authorization"], 1);
  EXPECT_EQ(denials["expired"], 1);
  EXPECT_EQ(denials["bad_signature"], 1);
  EXPECT_EQ(denials["missing_role"], 1);
  EXPECT_EQ(denials["method_not_in_policy"], 1);
  EXPECT_EQ(denials["unknown_kid"], 1);
  double total = 0;
  for (const auto& [reason, count] : denials) total += count;
  EXPECT_EQ(total, 8);
}

TEST_F(BearerAuthenticatorCountingTest, AdmittedCallsAreNotDenials) {
  ASSERT_EQ(Decide(kSum, Bearer(minter_.Mint({"user"}, kNow))).outcome, Outcome::kAdmit);
  ExpectAdmittedAnonymously(DecideWithoutAuthorization(kOpen));
  ExpectAdmittedAnonymously(Decide(kOpen, "Basic dXNlcjpwYXNz"));
  ExpectAdmittedAnonymously(Decide(kOpen, Bearer(ForgedToken({"user"}))));
  for (const auto& [reason, count] : Denials()) EXPECT_EQ(count, 0) << reason;
}

TEST_F(BearerAuthenticatorCountingTest, CountsOneMissThenHitsForTheSameToken) {
  const std::string token = minter_.Mint({"user"}, kNow);
  ASSERT_EQ(Decide(kSum, Bearer(token)).outcome, Outcome::kAdmit);
  EXPECT_EQ(Misses(), 1);
  EXPECT_EQ(Hits(), 0);
  ASSERT_EQ(Decide(kSum, Bearer(token)).outcome, Outcome::kAdmit);
  ASSERT_EQ(Decide(kGetUsage, Bearer(token)).outcome, Outcome::kReject);  // a hit, then the role
  EXPECT_EQ(Misses(), 1);
  EXPECT_EQ(Hits(), 2);
  // A refused token is never cached: each try is a miss.
  const std::string forged = ForgedToken({"user"});
  (void)Decide(kSum, Bearer(forged));
  (void)Decide(kSum, Bearer(forged));
  EXPECT_EQ(Misses(), 3);
  // No token, or no bearer token: nothing to look up.
  (void)DecideWithoutAuthorization(kSum);
  (void)Decide(kSum, "Basic dXNlcjpwYXNz");
  EXPECT_EQ(Misses(), 3);
  EXPECT_EQ(Hits(), 2);
}

TEST_F(BearerAuthenticatorCountingTest, WithoutMetricsNothingIsCounted) {
  MakeCountingAuthenticator(/*metrics=*/nullptr);
  (void)DecideWithoutAuthorization(kSum);
  (void)Decide(kSum, Bearer(minter_.Mint({"user"}, kNow)));
  EXPECT_EQ(Denials()["missing_authorization"], 0);
  EXPECT_EQ(Misses(), 0);
  EXPECT_EQ(authenticator_->cache_misses(), 1u);  // known to the authenticator alone
}

}  // namespace
}  // namespace tollgate
