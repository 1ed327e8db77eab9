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
  // The normalized email, or the error.
  static std::string Normalized(std::string_view email) {
    absl::StatusOr<std::string> normalized = NormalizeEmail(email);
    return normalized.ok() ? *normalized : normalized.status().ToString();
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

// --- emails ---

TEST_F(PasswordPolicyTest, NormalizeEmailTrimsAndKeepsCase) {
  EXPECT_EQ(Normalized("  Ann@Example.com \t\r\n"), "Ann@Example.com");
  EXPECT_EQ(Normalized("ann@example.com"), "ann@example.com");
  EXPECT_EQ(Normalized("jürgen@bücher.example"), "jürgen@bücher.example");
}

TEST_F(PasswordPolicyTest, EmailKeyLowerCasesAsciiOnly) {
  EXPECT_EQ(EmailKey("Ann@Example.COM"), "ann@example.com");
  EXPECT_EQ(EmailKey("JÜRGEN@Example.de"), "jÜrgen@example.de");
}

TEST_F(PasswordPolicyTest, Accepts254CharactersAndRefuses255) {
  const std::string domain = "@example.com";
  const std::string email_254 = std::string(254 - domain.size(), 'a') + domain;
  const std::string email_255 = std::string(255 - domain.size(), 'a') + domain;
  ASSERT_EQ(email_254.size(), 254u);
  EXPECT_EQ(Normalized(email_254), email_254);
  ExpectInvalid(NormalizeEmail(email_255).status(), "email: must be at most 254 characters");
  // Surrounding spaces are trimmed before the length is checked.
  EXPECT_EQ(Normalized("  " + email_254 + "  "), email_254);
}

TEST_F(PasswordPolicyTest, NormalizeEmailRefusesEachMalformedShape) {
  struct Case {
    std::string email;
    std::string message;
  };
  const Case cases[] = {
      {"", "email: must not be empty"},
      {" \t ", "email: must not be empty"},
      {"ann.example.com", "email: must contain an '@'"},
      {"ann@b@example.com", "email: must contain exactly one '@'"},
      {"ann@@example.com", "email: must contain exactly one '@'"},
      {"@example.com", "email: the part before '@' must not be empty"},
      {"ann@", "email: the domain after '@' must not be empty"},
      {"ann@localhost", "email: the domain must contain a dot, as in example.com"},
      {"ann@.example.com", "email: the domain must not have an empty label"},
      {"ann@example.com.", "email: the domain must not have an empty label"},
      {"ann@example..com", "email: the domain must not have an empty label"},
      {"ann smith@example.com", "email: must not contain spaces"},
      {"ann@exam ple.com", "email: must not contain spaces"},
      {"ann@example.com\r\nBcc: eve@example.com", "email: must not contain control characters"},
      {"ann\t@example.com", "email: must not contain control characters"},
      {std::string("ann\0@example.com", 16), "email: must not contain control characters"},
      {"ann\x7f@example.com", "email: must not contain control characters"},
      {"ann\xc2\x85@example.com", "email: must not contain control characters"},  // U+0085
      {"ann\xff@example.com", "email: must be valid UTF-8"},
      {"ann\xc0\xc0@example.com", "email: must be valid UTF-8"},
  };
  for (const Case& c : cases) {
    ExpectInvalid(NormalizeEmail(c.email).status(), c.message);
  }
}

// --- names ---

TEST_F(PasswordPolicyTest, CheckNameAcceptsOrdinaryNames) {
  EXPECT_TRUE(CheckName("first_name", "Ann").ok());
  EXPECT_TRUE(CheckName("last_name", "  O'Brien-Núñez  ").ok());
  EXPECT_TRUE(CheckName("last_name", "山田").ok());
}

TEST_F(PasswordPolicyTest, CheckNameRefusesEmptyAfterTrim) {
  ExpectInvalid(CheckName("first_name", ""), "first_name: must not be empty");
  ExpectInvalid(CheckName("last_name", " \t\n"), "last_name: must not be empty");
}

TEST_F(PasswordPolicyTest, CheckNameAccepts100CharactersAndRefuses101) {
  EXPECT_TRUE(CheckName("first_name", Repeat("é", 100)).ok());
  ExpectInvalid(CheckName("first_name", Repeat("é", 101)),
                "first_name: must be at most 100 characters");
  EXPECT_TRUE(CheckName("first_name", "  " + std::string(100, 'a') + "  ").ok());
}

TEST_F(PasswordPolicyTest, CheckNameRefusesControlCharactersAndInvalidUtf8) {
  ExpectInvalid(CheckName("first_name", "Ann\tLee"),
                "first_name: must not contain control characters");
  ExpectInvalid(CheckName("first_name", std::string("Ann\0", 4) + "x"),
                "first_name: must not contain control characters");
  ExpectInvalid(CheckName("first_name", "Ann\xe2\x82"), "first_name: must be valid UTF-8");
}

TEST_F(PasswordPolicyTest, TrimWhitespaceTrimsAsciiWhitespaceOnly) {
  EXPECT_EQ(TrimWhitespace(" \t\r\n\v\fAnn Lee \n"), "Ann Lee");
  EXPECT_EQ(TrimWhitespace("\xc2\xa0" "Ann"), "\xc2\xa0" "Ann");  // NBSP is kept
  EXPECT_EQ(TrimWhitespace("   "), "");
}

}  // namespace
}  // namespace tollgate::auth
