#include "auth_service/accounts/email_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace tollgate::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kInvisible[] = "email: must not contain invisible or direction-control characters";
constexpr char kMixedScripts[] = "email: must not mix scripts";
constexpr char kLookAlike[] = "email: must not use look-alikes of ASCII characters";
constexpr char kUnassigned[] = "email: must not contain unassigned or private-use characters";

// Asserts INVALID_ARGUMENT with exactly `message`, and that the message does
// not repeat the address.
void ExpectRefused(std::string_view email, const std::string& message) {
  const absl::StatusOr<std::string> normalized = NormalizeEmail(email);
  ASSERT_FALSE(normalized.ok()) << "accepted: " << email;
  EXPECT_EQ(normalized.status().code(), absl::StatusCode::kInvalidArgument) << email;
  EXPECT_EQ(normalized.status().message(), message) << email;
  const std::string trimmed(email.substr(0, email.find('@')));
  if (!trimmed.empty()) {
    EXPECT_THAT(std::string(normalized.status().message()), Not(HasSubstr(trimmed))) << email;
  }
}

// The normalized email, or the error as text (so a failure shows why).
std::string Normalized(std::string_view email) {
  absl::StatusOr<std::string> normalized = NormalizeEmail(email);
  return normalized.ok() ? *normalized : normalized.status().ToString();
}

// EmailKey of the normalized email, or the error as text.
std::string KeyOf(std::string_view email) {
  absl::StatusOr<std::string> normalized = NormalizeEmail(email);
  return normalized.ok() ? EmailKey(*normalized) : normalized.status().ToString();
}

// --- the shapes and limits kept from before ---

TEST(NormalizeEmailTest, TrimsAndKeepsCase) {
  EXPECT_EQ(Normalized("  Ann@Example.com \t\r\n"), "Ann@Example.com");
  EXPECT_EQ(Normalized("ann@example.com"), "ann@example.com");
  EXPECT_EQ(Normalized("jürgen@bücher.example"), "jürgen@bücher.example");
  EXPECT_EQ(Normalized("ann.lee+news_2024@mail.example.com"),
            "ann.lee+news_2024@mail.example.com");
}

TEST(NormalizeEmailTest, Accepts254BytesAndRefuses255) {
  const std::string domain = "@example.com";
  const std::string email_254 = std::string(254 - domain.size(), 'a') + domain;
  const std::string email_255 = std::string(255 - domain.size(), 'a') + domain;
  ASSERT_EQ(email_254.size(), 254u);
  EXPECT_EQ(Normalized(email_254), email_254);
  ExpectRefused(email_255, "email: must be at most 254 characters");
  // Surrounding spaces are trimmed before the length is checked.
  EXPECT_EQ(Normalized("  " + email_254 + "  "), email_254);
}

TEST(NormalizeEmailTest, RefusesEachMalformedShape) {
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
      {"ann\xed\xa0\x80@example.com", "email: must be valid UTF-8"},  // surrogate U+D800
  };
  for (const Case& c : cases) {
    const absl::StatusOr<std::string> normalized = NormalizeEmail(c.email);
    EXPECT_EQ(normalized.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(normalized.status().message(), c.message);
  }
}

// --- the five attack strings of the review, each beside admin@example.com ---

TEST(NormalizeEmailTest, RefusesDotlessI) {
  ExpectRefused("adm\u0131n@example.com", kLookAlike);
}

TEST(NormalizeEmailTest, GivesFullWidthLettersTheKeyOfTheAsciiAddress) {
  EXPECT_EQ(Normalized("\uff41dmin@example.com"), "\uff41dmin@example.com");  // kept as entered
  EXPECT_EQ(KeyOf("\uff41dmin@example.com"), "admin@example.com");
  EXPECT_EQ(KeyOf("\uff41dmin@example.com"), KeyOf("admin@example.com"));
  EXPECT_EQ(KeyOf("\uff21\uff24\uff2d\uff29\uff2e@\uff45xample.com"), "admin@example.com");
}

