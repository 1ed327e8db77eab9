#include "common/token/strict_json.h"

#include <locale.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace tollgate {
namespace {

using Json = nlohmann::json;

// The "C" locale for strtod_l: a float's decimal point is '.', whatever
// locale the process runs in (nlohmann gets the same by rewriting the '.').
locale_t CLocale() {
  static const locale_t locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(0));
  return locale;
}

// Length of the well-formed UTF-8 sequence (RFC 3629 section 4) of two to
// four bytes that starts at p, or 0. Overlong forms, UTF-16 surrogates and
// code points above U+10FFFF are not well-formed.
size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  const auto in = [&](size_t i, unsigned char low, unsigned char high) {
    return p + i < end && p[i] >= low && p[i] <= high;
  };
  const unsigned char c = p[0];
  if (c >= 0xc2 && c <= 0xdf) return in(1, 0x80, 0xbf) ? 2 : 0;
  if (c == 0xe0) return in(1, 0xa0, 0xbf) && in(2, 0x80, 0xbf) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
    return in(1, 0x80, 0xbf) && in(2, 0x80, 0xbf) ? 3 : 0;
  }
  if (c == 0xed) return in(1, 0x80, 0x9f) && in(2, 0x80, 0xbf) ? 3 : 0;
  if (c == 0xf0) return in(1, 0x90, 0xbf) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) {
    return in(1, 0x80, 0xbf) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
  }
  if (c == 0xf4) return in(1, 0x80, 0x8f) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
  return 0;
}

void AppendUtf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  }
}

// A one-pass RFC 8259 parser that accepts what nlohmann::json::parse accepts
// (a leading UTF-8 BOM included, no comments) and reads values as nlohmann
// does, but only if the top level is an object, and with nothing but
// whitespace after it: nlohmann stops at a NUL byte and ignores the rest,
// "{}\0<anything>"; this parser refuses any byte after the value. It tells `Builder` what it reads, in document order:
//   BeginObject() EndObject() BeginArray() EndArray()
//   Name(std::string_view)       a member name, before the member's value
//   String(std::string_view) Unsigned(uint64_t) Integer(int64_t)
//   Float(double) Boolean(bool) Null()
// Strings are decoded; the views stay valid as long as the text and the
// parser's unescaped strings (TakeUnescaped) live.
//
// It replaced nlohmann's SAX parser, whose character-by-character lexer
// cost more than anything else in a token verification but the signature
// (see bench/README.md); the fuzzer compares the two on every input.
// Iterative, not recursive: the open containers are an explicit stack, so
// deeply nested input cannot overflow the call stack.
template <typename Builder>
class StrictParser {
 public:
  StrictParser(std::string_view text, Builder& builder)
      : p_(reinterpret_cast<const unsigned char*>(text.data())),
        end_(p_ + text.size()),
        builder_(builder) {}

  // False unless the text is one JSON object with nothing but whitespace
  // after it.
  bool Parse() {
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xef\xbb\xbf", 3) == 0) p_ += 3;
    SkipWhitespace();
    if (p_ == end_ || *p_ != '{') return false;
    open_.reserve(8);
    names_.reserve(16);
    for (;;) {
      // One value.
      SkipWhitespace();
      if (p_ == end_) return false;
      const unsigned char c = *p_;
      if (c == '{' || c == '[') {
        ++p_;
        const bool object = c == '{';
        if (object) {
          builder_.BeginObject();
        } else {
          builder_.BeginArray();
        }
        open_.push_back(Open{object, names_.size()});
        SkipWhitespace();
        if (p_ == end_) return false;
        if (*p_ != (object ? '}' : ']')) {
          if (object && !Name()) return false;
          continue;  // to the first member's or element's value
        }
        ++p_;
        Close();
      } else if (!Scalar()) {
        return false;
      }

      // After a value: close what ends here, then on to the next value.
      for (;;) {
        SkipWhitespace();
        if (open_.empty()) return p_ == end_;
        if (p_ == end_) return false;
        const bool object = open_.back().object;
        const unsigned char next = *p_++;
        if (next == ',') {
          if (object && !Name()) return false;
          break;
        }
        if (next != (object ? '}' : ']')) return false;
        Close();
      }
    }
  }

