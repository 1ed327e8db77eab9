// One test per attack on the access-token verifier, each asserting the exact
// TokenError. Tokens are built with our own signer so that only the property
// under test is wrong.
#include "common/token/access_token_verifier.h"

#include <gtest/gtest.h>

#include "common/token/access_token_issuer.h"
#include "common/token/base64url.h"
#include "common/token/jws.h"
#include "tests/support/test_keys.h"

namespace tollgate {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kLeeway = 30;

class AccessTokenVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    es256_ = new Jwk(testing::GenerateKey(JwsAlgorithm::kES256));
    rs256_ = new Jwk(testing::GenerateKey(JwsAlgorithm::kRS256));
  }
  static void TearDownTestSuite() {
    delete es256_;
    delete rs256_;
  }

  AccessTokenVerifierTest() {
    keys_ = *JwkSet::FromKeys({*es256_, *rs256_});
  }

  json Header() const { return {{"alg", "ES256"}, {"kid", es256_->kid()}, {"typ", "at+jwt"}}; }
  json Claims() const {
    return {{"iss", "tollgate"}, {"aud", "tollgate"}, {"sub", "user-1"},
            {"exp", kNow + 900},  {"iat", kNow},       {"nbf", kNow},
            {"jti", "token-1"},   {"roles", {"user"}}, {"email", "a@example.com"}};
  }
  // Signs exactly these header and payload bytes with `key`.
  static std::string Sign(const Jwk& key, const std::string& header, const std::string& payload) {
    auto token = JwsSignCompact(key, header, payload);
    EXPECT_TRUE(token.ok()) << token.status();
    return *token;
  }
  std::string Sign(const json& header, const json& claims) const {
    return Sign(*es256_, header.dump(), claims.dump());
  }
  TokenResult<Identity> Verify(const std::string& token, int64_t now = kNow) const {
    return verifier_.Verify(token, keys_, now);
  }
  static void ExpectError(const TokenResult<Identity>& result, TokenError expected) {
    ASSERT_FALSE(result.ok()) << "token was accepted; expected " << ToString(expected);
    EXPECT_EQ(result.error(), expected)
        << "got '" << ToString(result.error()) << "', expected '" << ToString(expected) << "'";
  }

  static Jwk* es256_;
  static Jwk* rs256_;
  JwkSet keys_;
  AccessTokenVerifier verifier_{AccessTokenVerifierOptions{"tollgate", "tollgate", kLeeway}};
};

Jwk* AccessTokenVerifierTest::es256_ = nullptr;
Jwk* AccessTokenVerifierTest::rs256_ = nullptr;

TEST_F(AccessTokenVerifierTest, AcceptsIssuedTokenAndExposesIdentity) {
  testing::CountingRandomSource random;
  AccessTokenIssuer issuer(*es256_, AccessTokenOptions{"tollgate", "tollgate", 900}, random);
  auto issued = issuer.Issue({"user-7", "u7@example.com", {"user", "admin"}}, kNow);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->expires_at_unix_seconds, kNow + 900);
  // jti is base64url of the first 16 counter bytes 00 01 .. 0f.
  EXPECT_EQ(issued->token_id, "AAECAwQFBgcICQoLDA0ODw");

  auto result = Verify(issued->token);
  ASSERT_TRUE(result.ok()) << ToString(result.error());
  EXPECT_EQ(result.value().subject(), "user-7");
  EXPECT_EQ(result.value().email(), "u7@example.com");
  EXPECT_EQ(result.value().roles(), (std::vector<std::string>{"user", "admin"}));
  EXPECT_EQ(result.value().token_id(), "AAECAwQFBgcICQoLDA0ODw");
  EXPECT_EQ(result.value().expires_at_unix_seconds(), kNow + 900);
  EXPECT_TRUE(result.value().HasRole("admin"));
  EXPECT_FALSE(result.value().HasRole("auditor"));
}

