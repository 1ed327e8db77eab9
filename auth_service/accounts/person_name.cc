#include "auth_service/accounts/person_name.h"

#include <optional>

#include "auth_service/accounts/field_error.h"
#include "auth_service/accounts/unicode_text.h"

namespace tollgate::auth {
namespace {

// True when some space-separated word of `text` mixes scripts. `text` holds
// no control characters, so the space is the only whitespace in it.
bool SomeWordMixesScripts(std::string_view text) {
  while (!text.empty()) {
    const size_t space = text.find(' ');
    if (MixesScripts(text.substr(0, space))) return true;
    text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
  }
  return false;
}

}  // namespace

absl::Status CheckName(std::string_view field, std::string_view value) {
  const std::string_view trimmed = TrimWhitespace(value);
  if (trimmed.empty()) return InvalidFieldError(field, "must not be empty");
  const std::optional<Utf8Scan> scan = ScanUtf8(trimmed);
  if (!scan) return InvalidFieldError(field, "must be valid UTF-8");
  if (scan->has_control) return InvalidFieldError(field, "must not contain control characters");
  if (scan->code_points > kMaxNameCharacters) {
    return InvalidFieldError(field, "must be at most 100 characters");
  }
  // U+202E in a name shown beside other text reverses what follows it, and
  // zero-width characters make two names that look the same.
  if (HasInvisibleCharacters(trimmed)) {
    return InvalidFieldError(field, "must not contain invisible or direction-control characters");
  }
  // "Аnn" with a Cyrillic "А" passes for "Ann".
  if (SomeWordMixesScripts(trimmed)) return InvalidFieldError(field, "must not mix scripts");
  return absl::OkStatus();
}

}  // namespace tollgate::auth
