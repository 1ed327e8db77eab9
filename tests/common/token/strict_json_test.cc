#include "common/token/strict_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// The reference: what nlohmann::json::parse makes of `text`, or nullopt.
// Except that nlohmann takes a NUL byte for the end of the input (see
// RefusesNulAfterTheObject): JSON has no NUL byte anywhere.
std::optional<nlohmann::json> Reference(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                               /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

// ParseStrictJsonObject accepts exactly the objects nlohmann accepts, with
// the same value (also the same number types), and refuses everything else
// as kMalformed. FlatJsonObject agrees with both. (The fuzzer checks the
// same on every input; these are the cases worth keeping as regressions.)
void ExpectLikeNlohmann(std::string_view text) {
  SCOPED_TRACE(::testing::Message() << "text: " << std::string(text));
  const auto parsed = ParseStrictJsonObject(text);
  const auto flat = FlatJsonObject::Parse(text);
  const auto reference = Reference(text);
  if (!reference || !reference->is_object()) {
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error(), TokenError::kMalformed);
    ASSERT_FALSE(flat.ok());
    EXPECT_EQ(flat.error(), TokenError::kMalformed);
    return;
  }
  ASSERT_TRUE(parsed.ok()) << ToString(parsed.error());
  ASSERT_TRUE(flat.ok()) << ToString(flat.error());
  EXPECT_EQ(parsed.value(), *reference);
  EXPECT_EQ(parsed.value().dump(), reference->dump());  // also the number types
  ASSERT_EQ(flat.value().members().size(), reference->size());
}

TEST(StrictJsonTest, NumbersAreTypedAsNlohmannTypesThem) {
  for (const char* text : {
           R"({"n":0})", R"({"n":-0})", R"({"n":1700000000})", R"({"n":-1})",
           R"({"n":18446744073709551615})", R"({"n":18446744073709551616})",
           R"({"n":9223372036854775807})", R"({"n":-9223372036854775808})",
           R"({"n":-9223372036854775809})", R"({"n":1.5})", R"({"n":-0.0})", R"({"n":1e3})",
           R"({"n":1E+3})", R"({"n":1e-3})", R"({"n":1.7e9})", R"({"n":1e-400})",
           R"({"n":123456789012345678901234567890})"}) {
    ExpectLikeNlohmann(text);
  }
  const auto parsed = ParseStrictJsonObject(R"({"u":1,"i":-1,"z":-0,"f":1.0,"b":18446744073709551616})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed.value()["u"].is_number_unsigned());
  EXPECT_TRUE(parsed.value()["i"].is_number_integer() && !parsed.value()["i"].is_number_unsigned());
  EXPECT_TRUE(parsed.value()["z"].is_number_integer() && !parsed.value()["z"].is_number_unsigned());
  EXPECT_TRUE(parsed.value()["f"].is_number_float());
  EXPECT_TRUE(parsed.value()["b"].is_number_float());
}

TEST(StrictJsonTest, AcceptsAndRefusesWhatNlohmannDoes) {
  for (const char* text : {
           R"({"n":01})", R"({"n":-})", R"({"n":1.})", R"({"n":.5})", R"({"n":1e})",
           R"({"n":1e+})", R"({"n":+1})", R"({"n":1e400})", R"({"n":-1e400})", R"({"n":0x10})",
           R"({"n":NaN})", R"({"n":Infinity})", R"({"t":tru})", R"({"t":truex})", R"({"t":True})",
           R"({"a":[1,]})", R"({"a":[,1]})", R"({"a" 1})", R"({"a":1 "b":2})", R"({a:1})",
           "{\"a\":1}\n\t\r ", " \n{ \"a\" : [ 1 , 2 ] } ", "{\"a\":\"\t\"}",
           "{\"a\":\"\x7f\"}", "{\"a\":\"\x1f\"}", R"({"a":"\x"})", R"({"a":"\u12"})",
           R"({"a":"\u12G4"})", R"({"a":"\'"})", R"({"a":"\/\b\f\n\r\t\"\\"})",
           R"({"a":"\u0000"})", R"({"a":"\u00e9\u20AC"})", R"({"a":"\ud83d\ude00"})",
           R"({"a":"\ud83d"})", R"({"a":"\ud83dx"})", R"({"a":"\ud83d\u0041"})",
           R"({"a":"\ude00"})", R"({"a":"\ud83d\ud83d"})", R"({"a":"unterminated})", "{",
           "{\"a\":{\"b\":[{}]}}", "{\"a\":[[[]]]}", "{}", "\xef\xbb\xbf{}", "\xef\xbb{}",
           "\xef{}", " \xef\xbb\xbf{}", "{\"\xef\xbb\xbf\":1}"}) {
    ExpectLikeNlohmann(text);
  }
}