TEST_F(AccessTokenVerifierTest, IssuedHeaderCarriesAlgKidAndType) {
  testing::CountingRandomSource random;
  AccessTokenIssuer issuer(*rs256_, AccessTokenOptions{}, random);
  auto issued = issuer.Issue({"user-7", "u7@example.com", {"user"}}, kNow);
  ASSERT_TRUE(issued.ok());
  const auto header = Base64UrlDecode(issued->token.substr(0, issued->token.find('.')));
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(json::parse(*header),
            (json{{"alg", "RS256"}, {"kid", rs256_->thumbprint()}, {"typ", "at+jwt"}}));
}

TEST_F(AccessTokenVerifierTest, RejectsUnsecuredAlgNone) {
  json header = {{"alg", "none"}, {"typ", "at+jwt"}};
  const std::string token =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump()) + ".";
  ExpectError(Verify(token), TokenError::kUnsecuredAlgorithm);
}

TEST_F(AccessTokenVerifierTest, RejectsAlgNoneInAnyCase) {
  json header = {{"alg", "nOnE"}, {"kid", es256_->kid()}, {"typ", "at+jwt"}};
  const std::string token =
      Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump()) + ".";
  ExpectError(Verify(token), TokenError::kUnsecuredAlgorithm);
}

TEST_F(AccessTokenVerifierTest, RejectsUnknownAlgorithm) {
  json header = Header();
  header["alg"] = "ES512";
  ExpectError(Verify(Sign(header, Claims())), TokenError::kUnsupportedAlgorithm);
}

TEST_F(AccessTokenVerifierTest, RejectsMissingAlgorithm) {
  json header = Header();
  header.erase("alg");
  ExpectError(Verify(Sign(header, Claims())), TokenError::kUnsupportedAlgorithm);
}

// The classic confusion: an RS256 public key used as an HMAC secret because
// the header says HS256. The key's type decides, so this never verifies.
TEST_F(AccessTokenVerifierTest, RejectsHs256SignedWithTheRsaPublicKey) {
  const std::string public_jwk = rs256_->ToPublicJson()->dump();
  auto forged_key = Jwk::FromHmacSecret(public_jwk);
  ASSERT_TRUE(forged_key.ok());
  json header = {{"alg", "HS256"}, {"kid", rs256_->kid()}, {"typ", "at+jwt"}};
  ExpectError(Verify(Sign(*forged_key, header.dump(), Claims().dump())),
              TokenError::kAlgorithmMismatch);
}

TEST_F(AccessTokenVerifierTest, RejectsAlgorithmThatDiffersFromTheKey) {
  json header = Header();
  header["kid"] = rs256_->kid();  // ES256 signature presented under the RSA key
  ExpectError(Verify(Sign(header, Claims())), TokenError::kAlgorithmMismatch);
}

TEST_F(AccessTokenVerifierTest, RejectsUnknownKid) {
  json header = Header();
  header["kid"] = "no-such-key";
  ExpectError(Verify(Sign(header, Claims())), TokenError::kUnknownKid);
}

TEST_F(AccessTokenVerifierTest, RejectsMissingKidWhenSeveralKeysCouldMatch) {
  json header = Header();
  header.erase("kid");
  ExpectError(Verify(Sign(header, Claims())), TokenError::kUnknownKid);
}

TEST_F(AccessTokenVerifierTest, AcceptsMissingKidWithASingleKey) {
  json header = Header();
  header.erase("kid");
  auto single = JwkSet::FromKeys({*es256_});
  ASSERT_TRUE(single.ok());
  EXPECT_TRUE(verifier_.Verify(Sign(header, Claims()), *single, kNow).ok());
}

TEST_F(AccessTokenVerifierTest, RejectsTokenSignedByAnotherKeyWithOurKid) {
  const Jwk attacker = testing::GenerateKey(JwsAlgorithm::kES256).WithKid(es256_->kid());
  ExpectError(Verify(Sign(attacker, Header().dump(), Claims().dump())), TokenError::kBadSignature);
}

