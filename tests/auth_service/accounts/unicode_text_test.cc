#include "auth_service/accounts/unicode_text.h"

#include <gtest/gtest.h>

namespace tollgate::auth {
namespace {

TEST(TrimWhitespaceTest, TrimsAsciiWhitespaceOnly) {
  EXPECT_EQ(TrimWhitespace(" \t\r\n\v\fAnn Lee \n"), "Ann Lee");
  EXPECT_EQ(TrimWhitespace("\xc2\xa0" "Ann"), "\xc2\xa0" "Ann");  // NBSP is kept
  EXPECT_EQ(TrimWhitespace("   "), "");
}

TEST(ScanUtf8Test, CountsCodePointsAndSeesControlCharacters) {
  const std::optional<Utf8Scan> scan = ScanUtf8("aé漢😀");
  ASSERT_TRUE(scan.has_value());
  EXPECT_EQ(scan->code_points, 4u);
  EXPECT_FALSE(scan->has_control);
  EXPECT_TRUE(ScanUtf8("a\xc2\x85")->has_control);  // U+0085
  EXPECT_FALSE(ScanUtf8("a\xc0\xaf").has_value());  // overlong '/'
}

TEST(MixesScriptsTest, AllowsOneScriptAndCjkCombinations) {
  EXPECT_FALSE(MixesScripts("admin"));
  EXPECT_FALSE(MixesScripts("иван"));
  EXPECT_FALSE(MixesScripts("山田たろう"));
  EXPECT_FALSE(MixesScripts("yamada山田"));
  EXPECT_TRUE(MixesScripts("\u0430dmin"));
  EXPECT_TRUE(MixesScripts("1\u0661"));
}

TEST(ImitatesAsciiTest, FindsLookAlikesButNotMarkedLetters) {
  EXPECT_FALSE(ImitatesAscii("admin"));
  EXPECT_FALSE(ImitatesAscii("jürgen"));
  EXPECT_FALSE(ImitatesAscii("иван"));
  EXPECT_TRUE(ImitatesAscii("adm\u0131n"));
  EXPECT_TRUE(ImitatesAscii("\u0440\u0430\u0443"));
  EXPECT_TRUE(ImitatesAscii("i\u0307"));
}

TEST(NfkcCasefoldTest, FoldsAndDropsDefaultIgnorables) {
  EXPECT_EQ(NfkcCasefold("\uff21nn\u200b"), "ann");
  EXPECT_EQ(NfkcCasefold("Stra\u00dfe"), "strasse");
  EXPECT_EQ(NfkcCasefold("\u0130"), "i\u0307");
}

}  // namespace
}  // namespace tollgate::auth
