#include "auth_service/password/password_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "auth_service/password/common_passwords.h"

namespace tollgate::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kEmail[] = "ann@example.com";

class PasswordPolicyTest : public ::testing::Test {
 protected:
  // Asserts INVALID_ARGUMENT with exactly `message`.
  static void ExpectInvalid(const absl::Status& status, const std::string& message) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(status.message(), message);
  }
  static std::string Repeat(std::string_view unit, size_t count) {
    std::string out;
    for (size_t i = 0; i < count; ++i) out += unit;
    return out;
  }
};

// --- passwords ---

TEST_F(PasswordPolicyTest, AcceptsAnOrdinaryPassword) {
  EXPECT_TRUE(CheckPassword("correct horse battery staple", kEmail).ok());
}

TEST_F(PasswordPolicyTest, RefusesSevenCharactersAndAcceptsEight) {
  ExpectInvalid(CheckPassword("xk3#pq9", kEmail), "password: must be at least 8 characters");
  EXPECT_TRUE(CheckPassword("xk3#pq9z", kEmail).ok());
}

TEST_F(PasswordPolicyTest, CountsCodePointsNotBytes) {
  // "é" is 2 bytes, "😀" 4 bytes, "漢" 3 bytes: 7 of them are 14, 28 and 21
  // bytes but still 7 characters.
  for (const std::string_view unit : {"é", "😀", "漢"}) {
    ExpectInvalid(CheckPassword(Repeat(unit, 7), kEmail),
                  "password: must be at least 8 characters");
    EXPECT_TRUE(CheckPassword(Repeat(unit, 8), kEmail).ok()) << unit;
  }
}

TEST_F(PasswordPolicyTest, Accepts1024BytesAndRefuses1025) {
  EXPECT_TRUE(CheckPassword(std::string(1024, 'x'), kEmail).ok());
  ExpectInvalid(CheckPassword(std::string(1025, 'x'), kEmail),
                "password: must be at most 1024 bytes");
  // The limit is bytes: 512 two-byte characters fit, 513 do not.
  EXPECT_TRUE(CheckPassword(Repeat("é", 512), kEmail).ok());
  ExpectInvalid(CheckPassword(Repeat("é", 513), kEmail), "password: must be at most 1024 bytes");
}

TEST_F(PasswordPolicyTest, RefusesInvalidUtf8) {
  const std::string cases[] = {
      "abcdefgh\xff",          // never valid
      "abcdefgh\x80",          // lone continuation byte
      "abcdefgh\xc3",          // truncated sequence
      "abcdefgh\xc0\xaf",      // overlong '/'
      "abcdefgh\xe0\x80\xaf",  // overlong, 3 bytes
      "abcdefgh\xed\xa0\x80",  // UTF-16 surrogate U+D800
      "abcdefgh\xf4\x90\x80\x80",  // above U+10FFFF
  };
  for (const std::string& password : cases) {
    ExpectInvalid(CheckPassword(password, kEmail), "password: must be valid UTF-8");
  }
}

TEST_F(PasswordPolicyTest, RefusesTheEmailIgnoringCaseAndSurroundingSpace) {
  ExpectInvalid(CheckPassword("ann@example.com", kEmail),
                "password: must not be the same as the email");
  ExpectInvalid(CheckPassword("Ann@Example.COM", "  ann@example.com\t"),
                "password: must not be the same as the email");
  ExpectInvalid(CheckPassword(" ann@example.com ", kEmail),
                "password: must not be the same as the email");
  EXPECT_TRUE(CheckPassword("ann@example.com1", kEmail).ok());
}

TEST_F(PasswordPolicyTest, RefusesCommonPasswordsInAnyCase) {
  const std::string message = "password: is one of the most common passwords, choose another";
  ExpectInvalid(CheckPassword("password", kEmail), message);
  ExpectInvalid(CheckPassword("PassWord1", kEmail), message);
  ExpectInvalid(CheckPassword("QWERTYUIOP", kEmail), message);
  ExpectInvalid(CheckPassword("iloveyou1", kEmail), message);
  ExpectInvalid(CheckPassword("12345678", kEmail), message);
  ExpectInvalid(CheckPassword("123456789", kEmail), message);
  // A near miss is allowed: the list is exact, not fuzzy.
  EXPECT_TRUE(CheckPassword("password1234567", kEmail).ok());
}

TEST_F(PasswordPolicyTest, MessagesNeverRepeatThePassword) {
  const std::string password = "QWERTYUIOP";
  const absl::Status status = CheckPassword(password, kEmail);
  EXPECT_THAT(std::string(status.message()), StartsWith("password: "));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr(password)));
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("qwertyuiop")));
}

TEST_F(PasswordPolicyTest, BundledListHasAtLeast200DistinctLowerCaseEntriesOf8OrMore) {
  std::set<std::string> entries;
  std::string_view text = CommonPasswordsText();
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string line(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty() || line[0] == '#') continue;
    EXPECT_GE(line.size(), kMinPasswordCharacters) << line;  // all ASCII
    for (const char c : line) {
      EXPECT_TRUE(c > ' ' && c < 0x7f && !(c >= 'A' && c <= 'Z')) << line;
    }
    EXPECT_TRUE(entries.insert(line).second) << "duplicate: " << line;
    EXPECT_TRUE(IsCommonPassword(line)) << line;
  }
  EXPECT_GE(entries.size(), 200u);
}

}  // namespace
}  // namespace tollgate::auth
