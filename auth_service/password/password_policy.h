#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tollgate::auth {

// Input rules for accounts (SPEC section 5). Every refusal is
// INVALID_ARGUMENT with a message "<field>: <why>" that never repeats the
// value. "Characters" are Unicode code points of valid UTF-8 (RFC 3629: no
// overlong forms, surrogates or values above U+10FFFF); "whitespace" is ASCII
// space, \t, \n, \v, \f and \r; "control characters" are U+0000-U+001F,
// U+007F and U+0080-U+009F.

inline constexpr size_t kMinPasswordCharacters = 8;
inline constexpr size_t kMaxPasswordBytes = 1024;
inline constexpr size_t kMaxEmailBytes = 254;  // RFC 5321's path limit, in octets
inline constexpr size_t kMaxNameCharacters = 100;

// Checks a new password, in this order: at most 1024 bytes (checked first,
// so an oversized input costs nothing more), valid UTF-8, at least 8
// characters, not the email (both trimmed, compared ignoring ASCII case), not
// in the bundled list of common passwords (ignoring ASCII case). The password
// itself is not trimmed: spaces are allowed and count. `email` may be raw or
// normalized.
[[nodiscard]] absl::Status CheckPassword(std::string_view password, std::string_view email);

// True when `password`, ignoring ASCII case, is in common_passwords.txt.
bool IsCommonPassword(std::string_view password);

// Trims whitespace and checks the address: not empty, at most 254 bytes
// (for an ASCII address: characters), valid UTF-8, no control characters, no
// whitespace inside, exactly one '@', a non-empty part before it, and a
// domain after it that has a dot and no empty label ("a@b.c", not "a@bc",
// "a@.bc" or "a@b..c"). Returns the trimmed address with its case kept (it
// is what mail is sent to); compare and look up addresses by EmailKey.
[[nodiscard]] absl::StatusOr<std::string> NormalizeEmail(std::string_view email);

// The lookup key of a NormalizeEmail result: ASCII letters lower-cased, so
// "Ann@Example.com" and "ann@example.COM" are one account. Non-ASCII letters
// are kept as they are (no Unicode case folding).
std::string EmailKey(std::string_view normalized_email);

// Checks a display name such as first or last name; `field` names it in the
// message ("first_name: must not be empty"). After trimming whitespace: not
// empty, valid UTF-8, no control characters, at most 100 characters.
// Callers store TrimWhitespace(value).
[[nodiscard]] absl::Status CheckName(std::string_view field, std::string_view value);

// `text` without leading and trailing whitespace (as defined above).
std::string_view TrimWhitespace(std::string_view text);

}  // namespace tollgate::auth
