#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tollgate::cli {

// Strict decimal integers for command-line arguments: an optional '-' and
// digits, nothing else (no '+', no spaces, no hex, no trailing garbage).
// INVALID_ARGUMENT "'12x' is not an integer" for anything else,
// OUT_OF_RANGE "'9223372036854775808' is out of the int64 range" when the
// digits do not fit. Silent wrap-around or a partial parse would send a
// different number than the user typed.
[[nodiscard]] absl::StatusOr<int64_t> ParseInt64(absl::string_view text);
// The same for int32 ("... out of the int32 range").
[[nodiscard]] absl::StatusOr<int32_t> ParseInt32(absl::string_view text);

}  // namespace tollgate::cli
