// The test-side Prometheus text parser: what the metrics tests rely on
// (exact values by name and label set, escapes, TYPE), and that it refuses
// what a Prometheus server would refuse, so a broken exposition fails a
// test instead of reading as "metric missing".
#include "tests/support/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace tollgate::testing {
namespace {

constexpr char kExposition[] =
    "# HELP tollgate_auth_denied_total Calls the access policy refused, by reason.\n"
    "# TYPE tollgate_auth_denied_total counter\n"
    "tollgate_auth_denied_total{reason=\"missing_role\"} 2\n"
    "tollgate_auth_denied_total{reason=\"expired\"} 0\n"
    "# TYPE tollgate_jwks_age_seconds gauge\n"
    "tollgate_jwks_age_seconds -1\n"
    "# TYPE grpc_server_handling_seconds histogram\n"
    "grpc_server_handling_seconds_bucket{grpc_method=\"Sum\",le=\"0.005\"} 3\n"
    "grpc_server_handling_seconds_bucket{grpc_method=\"Sum\",le=\"+Inf\"} 4\n"
    "grpc_server_handling_seconds_sum{grpc_method=\"Sum\"} 0.0125\n"
    "grpc_server_handling_seconds_count{grpc_method=\"Sum\"} 4\n"
    "odd{text=\"a \\\"quoted\\\" \\\\ {x=\\\"1\\\"}, b\\nc\"} 1e+30 1700000000000\n"
    "\n"
    "# a comment\n"
    "process_start_time_seconds 1700000000\n";

TEST(PrometheusTextTest, ReadsValuesByNameAndExactLabels) {
  auto text = PrometheusText::Parse(kExposition);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->Value("tollgate_auth_denied_total", {{"reason", "missing_role"}}), 2);
  EXPECT_EQ(text->Value("tollgate_auth_denied_total", {{"reason", "expired"}}), 0);
  EXPECT_EQ(text->Value("tollgate_auth_denied_total", {{"reason", "bad_signature"}}), std::nullopt);
  EXPECT_EQ(text->Value("tollgate_auth_denied_total"), std::nullopt);  // labels must match exactly
  EXPECT_EQ(text->Value("tollgate_jwks_age_seconds"), -1);
  EXPECT_EQ(text->Value("process_start_time_seconds"), 1700000000);
  EXPECT_EQ(text->Value("grpc_server_handling_seconds_bucket",
                        {{"grpc_method", "Sum"}, {"le", "+Inf"}}),
            4);
  EXPECT_EQ(text->Value("odd", {{"text", "a \"quoted\" \\ {x=\"1\"}, b\nc"}}), 1e30);
  EXPECT_EQ(text->Type("tollgate_auth_denied_total"), "counter");
  EXPECT_EQ(text->Type("tollgate_jwks_age_seconds"), "gauge");
  EXPECT_EQ(text->Type("grpc_server_handling_seconds"), "histogram");
  EXPECT_EQ(text->Type("process_start_time_seconds"), "");
  EXPECT_EQ(text->Samples("tollgate_auth_denied_total").size(), 2u);
  EXPECT_EQ(text->samples().size(), 9u);
}

TEST(PrometheusTextTest, ReadsSpecialValues) {
  auto text = PrometheusText::Parse("a +Inf\nb -Inf\nc NaN\n");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->Value("a"), INFINITY);
  EXPECT_EQ(text->Value("b"), -INFINITY);
  EXPECT_TRUE(std::isnan(*text->Value("c")));
}

TEST(PrometheusTextTest, RefusesMalformedLinesNamingThem) {
  for (const char* bad : {
           "no_value\n",
           "two  spaces 1\n",
           "bad-name 1\n",
           "9starts_with_digit 1\n",
           "x{l=\"unterminated} 1\n",
           "x{l=unquoted} 1\n",
           "x{9l=\"v\"} 1\n",
           "x{l=\"v\",l=\"w\"} 1\n",
           "x{l=\"bad escape \\t\"} 1\n",
           "x{l=\"v\"}1\n",
           "x inf\n",
           "x 1 2 3\n",
           "x 1 not_a_timestamp\n",
           "x 1\nx 2\n",
           "# TYPE x nonsense\n",
           "# TYPE x counter\n# TYPE x gauge\n",
           "x 1\n# TYPE x counter\n",
       }) {
    auto text = PrometheusText::Parse(bad);
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(text.status().message().find("line "), std::string::npos) << text.status();
  }
}

TEST(PrometheusTextTest, SameNameWithOtherLabelsIsNotARepeat) {
  auto text = PrometheusText::Parse("x{l=\"a\"} 1\nx{l=\"b\"} 2\nx 3\n");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->Value("x", {{"l", "b"}}), 2);
  EXPECT_EQ(text->Value("x"), 3);
}

}  // namespace
}  // namespace tollgate::testing
