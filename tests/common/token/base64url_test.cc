#include "common/token/base64url.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

TEST(Base64UrlTest, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
}

TEST(Base64UrlTest, UsesTheUrlAlphabet) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8"), std::string("\xfb\xff"));
}

TEST(Base64UrlTest, RoundTripsEveryByteValueAndLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes.push_back(static_cast<char>(i));
    const auto decoded = Base64UrlDecode(Base64UrlEncode(bytes));
    ASSERT_TRUE(decoded.has_value()) << i;
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64UrlTest, RejectsPadding) {
  EXPECT_EQ(Base64UrlDecode("Zg=="), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm8="), std::nullopt);
}

TEST(Base64UrlTest, RejectsWhitespace) {
  EXPECT_EQ(Base64UrlDecode("Zm9v YmFy"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9v\nYmFy"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9v\r\n"), std::nullopt);
}

TEST(Base64UrlTest, RejectsCharactersOutsideTheAlphabet) {
  EXPECT_EQ(Base64UrlDecode("+/8"), std::nullopt);  // standard base64, not url
  EXPECT_EQ(Base64UrlDecode("Zm9v.YmFy"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode(std::string("Zm\0v", 4)), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9\xc3\xa9"), std::nullopt);
}

TEST(Base64UrlTest, RejectsImpossibleLength) {
  EXPECT_EQ(Base64UrlDecode("Z"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9vY"), std::nullopt);
}

TEST(Base64UrlTest, RejectsNonZeroTrailingBits) {
  // "Zg" is the canonical encoding of "f"; "Zh" carries a stray low bit.
  EXPECT_EQ(Base64UrlDecode("Zg"), std::string("f"));
  EXPECT_EQ(Base64UrlDecode("Zh"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm8"), std::string("fo"));
  EXPECT_EQ(Base64UrlDecode("Zm9"), std::nullopt);
}

TEST(Base64UrlTest, DecodesEmptyInput) { EXPECT_EQ(Base64UrlDecode(""), std::string()); }

}  // namespace
}  // namespace tollgate
