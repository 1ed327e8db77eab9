#include "client/cli/int_arguments.h"

#include <gtest/gtest.h>

#include <limits>

namespace tollgate::cli {
namespace {

TEST(ParseInt64Test, AcceptsDecimalIntegersUpToTheLimits) {
  EXPECT_EQ(ParseInt64("0").value(), 0);
  EXPECT_EQ(ParseInt64("42").value(), 42);
  EXPECT_EQ(ParseInt64("-42").value(), -42);
  EXPECT_EQ(ParseInt64("007").value(), 7);
  EXPECT_EQ(ParseInt64("9223372036854775807").value(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseInt64("-9223372036854775808").value(), std::numeric_limits<int64_t>::min());
}

TEST(ParseInt64Test, RejectsAnythingButDigitsWithExactMessages) {
  for (const char* text : {"", "-", "+1", " 1", "1 ", "12x", "0x10", "1e3", "1.0", "1_000", "--1"}) {
    absl::StatusOr<int64_t> parsed = ParseInt64(text);
    ASSERT_FALSE(parsed.ok()) << "'" << text << "'";
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(parsed.status().message(), std::string("'") + text + "' is not an integer");
  }
}

TEST(ParseInt64Test, RejectsOverflowInsteadOfWrappingAround) {
  absl::StatusOr<int64_t> parsed = ParseInt64("9223372036854775808");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(parsed.status().message(), "'9223372036854775808' is out of the int64 range");
  parsed = ParseInt64("-9223372036854775809");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kOutOfRange);
  // Overflowing digits followed by garbage are garbage first.
  parsed = ParseInt64("99999999999999999999x");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseInt32Test, HasInt32Limits) {
  EXPECT_EQ(ParseInt32("2147483647").value(), 2147483647);
  EXPECT_EQ(ParseInt32("-2147483648").value(), -2147483647 - 1);
  absl::StatusOr<int32_t> parsed = ParseInt32("2147483648");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(parsed.status().message(), "'2147483648' is out of the int32 range");
}

}  // namespace
}  // namespace tollgate::cli
