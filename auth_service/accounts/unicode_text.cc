#include "auth_service/accounts/unicode_text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace tollgate::auth {
namespace {

bool IsWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool IsControl(char32_t code_point) {
  return code_point < 0x20 || (code_point >= 0x7f && code_point <= 0x9f);
}

bool IsAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

[[noreturn]] void DieOfIcu(const char* what, UErrorCode error) {
  std::fprintf(stderr, "tollgate: ICU %s failed: %s\n", what, u_errorName(error));
  std::abort();
}

const icu::Normalizer2& NfkcCasefoldNormalizer() {
  // ICU owns the instance (never deleted); it is immutable and thread-safe.
  static const icu::Normalizer2* const normalizer = [] {
    UErrorCode error = U_ZERO_ERROR;
    const icu::Normalizer2* instance = icu::Normalizer2::getNFKCCasefoldInstance(error);
    if (U_FAILURE(error) || instance == nullptr) DieOfIcu("getNFKCCasefoldInstance", error);
    return instance;
  }();
  return *normalizer;
}

// One checker for all callers, configured here and never changed afterwards:
// ICU documents the check and skeleton functions, which take a const
// USpoofChecker*, as safe to call concurrently on one instance. Never closed
// (it lives as long as the process).
const USpoofChecker* SpoofChecker() {
  static const USpoofChecker* const checker = [] {
    UErrorCode error = U_ZERO_ERROR;
    USpoofChecker* created = uspoof_open(&error);
    uspoof_setChecks(created, USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_NUMBERS | USPOOF_INVISIBLE,
                     &error);
    uspoof_setRestrictionLevel(created, USPOOF_HIGHLY_RESTRICTIVE);
    if (U_FAILURE(error)) DieOfIcu("uspoof_open", error);
    return created;
  }();
  return checker;
}

// The uspoof_check2UTF8 result bits of valid UTF-8 `text`. A failure to
// check (not expected for valid input) reports every check as failed, so
// that the text is refused rather than let through unchecked.
int32_t SpoofCheckResult(std::string_view text) {
  if (text.size() > INT32_MAX) return USPOOF_ALL_CHECKS;
  UErrorCode error = U_ZERO_ERROR;
  const int32_t result = uspoof_check2UTF8(SpoofChecker(), text.data(),
                                           static_cast<int32_t>(text.size()), nullptr, &error);
  return U_FAILURE(error) ? USPOOF_ALL_CHECKS : result;
}

// Whether the UTS 39 skeleton of `text` is all ASCII; true also if ICU could
// not make one, so that such text is refused rather than let through.
bool SkeletonIsAscii(const icu::UnicodeString& text) {
  icu::UnicodeString skeleton;
  UErrorCode error = U_ZERO_ERROR;
  uspoof_getSkeletonUnicodeString(SpoofChecker(), 0, text, skeleton, &error);
  if (U_FAILURE(error)) return true;
  for (int32_t i = 0; i < skeleton.length(); ++i) {
    if (skeleton.charAt(i) >= 0x80) return false;
  }
  return true;
}

icu::UnicodeString FromUtf8(std::string_view text) {
  const int32_t length = static_cast<int32_t>(std::min<size_t>(text.size(), INT32_MAX));
  return icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), length));
}

// Calls `visit(code_point)` for each code point of `text` until it returns
// true; returns whether one did. Ill-formed sequences are visited as U+FFFD.
template <typename Visit>
bool AnyCodePoint(std::string_view text, Visit visit) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(std::min<size_t>(text.size(), INT32_MAX));
  int32_t i = 0;
  while (i < length) {
    UChar32 code_point = 0;
    U8_NEXT_OR_FFFD(bytes, i, length, code_point);
    if (visit(code_point)) return true;
  }
  return false;
}

}  // namespace

std::string_view TrimWhitespace(std::string_view text) {
  while (!text.empty() && IsWhitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsWhitespace(text.back())) text.remove_suffix(1);
  return text;
}

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

bool HasInvisibleCharacters(std::string_view text) {
  if (IsAscii(text)) return false;  // no ASCII character is ignorable or a bidi control
  const bool has_invisible_character = AnyCodePoint(text, [](UChar32 code_point) {
    return u_hasBinaryProperty(code_point, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
           u_hasBinaryProperty(code_point, UCHAR_BIDI_CONTROL);
  });
  return has_invisible_character || (SpoofCheckResult(text) & USPOOF_INVISIBLE) != 0;
}

bool HasUnassignedCharacters(std::string_view text) {
  return AnyCodePoint(text, [](UChar32 code_point) {
    const int8_t category = u_charType(code_point);
    return category == U_UNASSIGNED || category == U_PRIVATE_USE_CHAR;
  });
}

bool MixesScripts(std::string_view text) {
  if (IsAscii(text)) return false;
  return (SpoofCheckResult(text) & (USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_NUMBERS)) != 0;
}

std::string NfkcCasefold(std::string_view text) {
  UErrorCode error = U_ZERO_ERROR;
  const icu::UnicodeString folded = NfkcCasefoldNormalizer().normalize(FromUtf8(text), error);
  // normalize() fails only on a bogus input string or out of memory.
  if (U_FAILURE(error)) DieOfIcu("NFKC_Casefold normalize", error);
  std::string out;
  folded.toUTF8String(out);
  return out;
}

bool ImitatesAscii(std::string_view text) {
  if (IsAscii(text)) return false;
  if (SkeletonIsAscii(FromUtf8(text))) return true;
  UChar32 previous = 0;
  return AnyCodePoint(text, [&previous](UChar32 code_point) {
    const UChar32 before = std::exchange(previous, code_point);
    if (code_point == 0x0307 && (before == 'i' || before == 'j')) return true;
    if (code_point < 0x80) return false;
    UErrorCode error = U_ZERO_ERROR;
    const UScriptCode script = uscript_getScript(code_point, &error);
    if (U_FAILURE(error)) return true;
    if (script != USCRIPT_LATIN && script != USCRIPT_COMMON && script != USCRIPT_INHERITED) {
      return false;
    }
    return SkeletonIsAscii(icu::UnicodeString(code_point));
  });
}

}  // namespace tollgate::auth