  // Whether some object named a member twice. Parse() carries on after a
  // duplicate, so that malformed text after it is still reported as such.
  bool duplicate() const { return duplicate_; }

  std::vector<std::unique_ptr<std::string>> TakeUnescaped() { return std::move(unescaped_); }

 private:
  struct Open {
    bool object;
    size_t first_name;  // this object's names start here in names_
  };

  void SkipWhitespace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  void Close() {
    const Open closed = open_.back();
    open_.pop_back();
    if (!closed.object) {
      builder_.EndArray();
      return;
    }
    CheckDuplicates(closed.first_name);
    names_.resize(closed.first_name);
    builder_.EndObject();
  }

  // Compares the decoded names, so "\u0073ub" and "sub" are one name. Pairs
  // for the small objects of tokens; sorting beyond that keeps a hostile
  // object of thousands of members from costing quadratic time.
  void CheckDuplicates(size_t first) {
    const auto begin = names_.begin() + static_cast<std::ptrdiff_t>(first);
    const size_t count = names_.size() - first;
    if (count <= 16) {
      for (auto i = begin; i != names_.end(); ++i) {
        if (std::find(i + 1, names_.end(), *i) != names_.end()) duplicate_ = true;
      }
      return;
    }
    std::sort(begin, names_.end());
    if (std::adjacent_find(begin, names_.end()) != names_.end()) duplicate_ = true;
  }

  // `"name" :`
  bool Name() {
    SkipWhitespace();
    std::string_view name;
    if (p_ == end_ || *p_ != '"' || !String(name)) return false;
    SkipWhitespace();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    names_.push_back(name);
    builder_.Name(name);
    return true;
  }