TEST(NormalizeEmailTest, RefusesCyrillicAInALatinWord) {
  ExpectRefused("\u0430dmin@example.com", kMixedScripts);
}

TEST(NormalizeEmailTest, RefusesTrailingZeroWidthSpace) {
  ExpectRefused("admin@example.com\u200b", kInvisible);
}

TEST(NormalizeEmailTest, RefusesRightToLeftOverrideBeforeTheAddress) {
  ExpectRefused("\u202eadmin@example.com", kInvisible);
}

// --- more look-alikes ---

TEST(NormalizeEmailTest, RefusesEveryInvisibleAndBidiControlCharacter) {
  const char* const characters[] = {
      "\u00ad",       // soft hyphen
      "\u034f",       // combining grapheme joiner
      "\u061c",       // Arabic letter mark
      "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",
      "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
      "\u2060", "\u2066", "\u2067", "\u2068", "\u2069",
      "\ufe0f",       // variation selector 16
      "\ufeff",       // byte order mark / zero-width no-break space
      "\U000e0041",   // tag latin capital letter a
  };
  for (const char* character : characters) {
    ExpectRefused(std::string("ad") + character + "min@example.com", kInvisible);
    ExpectRefused(std::string("admin@exa") + character + "mple.com", kInvisible);
  }
  // The same nonspacing mark twice draws once.
  ExpectRefused("jose\u0301\u0301@example.es", kInvisible);
}

TEST(NormalizeEmailTest, RefusesMixedScriptsPerPartAndLabel) {
  ExpectRefused("admin@\u0435xample.com", kMixedScripts);        // Cyrillic е in a label
  ExpectRefused("admin@example.\u0441om", kMixedScripts);        // Cyrillic с in the TLD
  ExpectRefused("p\u0430ypal@example.com", kMixedScripts);       // Cyrillic а
  ExpectRefused("\u03bfmega@example.com", kMixedScripts);        // Greek ο, Latin mega
  ExpectRefused("ann1\u0661@example.com", kMixedScripts);        // ASCII 1 and Arabic-Indic 1
  // Scripts may differ between parts: each part is judged on its own.
  EXPECT_EQ(Normalized("иван@example.com"), "иван@example.com");
  EXPECT_EQ(Normalized("ivan@пример.рф"), "ivan@пример.рф");
}

TEST(NormalizeEmailTest, RefusesWholeScriptLookAlikesOfAscii) {
  ExpectRefused("\u0440\u0430\u0443@example.com", kLookAlike);   // Cyrillic "рау" for "pay"
  ExpectRefused("ann@\u0440\u0430\u0443.com", kLookAlike);       // ... as a domain label
  ExpectRefused("ann\u2010lee@example.com", kLookAlike);         // U+2010 hyphen for "-"
  ExpectRefused("j\u00fcrg\u0131n@example.de", kLookAlike);      // dotless i beside a ü
  ExpectRefused("\u0251dmin@example.com", kLookAlike);           // Latin alpha for "a"
  ExpectRefused("admi\u0307n@example.com", kLookAlike);          // i + combining dot above
  ExpectRefused("ADM\u0130N@example.com", kLookAlike);           // İ folds to i + U+0307
}

TEST(NormalizeEmailTest, RefusesStructureMadeByFolding) {
  // U+FF20 full-width '@' folds to a second '@'.
  ExpectRefused("ann\uff20b@example.com", "email: must contain exactly one '@'");
  // U+FDFA folds to four Arabic words with spaces between them.
  ExpectRefused("\ufdfa@example.com", "email: must not contain spaces");
  // U+FF0E full-width '.' folds to a dot that leaves an empty label.
  ExpectRefused("ann@example\uff0e.com", "email: the domain must not have an empty label");
}

