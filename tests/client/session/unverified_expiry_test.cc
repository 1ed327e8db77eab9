#include "client/session/unverified_expiry.h"

#include <gtest/gtest.h>

#include <string>

#include "common/token/base64url.h"

namespace tollgate::client {
namespace {

std::string Jwt(const std::string& payload) {
  return Base64UrlEncode(R"({"alg":"ES256","typ":"at+jwt"})") + "." + Base64UrlEncode(payload) +
         ".c2lnbmF0dXJl";
}

TEST(UnverifiedExpiryTest, ReadsTheExpClaimWithoutTheSignature) {
  EXPECT_EQ(UnverifiedExpiryUnixSeconds(Jwt(R"({"sub":"u","exp":1800000003})")), 1800000003);
  EXPECT_EQ(UnverifiedExpiryUnixSeconds(Jwt(R"({"exp":1800000003})").substr(0, 60) + "x"),
            std::nullopt);  // the payload cut short
}

TEST(UnverifiedExpiryTest, NoIntegerExpIsNoExpiry) {
  EXPECT_EQ(UnverifiedExpiryUnixSeconds(Jwt(R"({"sub":"u"})")), std::nullopt);
  EXPECT_EQ(UnverifiedExpiryUnixSeconds(Jwt(R"({"exp":"1800000003"})")), std::nullopt);
  EXPECT_EQ(UnverifiedExpiryUnixSeconds(Jwt(R"({"exp":1.5})")), std::nullopt);
  EXPECT_EQ(UnverifiedExpiryUnixSeconds(Jwt(R"([1800000003])")), std::nullopt);
  EXPECT_EQ(UnverifiedExpiryUnixSeconds(Jwt("not json")), std::nullopt);
}

TEST(UnverifiedExpiryTest, AnOpaqueTokenHasNoExpiry) {
  EXPECT_EQ(UnverifiedExpiryUnixSeconds("access-1"), std::nullopt);
  EXPECT_EQ(UnverifiedExpiryUnixSeconds("a.b"), std::nullopt);
  EXPECT_EQ(UnverifiedExpiryUnixSeconds("a.!!!.c"), std::nullopt);
  EXPECT_EQ(UnverifiedExpiryUnixSeconds(""), std::nullopt);
}

}  // namespace
}  // namespace tollgate::client