TEST(StrictJsonTest, Utf8IsCheckedAsNlohmannChecksIt) {
  for (const char* text : {
           "{\"a\":\"\xc3\xa9\"}",          // U+00E9
           "{\"a\":\"\xc2\x80\"}",          // lowest two-byte
           "{\"a\":\"\xc1\xbf\"}",          // overlong two-byte
           "{\"a\":\"\xe0\x80\xaf\"}",      // overlong three-byte
           "{\"a\":\"\xe0\xa0\x80\"}",      // lowest three-byte
           "{\"a\":\"\xed\x9f\xbf\"}",      // U+D7FF
           "{\"a\":\"\xed\xa0\x80\"}",      // U+D800 in UTF-8: a surrogate
           "{\"a\":\"\xef\xbf\xbf\"}",      // U+FFFF
           "{\"a\":\"\xf0\x8f\xbf\xbf\"}",  // overlong four-byte
           "{\"a\":\"\xf0\x9f\x98\x80\"}",  // U+1F600
           "{\"a\":\"\xf4\x8f\xbf\xbf\"}",  // U+10FFFF
           "{\"a\":\"\xf4\x90\x80\x80\"}",  // above U+10FFFF
           "{\"a\":\"\xf5\x80\x80\x80\"}", "{\"a\":\"\x80\"}", "{\"a\":\"\xc3\"}",
           "{\"a\":\"\xe2\x82\"}", "{\"a\":\"\xff\"}", "{\"\xc3\xa9\":1}", "{\"\xc3\":1}"}) {
    ExpectLikeNlohmann(text);
  }
}

// Found by token_fuzz (fuzz/corpus/crash-json-nul-after-object): nlohmann,
// which the token core used before, stops at a NUL byte and ignores what
// follows the value, so {"alg":"HS256",...}\0<anything> passed as a token
// header. No JSON text holds a NUL byte.
TEST(StrictJsonTest, RefusesNulAfterTheObject) {
  using namespace std::string_literals;
  for (const std::string& text : {"{}\0"s, "{\"a\":1}\0"s, "{\"a\":1} \0 {\"a\":2}"s,
                                  "{\"a\":1}\0\xff"s, "{\"a\":\"\0\"}"s, "{\0}"s}) {
    SCOPED_TRACE(::testing::PrintToString(text));
    const auto parsed = ParseStrictJsonObject(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error(), TokenError::kMalformed);
    const auto flat = FlatJsonObject::Parse(text);
    ASSERT_FALSE(flat.ok());
    EXPECT_EQ(flat.error(), TokenError::kMalformed);
  }
  // What nlohmann itself does with it, for the record.
  const std::string text = "{\"a\":1}\0garbage"s;
  EXPECT_FALSE(nlohmann::json::parse(text.begin(), text.end(), nullptr, false).is_discarded());
}

TEST(StrictJsonTest, MalformedWinsOverDuplicate) {
  auto parsed = ParseStrictJsonObject(R"({"a":1,"a":2)");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error(), TokenError::kMalformed);
}

TEST(StrictJsonTest, FindsDuplicatesInLargeObjects) {
  // Beyond 16 members the names are sorted instead of compared in pairs.
  std::string text = "{";
  for (int i = 0; i < 1000; ++i) text += "\"m" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  const std::string distinct = text + "\"last\":0}";
  const std::string duplicated = text + "\"m500\":0}";
  EXPECT_TRUE(ParseStrictJsonObject(distinct).ok());
  EXPECT_TRUE(FlatJsonObject::Parse(distinct).ok());
  auto parsed = ParseStrictJsonObject(duplicated);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error(), TokenError::kDuplicateMember);
  auto flat = FlatJsonObject::Parse(duplicated);
  ASSERT_FALSE(flat.ok());
  EXPECT_EQ(flat.error(), TokenError::kDuplicateMember);
}

TEST(StrictJsonTest, DeepNestingDoesNotExhaustTheStack) {
  // Within kMaxTokenBytes a token can nest a few thousand levels; a JWKS
  // has no such bound. The parser keeps its own stack.
  constexpr int kDepth = 100000;
  const std::string text = "{\"a\":" + std::string(kDepth, '[') + std::string(kDepth, ']') + "}";
  EXPECT_TRUE(ParseStrictJsonObject(text).ok());
  EXPECT_TRUE(FlatJsonObject::Parse(text).ok());
  const std::string unclosed = "{\"a\":" + std::string(kDepth, '[');
  EXPECT_EQ(ParseStrictJsonObject(unclosed).error(), TokenError::kMalformed);
  EXPECT_EQ(FlatJsonObject::Parse(unclosed).error(), TokenError::kMalformed);
}

