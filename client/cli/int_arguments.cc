#include "client/cli/int_arguments.h"

#include <charconv>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace tollgate::cli {
namespace {

template <typename Int>
absl::StatusOr<Int> ParseInteger(absl::string_view text, absl::string_view type_name) {
  Int value = 0;
  // std::from_chars accepts neither leading spaces nor '+', and reports
  // where it stopped, so "12x" and "" are caught by the end check.
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (error == std::errc::result_out_of_range && end == text.data() + text.size()) {
    return absl::OutOfRangeError(absl::StrCat("'", text, "' is out of the ", type_name, " range"));
  }
  if (error != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an integer"));
  }
  return value;
}

}  // namespace

absl::StatusOr<int64_t> ParseInt64(absl::string_view text) {
  return ParseInteger<int64_t>(text, "int64");
}

absl::StatusOr<int32_t> ParseInt32(absl::string_view text) {
  return ParseInteger<int32_t>(text, "int32");
}

}  // namespace tollgate::cli
