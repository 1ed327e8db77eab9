#include "auth_service/accounts/person_name.h"

#include <gtest/gtest.h>

#include <string>

namespace tollgate::auth {
namespace {

// Asserts INVALID_ARGUMENT with exactly `message`.
void ExpectInvalid(const absl::Status& status, const std::string& message) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(), message);
}

std::string Repeat(std::string_view unit, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += unit;
  return out;
}

TEST(CheckNameTest, AcceptsOrdinaryNames) {
  for (const char* name :
       {"Ann", "Ann Lee", "  O'Brien-Núñez  ", "山田", "山田 太郎", "Иван Петров", "Işık",
        "Yıldız", "Ζωή", "محمد", "José María", "Ivan Петров", "ジョン・スミス"}) {
    EXPECT_TRUE(CheckName("first_name", name).ok()) << name;
  }
}

TEST(CheckNameTest, RefusesEmptyAfterTrim) {
  ExpectInvalid(CheckName("first_name", ""), "first_name: must not be empty");
  ExpectInvalid(CheckName("last_name", " \t\n"), "last_name: must not be empty");
}

TEST(CheckNameTest, Accepts100CharactersAndRefuses101) {
  EXPECT_TRUE(CheckName("first_name", Repeat("é", 100)).ok());
  ExpectInvalid(CheckName("first_name", Repeat("é", 101)),
                "first_name: must be at most 100 characters");
  EXPECT_TRUE(CheckName("first_name", "  " + std::string(100, 'a') + "  ").ok());
}

TEST(CheckNameTest, RefusesControlCharactersAndInvalidUtf8) {
  ExpectInvalid(CheckName("first_name", "Ann\tLee"),
                "first_name: must not contain control characters");
  ExpectInvalid(CheckName("first_name", std::string("Ann\0", 4) + "x"),
                "first_name: must not contain control characters");
  ExpectInvalid(CheckName("first_name", "Ann\xe2\x82"), "first_name: must be valid UTF-8");
}

TEST(CheckNameTest, RefusesInvisibleAndDirectionControlCharacters) {
  const std::string message = "first_name: must not contain invisible or direction-control characters";
  ExpectInvalid(CheckName("first_name", "Ann\u200b"), message);
  ExpectInvalid(CheckName("first_name", "\u202eAnn"), message);
  ExpectInvalid(CheckName("first_name", "An\u00adn"), message);  // soft hyphen
  ExpectInvalid(CheckName("first_name", "Ann\u2066Lee"), message);
  ExpectInvalid(CheckName("first_name", "Ann\ufeff"), message);
  ExpectInvalid(CheckName("last_name", "Le\u0301\u0301e"),
                "last_name: must not contain invisible or direction-control characters");
}

TEST(CheckNameTest, RefusesAWordThatMixesScripts) {
  ExpectInvalid(CheckName("first_name", "\u0410nn"), "first_name: must not mix scripts");
  ExpectInvalid(CheckName("last_name", "Ann L\u0435e"), "last_name: must not mix scripts");
  ExpectInvalid(CheckName("last_name", "\u03bfmega"), "last_name: must not mix scripts");
}

}  // namespace
}  // namespace tollgate::auth