TEST_F(AccessTokenVerifierTest, RejectsModifiedPayload) {
  const std::string token = Sign(Header(), Claims());
  json claims = Claims();
  claims["roles"] = {"user", "admin"};  // privilege escalation attempt
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  const std::string tampered =
      token.substr(0, first + 1) + Base64UrlEncode(claims.dump()) + token.substr(second);
  ExpectError(Verify(tampered), TokenError::kBadSignature);
}

TEST_F(AccessTokenVerifierTest, RejectsDerEncodedEcdsaSignature) {
  // Signatures must be raw r||s (64 bytes); a DER blob is refused even if it
  // carries the right r and s.
  const std::string token = Sign(Header(), Claims());
  const size_t second = token.rfind('.');
  const std::string der = std::string("\x30\x44\x02\x20", 4) +
                          Base64UrlDecode(token.substr(second + 1))->substr(0, 32) +
                          std::string("\x02\x20", 2) +
                          Base64UrlDecode(token.substr(second + 1))->substr(32);
  ExpectError(Verify(token.substr(0, second + 1) + Base64UrlEncode(der)), TokenError::kBadSignature);
}

TEST_F(AccessTokenVerifierTest, RejectsTokenSuppliedKeys) {
  for (const char* member : {"jku", "x5u", "jwk", "x5c"}) {
    SCOPED_TRACE(member);
    json header = Header();
    header[member] = std::string(member) == "jwk" ? *es256_->ToPublicJson() : json("https://evil.example/k");
    ExpectError(Verify(Sign(header, Claims())), TokenError::kEmbeddedKey);
  }
}

TEST_F(AccessTokenVerifierTest, RejectsUnknownCriticalHeader) {
  json header = Header();
  header["crit"] = {"exp-ext"};
  header["exp-ext"] = true;
  ExpectError(Verify(Sign(header, Claims())), TokenError::kUnknownCritical);
}

TEST_F(AccessTokenVerifierTest, RejectsDuplicateHeaderMember) {
  // {"alg":"ES256","kid":...,"typ":"at+jwt","typ":"JWT"}: parsers disagree on
  // which typ wins.
  std::string header = Header().dump();
  header.insert(header.size() - 1, R"(,"typ":"JWT")");
  ExpectError(Verify(Sign(*es256_, header, Claims().dump())), TokenError::kDuplicateMember);
}

TEST_F(AccessTokenVerifierTest, RejectsDuplicateClaim) {
  std::string payload = Claims().dump();
  payload.insert(payload.size() - 1, R"(,"sub":"admin-1")");
  ExpectError(Verify(Sign(*es256_, Header().dump(), payload)), TokenError::kDuplicateMember);
}

TEST_F(AccessTokenVerifierTest, RejectsDuplicateMemberInNestedObject) {
  json claims = Claims();
  std::string payload = claims.dump();
  payload.insert(payload.size() - 1, R"(,"ext":{"a":1,"a":2})");
  ExpectError(Verify(Sign(*es256_, Header().dump(), payload)), TokenError::kDuplicateMember);
}

TEST_F(AccessTokenVerifierTest, RejectsWrongType) {
  json header = Header();
  header["typ"] = "JWT";
  ExpectError(Verify(Sign(header, Claims())), TokenError::kWrongType);
}

TEST_F(AccessTokenVerifierTest, RejectsMissingType) {
  json header = Header();
  header.erase("typ");
  ExpectError(Verify(Sign(header, Claims())), TokenError::kWrongType);
}

TEST_F(AccessTokenVerifierTest, AcceptsApplicationPrefixedTypeInAnyCase) {
  json header = Header();
  header["typ"] = "Application/AT+JWT";
  EXPECT_TRUE(Verify(Sign(header, Claims())).ok());
}

