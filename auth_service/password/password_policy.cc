#include "auth_service/password/password_policy.h"

#include <optional>
#include <string>
#include <unordered_set>

#include "auth_service/accounts/field_error.h"
#include "auth_service/accounts/unicode_text.h"
#include "auth_service/password/common_passwords.h"

namespace tollgate::auth {
namespace {

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

const std::unordered_set<std::string>& CommonPasswords() {
  static const auto* const passwords = [] {
    auto* set = new std::unordered_set<std::string>();
    std::string_view text = CommonPasswordsText();
    while (!text.empty()) {
      const size_t end = text.find('\n');
      std::string_view line = text.substr(0, end);
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty() || line.front() == '#') continue;
      set->insert(AsciiLower(line));
    }
    return set;
  }();
  return *passwords;
}

}  // namespace

bool IsCommonPassword(std::string_view password) {
  return CommonPasswords().contains(AsciiLower(password));
}

absl::Status CheckPassword(std::string_view password, std::string_view email) {
  if (password.size() > kMaxPasswordBytes) {
    return InvalidFieldError("password", "must be at most 1024 bytes");
  }
  const std::optional<Utf8Scan> scan = ScanUtf8(password);
  if (!scan) return InvalidFieldError("password", "must be valid UTF-8");
  if (scan->code_points < kMinPasswordCharacters) {
    return InvalidFieldError("password", "must be at least 8 characters");
  }
  const std::string_view trimmed_email = TrimWhitespace(email);
  if (!trimmed_email.empty() &&
      AsciiLower(TrimWhitespace(password)) == AsciiLower(trimmed_email)) {
    return InvalidFieldError("password", "must not be the same as the email");
  }
  if (IsCommonPassword(password)) {
    return InvalidFieldError("password", "is one of the most common passwords, choose another");
  }
  return absl::OkStatus();
}

}  // namespace tollgate::auth