  bool Scalar() {
    switch (*p_) {
      case '"': {
        std::string_view value;
        if (!String(value)) return false;
        builder_.String(value);
        return true;
      }
      case 't':
        if (!Literal("true")) return false;
        builder_.Boolean(true);
        return true;
      case 'f':
        if (!Literal("false")) return false;
        builder_.Boolean(false);
        return true;
      case 'n':
        if (!Literal("null")) return false;
        builder_.Null();
        return true;
      default:
        return Number();
    }
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  bool Digit() const { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, typed as nlohmann types
  // it: an integer is Unsigned (no '-') or Integer (with '-') when it fits
  // in 64 bits, else Float; a fraction or an exponent makes a Float; a
  // float that overflows to infinity is refused.
  bool Number() {
    const unsigned char* const start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (!Digit()) return false;
    uint64_t magnitude = 0;
    bool fits = true;
    if (*p_ == '0') {
      ++p_;
    } else {
      for (; Digit(); ++p_) {
        const uint64_t digit = *p_ - '0';
        if (magnitude > (UINT64_MAX - digit) / 10) fits = false;
        magnitude = magnitude * 10 + digit;
      }
    }
    bool integer = true;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!Digit()) return false;
      while (Digit()) ++p_;
      integer = false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!Digit()) return false;
      while (Digit()) ++p_;
      integer = false;
    }
    if (integer && fits) {
      constexpr uint64_t kMinIntegerMagnitude = uint64_t{1} << 63;  // -INT64_MIN
      if (!negative) {
        builder_.Unsigned(magnitude);
        return true;
      }
      if (magnitude < kMinIntegerMagnitude) {
        builder_.Integer(-static_cast<int64_t>(magnitude));  // "-0" too, as nlohmann
        return true;
      }
      if (magnitude == kMinIntegerMagnitude) {
        builder_.Integer(INT64_MIN);
        return true;
      }
    }
    const std::string text(reinterpret_cast<const char*>(start), p_ - start);
    const locale_t c_locale = CLocale();
    const double value = c_locale != static_cast<locale_t>(0)
                             ? strtod_l(text.c_str(), nullptr, c_locale)
                             : std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(value)) return false;
    builder_.Float(value);
    return true;
  }

  // A string at p_ (which is '"'). Refuses control characters, unknown
  // escapes, unpaired UTF-16 surrogates and UTF-8 that is not well-formed.
  // Without escapes (nearly always) `out` points into the text; otherwise
  // into a decoded copy kept in unescaped_.
  bool String(std::string_view& out) {
    ++p_;
    const unsigned char* const start = p_;
    const unsigned char* run = p_;  // start of the bytes not yet copied
    std::string* decoded = nullptr;
    for (;;) {
      if (p_ == end_) return false;
      const unsigned char c = *p_;
      if (c == '"') {
        if (decoded == nullptr) {
          out = std::string_view(reinterpret_cast<const char*>(start), p_ - start);
        } else {
          decoded->append(reinterpret_cast<const char*>(run), p_ - run);
          out = *decoded;
        }
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (decoded == nullptr) {
          unescaped_.push_back(std::make_unique<std::string>());
          decoded = unescaped_.back().get();
        }
        decoded->append(reinterpret_cast<const char*>(run), p_ - run);
        if (!Escape(*decoded)) return false;
        run = p_;
      } else if (c < 0x80) {
        ++p_;
      } else {
        const size_t length = Utf8SequenceLength(p_, end_);
        if (length == 0) return false;
        p_ += length;
      }
    }
  }

  bool Escape(std::string& out) {
    ++p_;  // the backslash
    if (p_ == end_) return false;
    switch (*p_++) {
      case '"': out.push_back('"'); return true;
      case '\\': out.push_back('\\'); return true;
      case '/': out.push_back('/'); return true;
      case 'b': out.push_back('\b'); return true;
      case 'f': out.push_back('\f'); return true;
      case 'n': out.push_back('\n'); return true;
      case 'r': out.push_back('\r'); return true;
      case 't': out.push_back('\t'); return true;
      case 'u': break;
      default: return false;
    }
    uint32_t code_point = 0;
    if (!Hex4(code_point)) return false;
    if (code_point >= 0xd800 && code_point <= 0xdbff) {
      // A high surrogate must be followed by an escaped low surrogate.
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      uint32_t low = 0;
      if (!Hex4(low) || low < 0xdc00 || low > 0xdfff) return false;
      code_point = 0x10000 + ((code_point - 0xd800) << 10) + (low - 0xdc00);
    } else if (code_point >= 0xdc00 && code_point <= 0xdfff) {
      return false;
    }
    AppendUtf8(out, code_point);
    return true;
  }

  bool Hex4(uint32_t& value) {
    if (end_ - p_ < 4) return false;
    value = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      const unsigned char c = *p_;
      uint32_t digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return false;
      }
      value = value << 4 | digit;
    }
    return true;
  }

  const unsigned char* p_;
  const unsigned char* const end_;
  Builder& builder_;
  std::vector<Open> open_;               // innermost last
  std::vector<std::string_view> names_;  // member names of the open objects
  std::vector<std::unique_ptr<std::string>> unescaped_;
  bool duplicate_ = false;
};

// Builds the nlohmann DOM.
class DomBuilder {
 public:
  explicit DomBuilder(Json& root) : root_(root) {}

  void BeginObject() { Open(Json::value_t::object); }
  void BeginArray() { Open(Json::value_t::array); }
  void EndObject() { open_.pop_back(); }
  void EndArray() { open_.pop_back(); }
  void Name(std::string_view name) {
    // A duplicate name finds the first member, whose value is then
    // overwritten; the parse fails with kDuplicateMember anyway.
    auto& members = open_.back()->get_ref<Json::object_t&>();
    member_ = &members.try_emplace(std::string(name)).first->second;
  }
  void String(std::string_view value) { *Slot() = Json(std::string(value)); }
  void Unsigned(uint64_t value) { *Slot() = Json(static_cast<Json::number_unsigned_t>(value)); }
  void Integer(int64_t value) { *Slot() = Json(static_cast<Json::number_integer_t>(value)); }
  void Float(double value) { *Slot() = Json(value); }
  void Boolean(bool value) { *Slot() = Json(value); }
  void Null() { *Slot() = Json(nullptr); }

 private:
  // Where the next value goes: the root, a new last element of the
  // innermost array, or the member whose name came just before. Elements
  // of an open container never move while it is open (std::map nodes are
  // stable; an array only grows after its last child closed), so the
  // pointers on open_ hold.
  Json* Slot() {
    if (open_.empty()) return &root_;
    Json& parent = *open_.back();
    if (parent.is_array()) {
      auto& elements = parent.get_ref<Json::array_t&>();
      elements.emplace_back();
      return &elements.back();
    }
    return member_;
  }
  void Open(Json::value_t type) {
    Json* slot = Slot();
    *slot = Json(type);
    open_.push_back(slot);
  }

