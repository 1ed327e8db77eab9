// Project Wycheproof vectors (tests/testdata/wycheproof, Apache 2.0) run
// through our own primitives: the key is imported the way a JWKS key is
// (Jwk::FromJson, or Jwk::FromHmacSecret for HMAC) and every signature goes
// through JwsVerify. Every `valid` case must verify and every `invalid` one
// must be refused; `acceptable` cases (legacy encodings) may go either way
// and are only counted. Each test asserts the exact number of cases it ran,
// so a truncated or missing file cannot make it pass.
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/token/base64url.h"
#include "common/token/jwk.h"
#include "common/token/jws.h"
#include "nlohmann/json.hpp"

namespace tollgate {
namespace {

using nlohmann::json;

constexpr char kVectorDir[] = TOLLGATE_TESTDATA_DIR "/wycheproof/";

// How many cases of each result a file holds (counted from the pinned
// copies in tests/testdata/wycheproof).
struct Counts {
  int valid = 0;
  int invalid = 0;
  int acceptable = 0;
  int total() const { return valid + invalid + acceptable; }
};

// What running a file's cases gave.
struct Tally {
  Counts ran;
  int acceptable_verified = 0;
  int groups_with_derived_jwk = 0;
};

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = nibble(hex[i]);
    const int low = nibble(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>((high << 4) | low));
  }
  return out;
}

// A Wycheproof hex integer as a fixed-width big-endian field element: the
// files write coordinates with a sign byte (00...) or without leading zeros.
std::optional<std::string> FixedWidth(std::string_view hex, size_t width) {
  auto bytes = HexDecode(hex);
  if (!bytes) return std::nullopt;
  std::string_view value = *bytes;
  while (!value.empty() && value.front() == '\0') value.remove_prefix(1);
  if (value.size() > width) return std::nullopt;
  return std::string(width - value.size(), '\0') + std::string(value);
}

class WycheproofTest : public ::testing::Test {
 protected:
  // Loads one vector file. A missing or unparsable file is a failure: the
  // vectors are part of the repository, so their absence is a broken tree.
  static ::testing::AssertionResult LoadVectors(const std::string& file_name, json* out) {
    const std::string path = kVectorDir + file_name;
    std::ifstream file(path, std::ios::binary);
    if (!file) return ::testing::AssertionFailure() << "cannot open " << path;
    *out = json::parse(file, /*cb=*/nullptr, /*allow_exceptions=*/false);
    if (out->is_discarded()) return ::testing::AssertionFailure() << path << " is not JSON";
    if (!out->contains("testGroups") || !(*out)["testGroups"].is_array()) {
      return ::testing::AssertionFailure() << path << " has no testGroups array";
    }
    return ::testing::AssertionSuccess();
  }

  // Runs one case: `key` is the group's imported key (or why it failed).
  static void RunCase(const std::string& file_name, const json& test,
                      const absl::StatusOr<Jwk>& key, const char* signature_member,
                      Tally& tally) {
    const int tc_id = test.at("tcId").get<int>();
    const std::string result = test.at("result").get<std::string>();
    SCOPED_TRACE(absl::StrCat(file_name, " tcId ", tc_id, " (", result, "): ",
                              test.value("comment", "")));

    if (result == "valid") {
      ++tally.ran.valid;
    } else if (result == "invalid") {
      ++tally.ran.invalid;
    } else if (result == "acceptable") {
      ++tally.ran.acceptable;
    } else {
      ADD_FAILURE() << "unknown result '" << result << "'";
      return;
    }

    const auto message = HexDecode(test.at("msg").get<std::string>());
    const auto signature = HexDecode(test.at(signature_member).get<std::string>());
    ASSERT_TRUE(message.has_value()) << "msg is not hex";
    ASSERT_TRUE(signature.has_value()) << signature_member << " is not hex";

    bool verified = false;
    if (key.ok()) {
      verified = JwsVerify(*key, *message, *signature);
    } else if (result == "valid") {
      // A refused key rejects everything, which is only right for cases
      // that are not valid.
      ADD_FAILURE() << "tcId " << tc_id << ": key import failed: " << key.status();
      return;
    }

    if (result == "valid") {
      EXPECT_TRUE(verified) << "tcId " << tc_id << ": valid signature was rejected";
    } else if (result == "invalid") {
      EXPECT_FALSE(verified) << "tcId " << tc_id << ": invalid signature was accepted";
    } else if (verified) {
      ++tally.acceptable_verified;
    }
  }

