#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tollgate::auth {

// Character-level building blocks for the account text rules (emails, names,
// passwords; SPEC section 5). Definitions used here and by the callers:
// - "whitespace" is ASCII space, \t, \n, \v, \f and \r (no Unicode spaces);
// - "characters" are the Unicode code points of valid UTF-8 (RFC 3629: no
//   overlong forms, surrogates or values above U+10FFFF);
// - "control characters" are U+0000-U+001F, U+007F and U+0080-U+009F.
//
// The functions below that take "valid UTF-8" expect text that ScanUtf8
// accepted; an ill-formed sequence is read as U+FFFD. Everything here is
// thread-safe: the ICU objects (the NFKC_Casefold normalizer and one
// configured USpoofChecker) are created once, on first use, and afterwards
// only read, which ICU documents as safe from any number of threads. If ICU
// cannot create them (its data library is missing, a broken install) the
// process aborts with a message rather than accept unchecked text.

// `text` without leading and trailing whitespace.
std::string_view TrimWhitespace(std::string_view text);

// What ScanUtf8 learned about valid UTF-8 text.
struct Utf8Scan {
  size_t code_points = 0;
  bool has_control = false;
};

// Counts the code points of `text`, or nullopt if it is not valid UTF-8.
// Overlong forms and surrogates are refused because they would give one
// visible string several byte encodings. Allocates nothing, so any input size
// is cheap: callers check their byte limits before calling the ICU-based
// functions below, which do allocate.
std::optional<Utf8Scan> ScanUtf8(std::string_view text);

// True when valid UTF-8 `text` holds a character that is not shown or that
// reorders what is shown, so that two different strings look the same:
// - a Default_Ignorable_Code_Point (U+00AD soft hyphen, U+200B-U+200F,
//   U+2060-U+206F, U+FEFF, variation selectors U+FE00-U+FE0F, tags ...);
// - a Bidi_Control (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069);
// - the same nonspacing mark twice on one base (UTS 39 "invisible" check:
//   the second one draws over the first).
bool HasInvisibleCharacters(std::string_view text);

// True when valid UTF-8 `text` holds an unassigned code point (General
// Category Cn, which includes the noncharacters) or a private-use one (Co).
// Private-use characters show as anything a font likes; an unassigned one
// may get a case folding or decomposition in a later Unicode version, which
// would change keys made by NfkcCasefold after an ICU upgrade.
bool HasUnassignedCharacters(std::string_view text);

// True when valid UTF-8 `text` mixes scripts beyond what UTS 39 calls
// "Highly Restrictive": one script, or Latin with Han + Hiragana + Katakana
// (Japanese), Han + Bopomofo (Chinese) or Han + Hangul (Korean); Common and
// Inherited characters (digits, punctuation, combining marks) go with any
// script. Also true when it mixes digits of several numbering systems
// (ASCII "1" beside Arabic-Indic "١"). So "admin" with a Cyrillic "а"
// (U+0430) mixes, while "иван", "山田" and "yamada山田" do not. ASCII-only
// text never mixes (answered without ICU).
bool MixesScripts(std::string_view text);

// The NFKC_Casefold form of valid UTF-8 `text` (Unicode's NFKC_Casefold
// mapping, as ICU's Normalizer2::getNFKCCasefoldInstance applies it):
// compatibility forms become their plain letters (full-width "ａ" -> "a",
// "ﬁ" -> "fi"), case is folded ("Ü" -> "ü", "ß" -> "ss", "İ" -> "i" + U+0307)
// and default-ignorable characters are removed. The result is NFC, and
// NfkcCasefold(NfkcCasefold(x)) == NfkcCasefold(x). Deterministic for a given
// Unicode version; for assigned characters Unicode's stability policies keep
// it the same across versions.
std::string NfkcCasefold(std::string_view text);

// True when valid UTF-8 `text`, meant to be in NFKC_Casefold form, could pass
// for ASCII text it is not (UTS 39 confusable "skeletons"):
// - `text` is not ASCII but its skeleton is all ASCII, i.e. every character
//   of it is a look-alike of an ASCII one (Cyrillic "рау" for "pay", Latin
//   "admın" with dotless U+0131 for "admin");
// - a non-ASCII character of the Latin, Common or Inherited script whose own
//   skeleton is ASCII ("ı" -> "i", "ɑ" -> "a", U+2010 hyphen -> "-"), even
//   among other non-ASCII characters ("jürgın" for "jürgin"). Letters of
//   other scripts are judged only as a whole (first rule) and by MixesScripts,
//   so a Cyrillic "а" inside the wholly Cyrillic "иван" is fine;
// - "i" or "j" followed by U+0307 COMBINING DOT ABOVE, which draws onto the
//   letter's own dot (UTS 39 section 5.4; also what "İ" folds to).
// Letters with a visible mark ("é", "ü", "ñ") keep the mark in their skeleton
// and so are not look-alikes.
bool ImitatesAscii(std::string_view text);

}  // namespace tollgate::auth