  Json& root_;
  std::vector<Json*> open_;
  Json* member_ = nullptr;
};

}  // namespace

// Fills a FlatJsonObject: top-level members, and the elements of top-level
// arrays as far as they are strings. Deeper values are only parsed.
class FlatObjectBuilder {
 public:
  explicit FlatObjectBuilder(FlatJsonObject& object) : object_(object) {
    object_.members_.reserve(16);
  }

  void BeginObject() { Container(FlatJsonMember::Kind::kObject); }
  void BeginArray() { Container(FlatJsonMember::Kind::kArray); }
  void EndObject() { --depth_; }
  void EndArray() { --depth_; }
  void Name(std::string_view name) {
    if (depth_ == 1) object_.members_.emplace_back().name = name;
  }
  void String(std::string_view value) {
    if (depth_ == 1) {
      Set(FlatJsonMember::Kind::kString).string = value;
    } else if (InTopLevelArray()) {
      object_.array_strings_.push_back(value);
      ++object_.members_.back().string_count;
    }
  }
  void Unsigned(uint64_t value) {
    if (depth_ == 1) Set(FlatJsonMember::Kind::kUnsigned).unsigned_value = value;
    NotAString();
  }
  void Integer(int64_t value) {
    if (depth_ == 1) Set(FlatJsonMember::Kind::kInteger).integer_value = value;
    NotAString();
  }
  void Float(double value) {
    if (depth_ == 1) Set(FlatJsonMember::Kind::kFloat).float_value = value;
    NotAString();
  }
  void Boolean(bool value) {
    if (depth_ == 1) Set(FlatJsonMember::Kind::kBoolean).boolean = value;
    NotAString();
  }
  void Null() {
    if (depth_ == 1) Set(FlatJsonMember::Kind::kNull);
    NotAString();
  }

 private:
  // depth_ counts the open containers: 1 inside the top-level object, 2
  // inside the value of its latest member.
  bool InTopLevelArray() const {
    return depth_ == 2 && object_.members_.back().kind == FlatJsonMember::Kind::kArray;
  }
  void NotAString() {
    if (InTopLevelArray()) object_.members_.back().only_strings = false;
  }
  FlatJsonMember& Set(FlatJsonMember::Kind kind) {
    FlatJsonMember& member = object_.members_.back();
    member.kind = kind;
    return member;
  }
  void Container(FlatJsonMember::Kind kind) {
    if (depth_ == 1) {
      Set(kind).first_string = object_.array_strings_.size();
      if (kind == FlatJsonMember::Kind::kArray && object_.array_strings_.capacity() == 0) {
        object_.array_strings_.reserve(8);
      }
    } else {
      NotAString();
    }
    ++depth_;
  }

  FlatJsonObject& object_;
  int depth_ = 0;
};

TokenResult<nlohmann::json> ParseStrictJsonObject(std::string_view text) {
  Json value;
  DomBuilder builder(value);
  StrictParser<DomBuilder> parser(text, builder);
  if (!parser.Parse()) return TokenError::kMalformed;
  if (parser.duplicate()) return TokenError::kDuplicateMember;
  return value;
}

TokenResult<FlatJsonObject> FlatJsonObject::Parse(std::string_view text) {
  FlatJsonObject object;
  FlatObjectBuilder builder(object);
  StrictParser<FlatObjectBuilder> parser(text, builder);
  if (!parser.Parse()) return TokenError::kMalformed;
  if (parser.duplicate()) return TokenError::kDuplicateMember;
  object.unescaped_ = parser.TakeUnescaped();
  return object;
}

const FlatJsonMember* FlatJsonObject::Find(std::string_view name) const {
  for (const FlatJsonMember& member : members_) {
    if (member.name == name) return &member;
  }
  return nullptr;
}

std::span<const std::string_view> FlatJsonObject::Strings(const FlatJsonMember& array) const {
  if (array.kind != FlatJsonMember::Kind::kArray || !array.only_strings) return {};
  return std::span<const std::string_view>(array_strings_).subspan(array.first_string,
                                                                    array.string_count);
}

}  // namespace tollgate
