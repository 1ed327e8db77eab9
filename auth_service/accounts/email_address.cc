#include "auth_service/accounts/email_address.h"

#include <optional>

#include "absl/status/status.h"
#include "auth_service/accounts/field_error.h"
#include "auth_service/accounts/unicode_text.h"

namespace tollgate::auth {
namespace {

constexpr std::string_view kField = "email";

absl::Status Invalid(std::string_view why) { return InvalidFieldError(kField, why); }

// Rules 2-7 of NormalizeEmail on a trimmed, non-empty address.
absl::Status CheckCharactersAndShape(std::string_view address) {
  if (address.size() > kMaxEmailBytes) return Invalid("must be at most 254 characters");
  const std::optional<Utf8Scan> scan = ScanUtf8(address);
  if (!scan) return Invalid("must be valid UTF-8");
  // A CR or LF would split a mail header when the address is written into an
  // outgoing message (header injection).
  if (scan->has_control) return Invalid("must not contain control characters");
  // A zero-width space or a right-to-left override gives a second account
  // that is shown exactly like an existing one.
  if (HasInvisibleCharacters(address)) {
    return Invalid("must not contain invisible or direction-control characters");
  }
  if (HasUnassignedCharacters(address)) {
    return Invalid("must not contain unassigned or private-use characters");
  }
  if (address.find(' ') != std::string_view::npos) return Invalid("must not contain spaces");
  const size_t at = address.find('@');
  if (at == std::string_view::npos) return Invalid("must contain an '@'");
  if (address.find('@', at + 1) != std::string_view::npos) {
    return Invalid("must contain exactly one '@'");
  }
  if (at == 0) return Invalid("the part before '@' must not be empty");
  const std::string_view domain = address.substr(at + 1);
  if (domain.empty()) return Invalid("the domain after '@' must not be empty");
  if (domain.find('.') == std::string_view::npos) {
    return Invalid("the domain must contain a dot, as in example.com");
  }
  if (domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return Invalid("the domain must not have an empty label");
  }
  return absl::OkStatus();
}

// Rules 9 and 10 on one part of a key: the local part or one domain label.
absl::Status CheckLookAlikes(std::string_view part) {
  // "аdmin" with a Cyrillic "а" would be a second, look-alike account.
  if (MixesScripts(part)) return Invalid("must not mix scripts");
  // "admın" with a dotless i is single-script Latin, yet looks like "admin".
  if (ImitatesAscii(part)) return Invalid("must not use look-alikes of ASCII characters");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(std::string_view email) {
  const std::string_view trimmed = TrimWhitespace(email);
  if (trimmed.empty()) return Invalid("must not be empty");
  if (absl::Status status = CheckCharactersAndShape(trimmed); !status.ok()) return status;
  const std::string key = EmailKey(trimmed);
  if (absl::Status status = CheckCharactersAndShape(key); !status.ok()) return status;

  // The key has exactly one '@' and non-empty labels (checked just above).
  const size_t at = key.find('@');
  if (absl::Status status = CheckLookAlikes(std::string_view(key).substr(0, at)); !status.ok()) {
    return status;
  }
  std::string_view domain = std::string_view(key).substr(at + 1);
  while (!domain.empty()) {
    const size_t dot = domain.find('.');
    if (absl::Status status = CheckLookAlikes(domain.substr(0, dot)); !status.ok()) {
      return status;
    }
    domain.remove_prefix(dot == std::string_view::npos ? domain.size() : dot + 1);
  }
  return std::string(trimmed);
}

std::string EmailKey(std::string_view normalized_email) { return NfkcCasefold(normalized_email); }

}  // namespace tollgate::auth
