#pragma once

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace tollgate::auth {

// Password rules (SPEC section 5). Every refusal is INVALID_ARGUMENT with a
// message "password: <why>" that never repeats the password. "Characters"
// and "whitespace" are as defined in auth_service/accounts/unicode_text.h
// (code points of valid UTF-8; ASCII whitespace). The rules for emails and
// names are in auth_service/accounts/email_address.h and person_name.h.

inline constexpr size_t kMinPasswordCharacters = 8;
inline constexpr size_t kMaxPasswordBytes = 1024;

// Checks a new password, in this order: at most 1024 bytes (checked first,
// so an oversized input costs nothing more), valid UTF-8, at least 8
// characters, not the email (both trimmed, compared ignoring ASCII case), not
// in the bundled list of common passwords (ignoring ASCII case). The password
// itself is not trimmed: spaces are allowed and count. `email` may be raw or
// normalized.
[[nodiscard]] absl::Status CheckPassword(std::string_view password, std::string_view email);

// True when `password`, ignoring ASCII case, is in common_passwords.txt.
bool IsCommonPassword(std::string_view password);

}  // namespace tollgate::auth
