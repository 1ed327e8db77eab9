#include "auth_service/accounts/page_token.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/token/base64url.h"
#include "tests/auth_service/accounts/account_services.h"

namespace tollgate::auth {
namespace {

using ::tollgate::testing::HasStatus;

constexpr char kNotOurs[] = "page_token: not a token from this API";
constexpr char kId[] = "a0000000-0000-4000-8000-00000000002a";

const PageTokenCodec& Codec() {
  static const PageTokenCodec codec(std::string(32, 'k'));
  return codec;
}

TEST(PageTokenCodecTest, RoundTripsACursor) {
  const std::string token = Codec().Encode(UserCursor{1'800'000'123, kId});
  auto cursor = Codec().Decode(token);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(cursor->created_at, 1'800'000'123);
  EXPECT_EQ(cursor->id, kId);
}

TEST(PageTokenCodecTest, RoundTripsANegativeAndAZeroTime) {
  for (const int64_t created_at : {int64_t{0}, int64_t{-5}}) {
    auto cursor = Codec().Decode(Codec().Encode(UserCursor{created_at, kId}));
    ASSERT_TRUE(cursor.ok()) << cursor.status();
    EXPECT_EQ(cursor->created_at, created_at);
  }
}

TEST(PageTokenCodecTest, TokenIsUrlSafeAndDoesNotShowTheIdInClear) {
  const std::string token = Codec().Encode(UserCursor{1, kId});
  EXPECT_EQ(token.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
            std::string::npos)
      << token;
  EXPECT_EQ(token.find(kId), std::string::npos);
}

TEST(PageTokenCodecTest, RejectsATokenMadeWithAnotherKey) {
  const PageTokenCodec other(std::string(32, 'o'));
  EXPECT_TRUE(HasStatus(Codec().Decode(other.Encode(UserCursor{1, kId})).status(),
                        absl::StatusCode::kInvalidArgument, kNotOurs));
}

TEST(PageTokenCodecTest, RejectsATamperedPayloadOrMac) {
  const std::string token = Codec().Encode(UserCursor{1, kId});
  const size_t dot = token.find('.');
  const std::string other_payload = Base64UrlEncode("v1|2|" + std::string(kId));
  EXPECT_TRUE(HasStatus(Codec().Decode(other_payload + token.substr(dot)).status(),
                        absl::StatusCode::kInvalidArgument, kNotOurs));
  std::string bad_mac = token;
  bad_mac[dot + 1] = bad_mac[dot + 1] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(
      HasStatus(Codec().Decode(bad_mac).status(), absl::StatusCode::kInvalidArgument, kNotOurs));
  EXPECT_TRUE(HasStatus(Codec().Decode(token.substr(0, dot + 1)).status(),
                        absl::StatusCode::kInvalidArgument, kNotOurs));
}

TEST(PageTokenCodecTest, RejectsGarbage) {
  const std::vector<std::string> tokens = {
      "", ".", "..", "abc", "a.b", "!!!.???", "tgr_AAAA", std::string(300, 'A') + ".AA"};
  for (const std::string& token : tokens) {
    EXPECT_TRUE(
        HasStatus(Codec().Decode(token).status(), absl::StatusCode::kInvalidArgument, kNotOurs))
        << token;
  }
}

}  // namespace
}  // namespace tollgate::auth
