#include "auth_service/password/password_policy.h"

#include <optional>
#include <unordered_set>

#include "auth_service/password/common_passwords.h"

namespace tollgate::auth {
namespace {

bool IsWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool IsControl(char32_t code_point) {
  return code_point < 0x20 || (code_point >= 0x7f && code_point <= 0x9f);
}

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// What ScanUtf8 learned about valid UTF-8 text.
struct Utf8Scan {
  size_t code_points = 0;
  bool has_control = false;
};

// Counts the code points of `text`, or nullopt if it is not valid UTF-8.
// Overlong forms and surrogates are refused because they would give one
// visible string several byte encodings (a second account for "the same"
// address). Allocates nothing, so any input size is cheap.
std::optional<Utf8Scan> ScanUtf8(std::string_view text) {
  Utf8Scan scan;
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    char32_t code_point = 0;
    char32_t min_value = 0;
    if (lead < 0x80) {
      length = 1;
      code_point = lead;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      code_point = lead & 0x1f;
      min_value = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      code_point = lead & 0x0f;
      min_value = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      code_point = lead & 0x07;
      min_value = 0x10000;
    } else {
      return std::nullopt;  // continuation byte, C0/C1 (overlong) or F5-FF
    }
    if (text.size() - i < length) return std::nullopt;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return std::nullopt;
      code_point = (code_point << 6) | (next & 0x3f);
    }
    if (code_point < min_value || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return std::nullopt;
    }
    ++scan.code_points;
    scan.has_control = scan.has_control || IsControl(code_point);
    i += length;
  }
  return scan;
}

absl::Status Invalid(std::string_view field, std::string_view why) {
  std::string message(field);
  message += ": ";
  message += why;
  return absl::InvalidArgumentError(message);
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

std::string_view TrimWhitespace(std::string_view text) {
  while (!text.empty() && IsWhitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsWhitespace(text.back())) text.remove_suffix(1);
  return text;
}

bool IsCommonPassword(std::string_view password) {
  return CommonPasswords().contains(AsciiLower(password));
}

absl::Status CheckPassword(std::string_view password, std::string_view email) {
  if (password.size() > kMaxPasswordBytes) {
    return Invalid("password", "must be at most 1024 bytes");
  }
  const std::optional<Utf8Scan> scan = ScanUtf8(password);
  if (!scan) return Invalid("password", "must be valid UTF-8");
  if (scan->code_points < kMinPasswordCharacters) {
    return Invalid("password", "must be at least 8 characters");
  }
  const std::string_view trimmed_email = TrimWhitespace(email);
  if (!trimmed_email.empty() &&
      AsciiLower(TrimWhitespace(password)) == AsciiLower(trimmed_email)) {
    return Invalid("password", "must not be the same as the email");
  }
  if (IsCommonPassword(password)) {
    return Invalid("password", "is one of the most common passwords, choose another");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeEmail(std::string_view email) {
  const std::string_view trimmed = TrimWhitespace(email);
  if (trimmed.empty()) return Invalid("email", "must not be empty");
  if (trimmed.size() > kMaxEmailBytes) return Invalid("email", "must be at most 254 characters");
  const std::optional<Utf8Scan> scan = ScanUtf8(trimmed);
  if (!scan) return Invalid("email", "must be valid UTF-8");
  // A CR or LF would split a mail header when the address is written into an
  // outgoing message (header injection).
  if (scan->has_control) return Invalid("email", "must not contain control characters");
  if (trimmed.find(' ') != std::string_view::npos) {
    return Invalid("email", "must not contain spaces");
  }
  const size_t at = trimmed.find('@');
  if (at == std::string_view::npos) return Invalid("email", "must contain an '@'");
  if (trimmed.find('@', at + 1) != std::string_view::npos) {
    return Invalid("email", "must contain exactly one '@'");
  }
  if (at == 0) return Invalid("email", "the part before '@' must not be empty");
  const std::string_view domain = trimmed.substr(at + 1);
  if (domain.empty()) return Invalid("email", "the domain after '@' must not be empty");
  if (domain.find('.') == std::string_view::npos) {
    return Invalid("email", "the domain must contain a dot, as in example.com");
  }
  if (domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return Invalid("email", "the domain must not have an empty label");
  }
  return std::string(trimmed);
}

std::string EmailKey(std::string_view normalized_email) { return AsciiLower(normalized_email); }

absl::Status CheckName(std::string_view field, std::string_view value) {
  const std::string_view trimmed = TrimWhitespace(value);
  if (trimmed.empty()) return Invalid(field, "must not be empty");
  const std::optional<Utf8Scan> scan = ScanUtf8(trimmed);
  if (!scan) return Invalid(field, "must be valid UTF-8");
  if (scan->has_control) return Invalid(field, "must not contain control characters");
  if (scan->code_points > kMaxNameCharacters) {
    return Invalid(field, "must be at most 100 characters");
  }
  return absl::OkStatus();
}

}  // namespace tollgate::auth
