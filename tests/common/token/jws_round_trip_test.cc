// Every algorithm, end to end through our own JWKS output: sign with the
// private key, publish the JWK Set, parse it back as a verifier would, verify.
#include <gtest/gtest.h>

#include "common/token/access_token_issuer.h"
#include "common/token/access_token_verifier.h"
#include "common/token/base64url.h"
#include "common/token/jwk_set.h"
#include "common/token/jws.h"
#include "tests/support/test_keys.h"

namespace tollgate {
namespace {

constexpr int64_t kNow = 1'800'000'000;

class JwsRoundTripTest : public ::testing::TestWithParam<JwsAlgorithm> {};

// The verifier's view of `key`: the published JWKS for asymmetric keys, the
// shared secret as an oct JWK for HS256 (never published).
JwkSet VerifierKeysFor(const Jwk& key) {
  std::string document;
  if (key.is_symmetric()) {
    document = nlohmann::json{{"keys", {{{"kty", "oct"}, {"k", Base64UrlEncode(key.secret())}}}}}.dump();
  } else {
    document = JwkSet::FromKeys({key})->ToPublicJson();
  }
  auto parsed = JwkSet::FromJson(document);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : JwkSet();
}

TEST_P(JwsRoundTripTest, IssuedTokenVerifiesThroughPublishedJwks) {
  const Jwk key = testing::GenerateKey(GetParam());
  const JwkSet keys = VerifierKeysFor(key);
  if (!key.is_symmetric()) {
    ASSERT_EQ(keys.keys().size(), 1u);
    EXPECT_EQ(keys.keys()[0].kid(), key.kid());
    EXPECT_FALSE(keys.keys()[0].has_private_key());
  }
  testing::CountingRandomSource random;
  AccessTokenIssuer issuer(key, AccessTokenOptions{"iss-x", "aud-y", 60}, random);
  auto issued = issuer.Issue({"subject-1", "s@example.com", {"user"}}, kNow);
  ASSERT_TRUE(issued.ok()) << issued.status();

  AccessTokenVerifier verifier(AccessTokenVerifierOptions{"iss-x", "aud-y", 0});
  auto identity = verifier.Verify(issued->token, keys, kNow + 59);
  ASSERT_TRUE(identity.ok()) << ToString(identity.error());
  EXPECT_EQ(identity.value().subject(), "subject-1");
  auto expired = verifier.Verify(issued->token, keys, kNow + 60);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error(), TokenError::kExpired);
}

TEST_P(JwsRoundTripTest, SignatureOfOneKeyFailsUnderAnotherOfTheSameType) {
  const Jwk signer = testing::GenerateKey(GetParam());
  const Jwk other = testing::GenerateKey(GetParam());
  auto signature = JwsSign(signer, "header.payload");
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(JwsVerify(signer, "header.payload", *signature));
  EXPECT_FALSE(JwsVerify(other, "header.payload", *signature));
  EXPECT_FALSE(JwsVerify(signer, "header.payloaD", *signature));
  EXPECT_FALSE(JwsVerify(signer, "header.payload", signature->substr(1)));
}

TEST(JwsPublicKeyTest, PublicKeysCannotSign) {
  for (auto algorithm : {JwsAlgorithm::kES256, JwsAlgorithm::kEdDSA, JwsAlgorithm::kRS256}) {
    auto public_key = Jwk::FromJson(*testing::GenerateKey(algorithm).ToPublicJson());
    ASSERT_TRUE(public_key.ok());
    EXPECT_EQ(JwsSign(*public_key, "x").status().code(), absl::StatusCode::kFailedPrecondition);
  }
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, JwsRoundTripTest,
                         ::testing::Values(JwsAlgorithm::kES256, JwsAlgorithm::kEdDSA,
                                           JwsAlgorithm::kRS256, JwsAlgorithm::kHS256),
                         [](const auto& info) { return std::string(AlgorithmName(info.param)); });

// JwsVerify turns r||s into DER by hand. Signatures whose r or s has the top
// bit set (DER pads with 0x00) or a leading zero octet (DER drops it) must
// verify like any other; the Wycheproof P1363 vectors add zero, small and
// out-of-range values.
TEST(JwsEs256Test, VerifiesEverySignatureShape) {
  const Jwk key = testing::GenerateKey(JwsAlgorithm::kES256);
  bool seen[2][3] = {};  // [r or s][top bit set, top bit clear, leading zero octet]
  int signed_count = 0;
  for (; signed_count < 20000; ++signed_count) {
    const std::string input = "header.payload" + std::to_string(signed_count);
    auto signature = JwsSign(key, input);
    ASSERT_TRUE(signature.ok());
    ASSERT_TRUE(JwsVerify(key, input, *signature)) << "signature " << signed_count;
    for (int half = 0; half < 2; ++half) {
      const auto first = static_cast<unsigned char>((*signature)[half * 32]);
      seen[half][first == 0 ? 2 : (first & 0x80) ? 0 : 1] = true;
    }
    bool all = true;
    for (const auto& half : seen) all = all && half[0] && half[1] && half[2];
    if (all) break;
  }
  EXPECT_LT(signed_count, 20000) << "did not meet every shape (leading zero: 1 in 256)";
}

TEST(JwsSignatureSizeTest, EachAlgorithmHasTheRawJwsSignatureSize) {
  EXPECT_EQ(JwsSign(testing::GenerateKey(JwsAlgorithm::kES256), "m")->size(), 64u);
  EXPECT_EQ(JwsSign(testing::GenerateKey(JwsAlgorithm::kEdDSA), "m")->size(), 64u);
  EXPECT_EQ(JwsSign(testing::GenerateKey(JwsAlgorithm::kRS256), "m")->size(), 256u);
  EXPECT_EQ(JwsSign(testing::GenerateKey(JwsAlgorithm::kHS256), "m")->size(), 32u);
}

}  // namespace
}  // namespace tollgate
