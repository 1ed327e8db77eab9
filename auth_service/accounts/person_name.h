#pragma once

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace tollgate::auth {

// Names of people on accounts (SPEC section 5). Whitespace, characters and
// control characters are as defined in unicode_text.h.

inline constexpr size_t kMaxNameCharacters = 100;

// Checks a display name such as a first or last name; `field` names it in
// the message. Every refusal is INVALID_ARGUMENT with a message
// "<field>: <why>" that never repeats the value. After trimming whitespace,
// in order:
// 1. not empty ("first_name: must not be empty");
// 2. valid UTF-8 ("first_name: must be valid UTF-8");
// 3. no control characters ("first_name: must not contain control
//    characters");
// 4. at most 100 characters ("first_name: must be at most 100 characters");
// 5. no invisible or bidirectional-control characters, see
//    HasInvisibleCharacters: a name is shown to other people, and U+202E
//    would turn the text after it around ("first_name: must not contain
//    invisible or direction-control characters"). This also refuses the
//    zero-width joiners that some Persian and Indic spellings use;
// 6. no word (a run between whitespace) that mixes scripts, see
//    MixesScripts ("first_name: must not mix scripts"): "Ann Lee",
//    "O'Brien-Núñez", "Işık", "山田" and "Иван Петров" pass, "Аnn" with a
//    Cyrillic "А" (U+0410) does not. Words of different scripts may stand
//    side by side ("Ivan Петров").
// Unlike emails, names have no key and are not refused for look-alikes of
// ASCII (Turkish "ı" is an ordinary letter in a name). Callers store
// TrimWhitespace(value). Thread-safe.
[[nodiscard]] absl::Status CheckName(std::string_view field, std::string_view value);

}  // namespace tollgate::auth
