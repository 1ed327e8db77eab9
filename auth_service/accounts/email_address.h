#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tollgate::auth {

// Email addresses of accounts (SPEC section 5): what may be registered, and
// the key that decides whether two addresses are one account. Whitespace,
// characters and control characters are as defined in unicode_text.h.

inline constexpr size_t kMaxEmailBytes = 254;  // RFC 5321's path limit, in octets

// Trims whitespace and checks the address. Every refusal is INVALID_ARGUMENT
// with a message "email: <why>" that never repeats the address. In order:
// 1. not empty ("email: must not be empty");
// 2. at most 254 bytes, checked before any other work so an oversized input
//    costs nothing more ("email: must be at most 254 characters");
// 3. valid UTF-8 ("email: must be valid UTF-8");
// 4. no control characters ("email: must not contain control characters");
// 5. no invisible or bidirectional-control characters, see
//    HasInvisibleCharacters: zero-width spaces, U+202E and the like would
//    make a second account that looks exactly like an existing one
//    ("email: must not contain invisible or direction-control characters");
// 6. no unassigned or private-use code points, which would make the key
//    depend on the Unicode version
//    ("email: must not contain unassigned or private-use characters");
// 7. no ASCII space ("email: must not contain spaces"), exactly one '@'
//    ("email: must contain an '@'", "email: must contain exactly one '@'"),
//    a non-empty part before it ("email: the part before '@' must not be
//    empty"), and a domain after it ("email: the domain after '@' must not
//    be empty") that has a dot ("email: the domain must contain a dot, as in
//    example.com") and no empty label ("email: the domain must not have an
//    empty label"): "a@b.c", not "a@bc", "a@.bc" or "a@b..c";
// 8. rules 2-7 again on EmailKey of the address: compatibility characters
//    can fold into structure ("a＠b@x.com" has two '@' once U+FF20 folds,
//    U+FDFA folds to words with spaces, "İ" grows by a byte), and the key
//    must obey the same shape and limit as what was entered;
// 9. each part of the key (the part before '@', and each domain label
//    separately) must not mix scripts, see MixesScripts: Latin with Cyrillic
//    or Greek, or two kinds of digits ("email: must not mix scripts");
// 10. no part of the key may pass for ASCII it is not, see ImitatesAscii:
//    a wholly look-alike part (Cyrillic "рау" for "pay"), a Latin or common
//    character that alone looks like an ASCII one (dotless "ı" U+0131 for
//    "i", U+2010 for "-"), or "i"/"j" with a combining dot above
//    ("email: must not use look-alikes of ASCII characters"). This refuses,
//    for example, Turkish addresses spelled with "ı", which would otherwise
//    sit beside the ASCII address they resemble.
// So "admin@example.com" with U+200B after it or U+202E before it, with a
// Cyrillic "а" (U+0430) or with a dotless "ı" is refused, while full-width
// "ａdmin@example.com" is accepted with the same key as "admin@example.com".
// Ordinary international addresses pass: "jürgen@example.de",
// "josé@example.es", "иван@пример.рф", "山田@example.jp".
//
// Returns the trimmed address exactly as entered, case and compatibility
// forms kept (it is what mail is sent to); compare and look up addresses
// only by EmailKey. Thread-safe.
[[nodiscard]] absl::StatusOr<std::string> NormalizeEmail(std::string_view email);

// The lookup key of a NormalizeEmail result: its NFKC_Casefold form (see
// NfkcCasefold in unicode_text.h), so "Ann@Example.COM" and
// "ann@example.com", "JÜRGEN@example.de" and "jürgen@example.de",
// "STRASSE@x.de" and "straße@x.de", and full-width "ａdmin@example.com" and
// "admin@example.com" are one account. Deterministic, and idempotent
// (EmailKey(EmailKey(e)) == EmailKey(e)). NormalizeEmail refuses unassigned
// code points, so every accepted address holds only characters whose
// normalization and case folding Unicode's stability policies keep fixed:
// its key should not change with an ICU upgrade (the script and confusable
// data behind rules 9 and 10 may, which changes only what is accepted next).
// Stored keys made by the older ASCII-lower-casing rule must be remade with
// EmailKey of the stored address. Thread-safe.
std::string EmailKey(std::string_view normalized_email);

}  // namespace tollgate::auth