  // Runs every case of an asymmetric-signature file. `jwk_member` names the
  // group's JWK form of the public key.
  static Tally RunSignatureFile(const std::string& file_name, const json& document,
                                const char* jwk_member, JwsAlgorithm expected_algorithm) {
    Tally tally;
    for (const json& group : document["testGroups"]) {
      json jwk;
      if (group.contains(jwk_member)) {
        jwk = group[jwk_member];
      } else {
        // Nine ECDSA groups (tcId 253-262, keys built for special r and x
        // values) ship no JWK; write the same public point as one.
        jwk = EcJwkFromWycheproofPoint(group.at("publicKey"));
        ++tally.groups_with_derived_jwk;
      }
      absl::StatusOr<Jwk> key = Jwk::FromJson(jwk);
      if (key.ok() && key->algorithm() != expected_algorithm) {
        key = absl::InvalidArgumentError(absl::StrCat(
            "imported as ", std::string(AlgorithmName(key->algorithm())), ", expected ",
            std::string(AlgorithmName(expected_algorithm))));
      }
      for (const json& test : group.at("tests")) RunCase(file_name, test, key, "sig", tally);
    }
    return tally;
  }

  static json EcJwkFromWycheproofPoint(const json& public_key) {
    EXPECT_EQ(public_key.value("curve", ""), "secp256r1");
    const auto x = FixedWidth(public_key.at("wx").get<std::string>(), 32);
    const auto y = FixedWidth(public_key.at("wy").get<std::string>(), 32);
    EXPECT_TRUE(x.has_value() && y.has_value()) << public_key.dump();
    return json{{"kty", "EC"},
                {"crv", "P-256"},
                {"x", Base64UrlEncode(x.value_or(""))},
                {"y", Base64UrlEncode(y.value_or(""))}};
  }

  static void ExpectCounts(const Tally& tally, const Counts& expected) {
    EXPECT_EQ(tally.ran.total(), expected.total());
    EXPECT_EQ(tally.ran.valid, expected.valid);
    EXPECT_EQ(tally.ran.invalid, expected.invalid);
    EXPECT_EQ(tally.ran.acceptable, expected.acceptable);
    RecordProperty("cases_run", tally.ran.total());
    RecordProperty("acceptable_verified", tally.acceptable_verified);
  }
};

TEST_F(WycheproofTest, EcdsaP256Sha256P1363VerifiesExactlyTheValidSignatures) {
  const std::string file_name = "ecdsa_secp256r1_sha256_p1363_test.json";
  json document;
  ASSERT_TRUE(LoadVectors(file_name, &document));
  const Tally tally =
      RunSignatureFile(file_name, document, "publicKeyJwk", JwsAlgorithm::kES256);
  ExpectCounts(tally, Counts{.valid = 173, .invalid = 89, .acceptable = 0});  // 262 cases
  EXPECT_EQ(tally.groups_with_derived_jwk, 9);
}

TEST_F(WycheproofTest, Ed25519VerifiesExactlyTheValidSignatures) {
  const std::string file_name = "ed25519_test.json";
  json document;
  ASSERT_TRUE(LoadVectors(file_name, &document));
  const Tally tally =
      RunSignatureFile(file_name, document, "publicKeyJwk", JwsAlgorithm::kEdDSA);
  ExpectCounts(tally, Counts{.valid = 88, .invalid = 63, .acceptable = 0});  // 151 cases
  EXPECT_EQ(tally.groups_with_derived_jwk, 0);
}

TEST_F(WycheproofTest, RsaPkcs1Sha256VerifiesExactlyTheValidSignatures) {
  const std::string file_name = "rsa_signature_2048_sha256_test.json";
  json document;
  ASSERT_TRUE(LoadVectors(file_name, &document));
  const Tally tally = RunSignatureFile(file_name, document, "keyJwk", JwsAlgorithm::kRS256);
  ExpectCounts(tally, Counts{.valid = 9, .invalid = 249, .acceptable = 1});  // 259 cases
  EXPECT_EQ(tally.groups_with_derived_jwk, 0);
}

TEST_F(WycheproofTest, HmacSha256AcceptsExactlyTheValidTags) {
  // HS256 is HMAC-SHA-256 with a full 256-bit tag and (RFC 7518 3.2) a key
  // of at least 256 bits, so only those groups apply; the others use
  // truncated tags or short keys that Jwk refuses by design.
  const std::string file_name = "hmac_sha256_test.json";
  json document;
  ASSERT_TRUE(LoadVectors(file_name, &document));
  Tally tally;
  int groups_run = 0;
  for (const json& group : document["testGroups"]) {
    if (group.at("keySize").get<int>() < 256 || group.at("tagSize").get<int>() != 256) continue;
    ++groups_run;
    for (const json& test : group.at("tests")) {
      const auto secret = HexDecode(test.at("key").get<std::string>());
      ASSERT_TRUE(secret.has_value()) << "tcId " << test.at("tcId") << ": key is not hex";
      RunCase(file_name, test, Jwk::FromHmacSecret(*secret), "tag", tally);
    }
  }
  EXPECT_EQ(groups_run, 2);  // keySize 256 and 520, both with tagSize 256
  ExpectCounts(tally, Counts{.valid = 30, .invalid = 54, .acceptable = 0});  // 84 cases
}

}  // namespace
}  // namespace tollgate
