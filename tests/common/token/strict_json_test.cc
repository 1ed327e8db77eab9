#include "common/token/strict_json.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

TEST(StrictJsonTest, ParsesAnObject) {
  auto parsed = ParseStrictJsonObject(R"({"a":1,"b":{"c":[1,{"d":2}]}})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value()["b"]["c"][1]["d"], 2);
}

TEST(StrictJsonTest, RejectsDuplicateTopLevelMember) {
  auto parsed = ParseStrictJsonObject(R"({"sub":"a","sub":"b"})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error(), TokenError::kDuplicateMember);
}

TEST(StrictJsonTest, RejectsDuplicateMemberInsideArrayObject) {
  auto parsed = ParseStrictJsonObject(R"({"x":[{"k":1,"k":1}]})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error(), TokenError::kDuplicateMember);
}

TEST(StrictJsonTest, AllowsTheSameNameInSiblingObjects) {
  EXPECT_TRUE(ParseStrictJsonObject(R"({"a":{"k":1},"b":{"k":2},"k":3})").ok());
}

TEST(StrictJsonTest, RejectsEscapedDuplicate) {
  // "\u0073ub" is "sub": the duplicate check must see decoded names.
  auto parsed = ParseStrictJsonObject(R"({"sub":"a","\u0073ub":"b"})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error(), TokenError::kDuplicateMember);
}

TEST(StrictJsonTest, RejectsNonObjectsAndGarbage) {
  for (const char* text : {"[]", "1", "\"s\"", "null", "", "{", "{\"a\":}", "{} {}",
                           "{\"a\":1,}", "{'a':1}", "{\"a\":1} // c"}) {
    SCOPED_TRACE(text);
    auto parsed = ParseStrictJsonObject(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error(), TokenError::kMalformed);
  }
}

TEST(StrictJsonTest, RejectsInvalidUtf8) {
  auto parsed = ParseStrictJsonObject("{\"a\":\"\xc3\x28\"}");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error(), TokenError::kMalformed);
}

}  // namespace
}  // namespace tollgate