TEST(FlatJsonObjectTest, ReadsTopLevelMembers) {
  const std::string text =
      R"({"s":"x\u0041y","u":7,"i":-7,"f":1.5,"t":true,"n":null,"aud":["a","b"],)"
      R"("mixed":["a",1],"o":{"s":"nested","k":[1]},"empty":[],"deep":[["a"]]})";
  const auto parsed = FlatJsonObject::Parse(text);
  ASSERT_TRUE(parsed.ok()) << ToString(parsed.error());
  const FlatJsonObject& object = parsed.value();
  using Kind = FlatJsonMember::Kind;
  ASSERT_EQ(object.members().size(), 11u);

  ASSERT_NE(object.Find("s"), nullptr);
  EXPECT_EQ(object.Find("s")->kind, Kind::kString);
  EXPECT_EQ(object.Find("s")->string, "xAy");
  EXPECT_EQ(object.Find("u")->kind, Kind::kUnsigned);
  EXPECT_EQ(object.Find("u")->unsigned_value, 7u);
  EXPECT_EQ(object.Find("i")->kind, Kind::kInteger);
  EXPECT_EQ(object.Find("i")->integer_value, -7);
  EXPECT_EQ(object.Find("f")->kind, Kind::kFloat);
  EXPECT_EQ(object.Find("f")->float_value, 1.5);
  EXPECT_EQ(object.Find("t")->kind, Kind::kBoolean);
  EXPECT_TRUE(object.Find("t")->boolean);
  EXPECT_EQ(object.Find("n")->kind, Kind::kNull);

  const FlatJsonMember* aud = object.Find("aud");
  ASSERT_NE(aud, nullptr);
  EXPECT_EQ(aud->kind, Kind::kArray);
  EXPECT_TRUE(aud->only_strings);
  const auto strings = object.Strings(*aud);
  EXPECT_EQ(std::vector<std::string_view>(strings.begin(), strings.end()),
            (std::vector<std::string_view>{"a", "b"}));
  EXPECT_FALSE(object.Find("mixed")->only_strings);
  EXPECT_TRUE(object.Strings(*object.Find("mixed")).empty());
  EXPECT_EQ(object.Find("o")->kind, Kind::kObject);
  EXPECT_EQ(object.Find("k"), nullptr);  // nested members are not top-level members
  EXPECT_TRUE(object.Find("empty")->only_strings);
  EXPECT_TRUE(object.Strings(*object.Find("empty")).empty());
  EXPECT_FALSE(object.Find("deep")->only_strings);
  EXPECT_EQ(object.Find("missing"), nullptr);
}

TEST(FlatJsonObjectTest, EscapedStringsSurviveAMove) {
  // Decoded strings live in the object; moving it must keep the views valid
  // (short strings sit inside a std::string, so they must not move).
  auto parsed = FlatJsonObject::Parse(R"({"\u0073ub":"\u0061","long":"\u0061bcdefghijklmnopqrstuvwxyz"})");
  ASSERT_TRUE(parsed.ok());
  const FlatJsonObject moved = std::move(parsed).value();
  ASSERT_NE(moved.Find("sub"), nullptr);
  EXPECT_EQ(moved.Find("sub")->string, "a");
  EXPECT_EQ(moved.Find("long")->string, "abcdefghijklmnopqrstuvwxyz");
}

TEST(FlatJsonObjectTest, RefusesDuplicatesAtAnyDepthLikeTheDom) {
  for (const char* text : {R"({"sub":"a","sub":"b"})", R"({"x":[{"k":1,"k":1}]})",
                           R"({"sub":"a","\u0073ub":"b"})", R"({"o":{"a":{"b":1,"b":2}}})"}) {
    SCOPED_TRACE(text);
    const auto flat = FlatJsonObject::Parse(text);
    ASSERT_FALSE(flat.ok());
    EXPECT_EQ(flat.error(), TokenError::kDuplicateMember);
  }
  EXPECT_TRUE(FlatJsonObject::Parse(R"({"a":{"k":1},"b":{"k":2},"k":3})").ok());
}

}  // namespace
}  // namespace tollgate