TEST_F(AccessTokenVerifierTest, RejectsWrongIssuer) {
  json claims = Claims();
  claims["iss"] = "https://other-issuer.example";
  ExpectError(Verify(Sign(Header(), claims)), TokenError::kWrongIssuer);
}

TEST_F(AccessTokenVerifierTest, RejectsMissingIssuer) {
  json claims = Claims();
  claims.erase("iss");
  ExpectError(Verify(Sign(Header(), claims)), TokenError::kMissingClaim);
}

TEST_F(AccessTokenVerifierTest, RejectsWrongAudience) {
  json claims = Claims();
  claims["aud"] = "billing-service";
  ExpectError(Verify(Sign(Header(), claims)), TokenError::kWrongAudience);
}

TEST_F(AccessTokenVerifierTest, AcceptsAudienceArrayContainingOurs) {
  json claims = Claims();
  claims["aud"] = {"billing-service", "tollgate"};
  EXPECT_TRUE(Verify(Sign(Header(), claims)).ok());
}

TEST_F(AccessTokenVerifierTest, RejectsAudienceArrayWithoutOurs) {
  json claims = Claims();
  claims["aud"] = {"billing-service"};
  ExpectError(Verify(Sign(Header(), claims)), TokenError::kWrongAudience);
}

TEST_F(AccessTokenVerifierTest, RejectsTokenExpiredBeyondLeeway) {
  const std::string token = Sign(Header(), Claims());
  const int64_t exp = kNow + 900;
  EXPECT_TRUE(Verify(token, exp + kLeeway - 1).ok());
  ExpectError(Verify(token, exp + kLeeway), TokenError::kExpired);
  ExpectError(Verify(token, exp + kLeeway + 1), TokenError::kExpired);
}

TEST_F(AccessTokenVerifierTest, RejectsTokenNotYetValidBeyondLeeway) {
  json claims = Claims();
  claims["nbf"] = kNow + 100;
  const std::string token = Sign(Header(), claims);
  ExpectError(Verify(token, kNow + 100 - kLeeway - 1), TokenError::kNotYetValid);
  EXPECT_TRUE(Verify(token, kNow + 100 - kLeeway).ok());
  EXPECT_TRUE(Verify(token, kNow + 100 - kLeeway + 1).ok());
}

TEST_F(AccessTokenVerifierTest, RejectsTokenIssuedInTheFuture) {
  json claims = Claims();
  claims["iat"] = kNow + kLeeway + 1;
  ExpectError(Verify(Sign(Header(), claims)), TokenError::kNotYetValid);
}

TEST_F(AccessTokenVerifierTest, RejectsNonIntegerTimes) {
  for (const json& bad : {json(1.8e9), json("1800000900"), json(true), json(nullptr),
                          json::array({1800000900})}) {
    SCOPED_TRACE(bad.dump());
    json claims = Claims();
    claims["exp"] = bad;
    ExpectError(Verify(Sign(Header(), claims)), TokenError::kInvalidTimeClaim);
  }
}

TEST_F(AccessTokenVerifierTest, RejectsAbsurdTimes) {
  for (const char* claim : {"exp", "nbf", "iat"}) {
    for (const json& bad : {json(kMaxNumericDate + 1), json(-1), json(UINT64_MAX)}) {
      SCOPED_TRACE(std::string(claim) + "=" + bad.dump());
      json claims = Claims();
      claims[claim] = bad;
      ExpectError(Verify(Sign(Header(), claims)), TokenError::kInvalidTimeClaim);
    }
  }
}

TEST_F(AccessTokenVerifierTest, RejectsHugeIntegerLiteralAsNonInteger) {
  std::string payload = Claims().dump();
  const std::string exp = "\"exp\":" + std::to_string(kNow + 900);
  payload.replace(payload.find(exp), exp.size(), "\"exp\":123456789012345678901234567890");
  ExpectError(Verify(Sign(*es256_, Header().dump(), payload)), TokenError::kInvalidTimeClaim);
}

