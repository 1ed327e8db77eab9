#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace tollgate::auth {

// The refusal of one input field: INVALID_ARGUMENT with the message
// "<field>: <why>", e.g. "email: must not be empty". `why` must not repeat
// the value (it may be a password, and messages reach logs and clients).
[[nodiscard]] absl::Status InvalidFieldError(std::string_view field, std::string_view why);

}  // namespace tollgate::auth
