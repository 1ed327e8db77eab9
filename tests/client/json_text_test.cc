#include "client/cli/json_text.h"

#include <gtest/gtest.h>

#include "tollgate/auth/v1/auth.pb.h"
#include "tollgate/sum/v1/sum.pb.h"

namespace tollgate::cli {
namespace {

TEST(MessageToJsonLineTest, ProtoFieldNamesDefaultsIncludedOneLine) {
  sum::v1::SumResponse zero;
  EXPECT_EQ(MessageToJsonLine(zero).value(), R"({"result":"0"})");
  auth::v1::GetJwksResponse jwks;
  jwks.set_jwks_json(R"({"keys":[]})");
  EXPECT_EQ(MessageToJsonLine(jwks).value(), R"({"jwks_json":"{\"keys\":[]}"})");
}

TEST(MessageToJsonLineTest, PrintableAsciiIsNotHtmlEscaped) {
  auth::v1::AuthResponse response;
  response.set_access_token("<saved to /home/ada/.config/tollgate/tokens.json>");
  const std::string json = MessageToJsonLine(response).value();
  EXPECT_NE(json.find(R"("access_token":"<saved to /home/ada/.config/tollgate/tokens.json>")"),
            std::string::npos)
      << json;
}

TEST(MessageToJsonLineTest, EscapesThatMustStayStay) {
  auth::v1::User user;
  // A backslash followed by the text "u003c", a quote, a control character
  // and a non-ASCII letter.
  user.set_first_name("a\\u003c\"\x01\xc3\xa9<&'=");
  const std::string json = MessageToJsonLine(user).value();
  EXPECT_NE(json.find(R"("first_name":"a\\u003c\"\u0001)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(<&'=")"), std::string::npos) << json;
}

TEST(UnescapePrintableAsciiTest, ConsumesEscapesPairwise) {
  EXPECT_EQ(UnescapePrintableAscii(R"("\u003c\u003E")"), R"("<>")");
  EXPECT_EQ(UnescapePrintableAscii(R"("\\u003c")"), R"("\\u003c")");
  EXPECT_EQ(UnescapePrintableAscii(R"("\\\u003c")"), R"("\\<")");
  EXPECT_EQ(UnescapePrintableAscii(R"("\u0022\u005c\u001f\u007f\u00e9")"),
            R"("\u0022\u005c\u001f\u007f\u00e9")");
}

}  // namespace
}  // namespace tollgate::cli
