#include "common/token/jwk.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/openssl_ptr.h"
#include "common/token/base64url.h"
#include "common/token/jwk_set.h"
#include "tests/support/test_keys.h"

namespace tollgate {
namespace {

using nlohmann::json;

std::string PemOf(EVP_PKEY* raw, const EVP_CIPHER* cipher = nullptr) {
  EvpPkeyPtr key(raw);
  BioPtr bio(BIO_new(BIO_s_mem()));
  static char passphrase[] = "correct horse battery";
  PEM_write_bio_PrivateKey(bio.get(), key.get(), cipher,
                           cipher ? reinterpret_cast<unsigned char*>(passphrase) : nullptr,
                           cipher ? sizeof(passphrase) - 1 : 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

TEST(JwkTest, PemKeyTypePicksTheAlgorithm) {
  const std::pair<JwsAlgorithm, const char*> cases[] = {
      {JwsAlgorithm::kES256, "EC"}, {JwsAlgorithm::kEdDSA, "OKP"}, {JwsAlgorithm::kRS256, "RSA"}};
  for (const auto& [algorithm, kty] : cases) {
    auto key = Jwk::FromPrivateKeyPem(testing::GeneratePrivateKeyPem(algorithm));
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->algorithm(), algorithm);
    EXPECT_TRUE(key->has_private_key());
    EXPECT_EQ(key->kid(), key->thumbprint());
    EXPECT_EQ(key->thumbprint().size(), 43u);  // base64url of a SHA-256
    const json public_jwk = *key->ToPublicJson();
    EXPECT_EQ(public_jwk["kty"], kty);
    EXPECT_EQ(public_jwk["alg"], AlgorithmName(algorithm));
    EXPECT_EQ(public_jwk["use"], "sig");
    EXPECT_FALSE(public_jwk.contains("d")) << "private part published";
  }
}

TEST(JwkTest, RefusesEncryptedPemWithoutPrompting) {
  auto key = Jwk::FromPrivateKeyPem(PemOf(EVP_EC_gen("P-256"), EVP_aes_256_cbc()));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JwkTest, RefusesShortRsaKey) {
  auto key = Jwk::FromPrivateKeyPem(PemOf(EVP_RSA_gen(1024)));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(key.status().message()).find("2048"), std::string::npos);
}

TEST(JwkTest, RefusesOtherCurves) {
  auto key = Jwk::FromPrivateKeyPem(PemOf(EVP_EC_gen("P-384")));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JwkTest, RefusesGarbagePemAndMissingFile) {
  EXPECT_EQ(Jwk::FromPrivateKeyPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Jwk::FromPrivateKeyPemFile("/nonexistent/key.pem").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(JwkTest, HmacSecretMustBeAtLeast32Bytes) {
  EXPECT_EQ(Jwk::FromHmacSecret(std::string(31, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto key = Jwk::FromHmacSecret(std::string(32, 'k'));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->algorithm(), JwsAlgorithm::kHS256);
  EXPECT_EQ(key->ToPublicJson(), std::nullopt) << "a shared secret must never be published";
}

class JwkJsonTest : public ::testing::Test {
 protected:
  JwkJsonTest() : ec_(*testing::GenerateKey(JwsAlgorithm::kES256).ToPublicJson()) {}
  static absl::StatusCode CodeOf(const json& jwk) { return Jwk::FromJson(jwk).status().code(); }
  json ec_;
};

TEST_F(JwkJsonTest, ParsesPublicEcKeyWithItsKid) {
  json jwk = ec_;
  jwk["kid"] = "key-2026";
  auto key = Jwk::FromJson(jwk);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->kid(), "key-2026");
  EXPECT_FALSE(key->has_private_key());
  EXPECT_EQ((*key->ToPublicJson())["x"], ec_["x"]);
}

TEST_F(JwkJsonTest, DefaultsKidToThumbprint) {
  json jwk = ec_;
  jwk.erase("kid");
  auto key = Jwk::FromJson(jwk);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->kid(), key->thumbprint());
}

TEST_F(JwkJsonTest, RefusesPointNotOnTheCurve) {
  json jwk = ec_;
  std::string y = *Base64UrlDecode(jwk["y"].get<std::string>());
  y[31] ^= 1;
  jwk["y"] = Base64UrlEncode(y);
  EXPECT_EQ(CodeOf(jwk), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwkJsonTest, RefusesWrongCoordinateLength) {
  json jwk = ec_;
  jwk["x"] = Base64UrlEncode(std::string(31, '\1'));
  EXPECT_EQ(CodeOf(jwk), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwkJsonTest, RefusesAlgThatContradictsTheKeyType) {
  json jwk = ec_;
  jwk["alg"] = "HS256";
  EXPECT_EQ(CodeOf(jwk), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwkJsonTest, RefusesEncryptionKeys) {
  json jwk = ec_;
  jwk["use"] = "enc";
  EXPECT_EQ(CodeOf(jwk), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwkJsonTest, RefusesUnknownTypesAndCurves) {
  EXPECT_EQ(CodeOf(json{{"kty", "XYZ"}}), absl::StatusCode::kInvalidArgument);
  json jwk = ec_;
  jwk["crv"] = "P-384";
  EXPECT_EQ(CodeOf(jwk), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(json::array()), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwkJsonTest, RefusesNonCanonicalBase64Members) {
  json jwk = ec_;
  jwk["x"] = jwk["x"].get<std::string>() + "=";
  EXPECT_EQ(CodeOf(jwk), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwkJsonTest, RefusesRsaModulusWithLeadingZero) {
  json rsa = *testing::GenerateKey(JwsAlgorithm::kRS256).ToPublicJson();
  rsa["n"] = Base64UrlEncode(std::string(1, '\0') + *Base64UrlDecode(rsa["n"].get<std::string>()));
  EXPECT_EQ(CodeOf(rsa), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwkJsonTest, RefusesPartialRsaPrivateKey) {
  json rsa = *testing::GenerateKey(JwsAlgorithm::kRS256).ToPublicJson();
  rsa["d"] = Base64UrlEncode("\x01\x02\x03");
  EXPECT_EQ(CodeOf(rsa), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwkJsonTest, RefusesEd25519PrivateKeyThatDoesNotMatch) {
  json okp = *testing::GenerateKey(JwsAlgorithm::kEdDSA).ToPublicJson();
  okp["d"] = Base64UrlEncode(std::string(32, '\7'));
  EXPECT_EQ(CodeOf(okp), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwkJsonTest, RefusesEcPrivateKeyThatDoesNotMatch) {
  json jwk = ec_;
  jwk["d"] = Base64UrlEncode(std::string(32, '\7'));
  EXPECT_EQ(CodeOf(jwk), absl::StatusCode::kInvalidArgument);
}

TEST(JwkSetTest, RefusesDuplicateKid) {
  const Jwk a = testing::GenerateKey(JwsAlgorithm::kES256).WithKid("same");
  const Jwk b = testing::GenerateKey(JwsAlgorithm::kEdDSA).WithKid("same");
  EXPECT_EQ(JwkSet::FromKeys({a, b}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JwkSetTest, SkipsEncryptionKeysAndUnknownTypes) {
  const json ec = *testing::GenerateKey(JwsAlgorithm::kES256).ToPublicJson();
  json enc = ec;
  enc["use"] = "enc";
  enc["kid"] = "enc-key";
  const json document = {{"keys", {ec, enc, {{"kty", "XYZ"}, {"kid", "future"}},
                                   {{"kty", "EC"}, {"crv", "P-521"}, {"kid", "p521"}}}}};
  auto set = JwkSet::FromJson(document.dump());
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].kid(), ec["kid"]);
  EXPECT_EQ(set->Find("enc-key"), nullptr);
}

TEST(JwkSetTest, FailsWholeSetOnAMalformedSupportedKey) {
  json ec = *testing::GenerateKey(JwsAlgorithm::kES256).ToPublicJson();
  json broken = ec;
  broken["kid"] = "broken";
  broken["x"] = "not base64!";
  auto set = JwkSet::FromJson(json{{"keys", {ec, broken}}}.dump());
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(set.status().message()).find("key 1"), std::string::npos);
}

TEST(JwkSetTest, RefusesDocumentsThatAreNotJwkSets) {
  for (const char* text : {"", "[]", "{}", R"({"keys":{}})", R"({"keys":[1]})",
                           R"({"keys":[],"keys":[]})"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(JwkSet::FromJson(text).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(JwkSetTest, PublicJsonNeverContainsTheHmacSecret) {
  auto set = JwkSet::FromKeys({testing::GenerateKey(JwsAlgorithm::kHS256),
                               testing::GenerateKey(JwsAlgorithm::kEdDSA)});
  ASSERT_TRUE(set.ok());
  const json published = json::parse(set->ToPublicJson());
  ASSERT_EQ(published["keys"].size(), 1u);
  EXPECT_EQ(published["keys"][0]["kty"], "OKP");
  EXPECT_EQ(set->ToPublicJson().find("\"k\""), std::string::npos);
}

}  // namespace
}  // namespace tollgate