TEST_F(AccessTokenVerifierTest, RejectsMissingRequiredClaims) {
  for (const char* claim : {"exp", "iat", "sub", "jti", "aud"}) {
    SCOPED_TRACE(claim);
    json claims = Claims();
    claims.erase(claim);
    ExpectError(Verify(Sign(Header(), claims)), TokenError::kMissingClaim);
  }
}

TEST_F(AccessTokenVerifierTest, RejectsClaimsOfTheWrongType) {
  const std::vector<std::pair<const char*, json>> cases = {
      {"sub", json(42)},          {"sub", json("")},         {"jti", json::array()},
      {"roles", json("admin")},   {"roles", json({1, 2})},   {"email", json(false)},
      {"aud", json(7)},           {"iss", json({"tollgate"})}};
  for (const auto& [claim, value] : cases) {
    SCOPED_TRACE(std::string(claim) + "=" + value.dump());
    json claims = Claims();
    claims[claim] = value;
    ExpectError(Verify(Sign(Header(), claims)), TokenError::kInvalidClaim);
  }
}

TEST_F(AccessTokenVerifierTest, RejectsTokensOverEightKibBeforeParsing) {
  json claims = Claims();
  claims["pad"] = std::string(kMaxTokenBytes, 'x');
  ExpectError(Verify(Sign(Header(), claims)), TokenError::kTooLarge);
  ExpectError(Verify(std::string(kMaxTokenBytes + 1, 'a')), TokenError::kTooLarge);
}

TEST_F(AccessTokenVerifierTest, AcceptsTokenJustUnderTheSizeLimit) {
  json claims = Claims();
  claims["pad"] = "";
  const size_t base = Sign(Header(), claims).size();
  // base64 grows 4/3: pick a pad so the token lands at or just under 8 KiB.
  claims["pad"] = std::string((kMaxTokenBytes - base) * 3 / 4 - 2, 'x');
  const std::string token = Sign(Header(), claims);
  ASSERT_LE(token.size(), kMaxTokenBytes);
  ASSERT_GT(token.size(), kMaxTokenBytes - 8);
  EXPECT_TRUE(Verify(token).ok());
}

TEST_F(AccessTokenVerifierTest, RejectsWrongNumberOfSegments) {
  const std::string token = Sign(Header(), Claims());
  ExpectError(Verify(token.substr(0, token.rfind('.'))), TokenError::kMalformed);
  ExpectError(Verify(token + ".extra"), TokenError::kMalformed);
  ExpectError(Verify(""), TokenError::kMalformed);
  ExpectError(Verify("..."), TokenError::kMalformed);
}

TEST_F(AccessTokenVerifierTest, RejectsNonCanonicalBase64) {
  const std::string token = Sign(Header(), Claims());
  ExpectError(Verify(token + "="), TokenError::kMalformed);       // padding
  ExpectError(Verify(" " + token), TokenError::kMalformed);       // whitespace
  std::string plus = token;
  plus[plus.rfind('.') + 1] = '+';                                 // standard alphabet
  ExpectError(Verify(plus), TokenError::kMalformed);
}

TEST_F(AccessTokenVerifierTest, RejectsHeaderThatIsNotAnObject) {
  const std::string token = Base64UrlEncode(R"(["ES256"])") + "." + Base64UrlEncode("{}") + ".AA";
  ExpectError(Verify(token), TokenError::kMalformed);
  const std::string not_json = Base64UrlEncode("alg=ES256") + "." + Base64UrlEncode("{}") + ".AA";
  ExpectError(Verify(not_json), TokenError::kMalformed);
}

TEST_F(AccessTokenVerifierTest, RejectsPayloadThatIsNotAnObject) {
  ExpectError(Verify(Sign(*es256_, Header().dump(), "\"just a string\"")), TokenError::kMalformed);
}