TEST(NormalizeEmailTest, RefusesAKeyLongerThan254Bytes) {
  // "ǆ" (U+01C6, 2 bytes) folds to "dž" (3 bytes) and is no look-alike, so
  // an address that fits as entered gets a key over the limit.
  const std::string domain = "@example.com";
  std::string local;
  while (local.size() + 2 + domain.size() <= 254) local += "\u01c6";
  const std::string email = local + domain;
  ASSERT_LE(email.size(), 254u);
  ASSERT_GT(EmailKey(email).size(), 254u);
  ExpectRefused(email, "email: must be at most 254 characters");
}

TEST(NormalizeEmailTest, RefusesUnassignedAndPrivateUseCharacters) {
  ExpectRefused("ann\u0378@example.com", kUnassigned);      // unassigned
  ExpectRefused("ann\ufdd0@example.com", kUnassigned);      // noncharacter
  ExpectRefused("ann\ue000@example.com", kUnassigned);      // private use
}

// --- what must keep working ---

TEST(NormalizeEmailTest, AcceptsInternationalAddresses) {
  for (const char* email : {"jürgen@example.de", "josé@example.es", "иван@пример.рф",
                            "山田@example.jp", "やまだ.たろう@example.jp", "yamada山田@example.jp",
                            "łukasz@example.pl", "søren@example.dk", "θεός@example.gr",
                            "محمد@example.eg", "अनु@example.in", "ann@bücher.example"}) {
    EXPECT_EQ(Normalized(email), email);
  }
  // The decomposed spelling (u + U+0308) is accepted and keyed like the
  // composed one.
  EXPECT_EQ(KeyOf("ju\u0308rgen@example.de"), KeyOf("jürgen@example.de"));
}

TEST(EmailKeyTest, FoldsCaseAndCompatibilityForms) {
  EXPECT_EQ(EmailKey("Ann@Example.COM"), "ann@example.com");
  EXPECT_EQ(EmailKey("Ann@Example.COM"), EmailKey("ann@example.com"));
  EXPECT_EQ(EmailKey("JÜRGEN@example.de"), "jürgen@example.de");
  EXPECT_EQ(EmailKey("JÜRGEN@example.de"), EmailKey("jürgen@example.de"));
  EXPECT_EQ(EmailKey("STRASSE@x.de"), "strasse@x.de");
  EXPECT_EQ(EmailKey("straße@x.de"), EmailKey("STRASSE@x.de"));
  EXPECT_EQ(EmailKey("ИВАН@ПРИМЕР.РФ"), "иван@пример.рф");
  EXPECT_EQ(EmailKey("\ufb01le@example.com"), "file@example.com");  // ligature fi
}

TEST(EmailKeyTest, IsIdempotentAndKeepsWhatHasNoFolding) {
  for (const char* email :
       {"Ann@Example.COM", "JÜRGEN@example.de", "straße@x.de", "山田@example.jp",
        "\uff41dmin@example.com"}) {
    EXPECT_EQ(EmailKey(EmailKey(email)), EmailKey(email)) << email;
  }
  EXPECT_EQ(EmailKey("山田@example.jp"), "山田@example.jp");
  EXPECT_EQ(EmailKey("ann.lee+x_1@example.com"), "ann.lee+x_1@example.com");
}

// The review's attack strings, as a registration would meet them: none may
// get an account of its own beside admin@example.com.
TEST(EmailKeyTest, NoAttackStringGetsANewKeyBesideAdmin) {
  const std::string admin_key = KeyOf("admin@example.com");
  for (const char* attack :
       {"adm\u0131n@example.com", "\uff41dmin@example.com", "\u0430dmin@example.com",
        "admin@example.com\u200b", "\u202eadmin@example.com"}) {
    const absl::StatusOr<std::string> normalized = NormalizeEmail(attack);
    if (normalized.ok()) {
      EXPECT_EQ(EmailKey(*normalized), admin_key) << attack;
    } else {
      EXPECT_EQ(normalized.status().code(), absl::StatusCode::kInvalidArgument) << attack;
    }
  }
}

}  // namespace
}  // namespace tollgate::auth