// fuzz/corpus/crash-json-nul-after-object: a NUL byte and more after the
// header or claims object used to be ignored.
TEST_F(AccessTokenVerifierTest, RejectsBytesAfterANulFollowingTheJson) {
  const std::string trailer("\0{\"alg\":\"none\"}", 15);
  ExpectError(Verify(Sign(*es256_, Header().dump() + trailer, Claims().dump())),
              TokenError::kMalformed);
  ExpectError(Verify(Sign(*es256_, Header().dump(), Claims().dump() + trailer)),
              TokenError::kMalformed);
}

TEST_F(AccessTokenVerifierTest, RejectsInvalidUtf8InClaims) {
  std::string payload = Claims().dump();
  payload.replace(payload.find("user-1"), 6, "us\xff\xfe-1");
  ExpectError(Verify(Sign(*es256_, Header().dump(), payload)), TokenError::kMalformed);
}

TEST_F(AccessTokenVerifierTest, RejectsRefreshTokenPresentedAsAccessToken) {
  // Opaque refresh tokens are not JWS at all.
  ExpectError(Verify("tgr_" + std::string(43, 'A')), TokenError::kMalformed);
}

// Verify reads the claims without a DOM; CheckTimeClaims reads a DOM. Both
// must judge every spelling of a time claim alike (-0 is an integer 0 to
// nlohmann, 1.0 a float, 2^64 a float).
TEST_F(AccessTokenVerifierTest, TimeClaimsReadAlikeWithAndWithoutDom) {
  for (const char* exp : {"1800000900", "-0", "0", "-1", "1800000900.0", "1.8000009e9",
                          "253402300799", "253402300800", "18446744073709551615",
                          "18446744073709551616", "-9223372036854775808", "\"1800000900\"", "true",
                          "null", "[1800000900]", "{}"}) {
    SCOPED_TRACE(exp);
    std::string payload = Claims().dump();
    const std::string original = "\"exp\":" + std::to_string(kNow + 900);
    payload.replace(payload.find(original), original.size(), std::string("\"exp\":") + exp);
    const auto expected = CheckTimeClaims(json::parse(payload), kNow, kLeeway);
    const auto result = Verify(Sign(*es256_, Header().dump(), payload));
    if (expected) {
      ExpectError(result, *expected);
    } else {
      ASSERT_TRUE(result.ok()) << ToString(result.error());
    }
  }
}

TEST_F(AccessTokenVerifierTest, ReadsEscapedClaims) {
  std::string payload = Claims().dump();
  payload.replace(payload.find("\"user-1\""), 8, R"("\u0075ser-\u00e9")");
  payload.replace(payload.find("\"roles\""), 7, R"("\u0072oles")");
  const auto result = Verify(Sign(*es256_, Header().dump(), payload));
  ASSERT_TRUE(result.ok()) << ToString(result.error());
  EXPECT_EQ(result.value().subject(), "user-\xc3\xa9");
  EXPECT_EQ(result.value().roles(), (std::vector<std::string>{"user"}));
}

TEST(CheckTimeClaimsTest, RequiresExp) {
  EXPECT_EQ(CheckTimeClaims(json{{"iat", kNow}}, kNow, 0), TokenError::kMissingClaim);
  EXPECT_EQ(CheckTimeClaims(json{{"exp", kNow + 1}}, kNow, 0), std::nullopt);
  EXPECT_EQ(CheckTimeClaims(json{{"exp", kNow}}, kNow, 0), TokenError::kExpired);
}

TEST(TokenErrorTest, EveryErrorHasDistinctText) {
  std::set<std::string_view> seen;
  for (int i = 0; i <= static_cast<int>(TokenError::kNotYetValid); ++i) {
    const auto text = ToString(static_cast<TokenError>(i));
    EXPECT_NE(text, "unknown token error");
    EXPECT_TRUE(seen.insert(text).second) << text;
  }
  EXPECT_EQ(ToString(TokenError::kExpired), "token expired");
}

}  // namespace
}  // namespace tollgate
