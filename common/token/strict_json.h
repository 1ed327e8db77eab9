#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/token/token_error.h"
#include "nlohmann/json.hpp"

namespace tollgate {

// Parses `text` as one JSON object and refuses duplicate member names at any
// depth (kDuplicateMember): parsers disagree on which duplicate wins, so an
// attacker could show one verifier {"sub":"a"} and another {"sub":"b"}.
// Invalid JSON, invalid UTF-8 or a non-object top level is kMalformed (also
// when the text has a duplicate too). Builds the value nlohmann::json::parse
// builds and accepts the same texts (a leading UTF-8 BOM included) but one:
// nlohmann takes a NUL byte for the end of the input and ignores what
// follows the value, "{}\0<anything>"; that is refused here.
TokenResult<nlohmann::json> ParseStrictJsonObject(std::string_view text);

// One top-level member of a FlatJsonObject. The kinds are nlohmann's value
// types, so both readers classify a value the same way.
struct FlatJsonMember {
  enum class Kind { kNull, kBoolean, kUnsigned, kInteger, kFloat, kString, kArray, kObject };

  std::string_view name;  // decoded
  Kind kind = Kind::kNull;
  bool boolean = false;         // kBoolean
  uint64_t unsigned_value = 0;  // kUnsigned: an integer without '-' that fits 64 bits
  int64_t integer_value = 0;    // kInteger: an integer with '-' that fits 64 bits
  double float_value = 0;       // kFloat: a fraction, an exponent or a bigger integer
  std::string_view string;      // kString, decoded
  // kArray: true when every element is a string; they are then
  // FlatJsonObject::Strings(*this).
  bool only_strings = true;
  size_t first_string = 0;
  size_t string_count = 0;
};

// The top-level members of a JSON object, read with exactly the rules of
// ParseStrictJsonObject (the same texts are refused, with the same
// TokenError) but without building a DOM: scalars keep their value, arrays
// of strings their strings, other arrays and nested objects only their
// kind. The token verifier reads headers and claims through this; a DOM
// (a std::map node and a heap string per member) cost more than all other
// non-cryptographic work of a verification together (see bench/README.md).
class FlatJsonObject {
 public:
  // The views in the result point into `text` (and into the result, for
  // strings that had escapes): `text` must outlive the result.
  static TokenResult<FlatJsonObject> Parse(std::string_view text);

  // The member with this name, or nullptr. A linear search: token headers
  // and claims have a handful of members.
  const FlatJsonMember* Find(std::string_view name) const;

  // The elements of an array member whose only_strings is true.
  std::span<const std::string_view> Strings(const FlatJsonMember& array) const;

  const std::vector<FlatJsonMember>& members() const { return members_; }

 private:
  friend class FlatObjectBuilder;

  std::vector<FlatJsonMember> members_;
  std::vector<std::string_view> array_strings_;
  // Strings that had escapes, decoded; heap-allocated so that moving the
  // object keeps the views valid.
  std::vector<std::unique_ptr<std::string>> unescaped_;
};

}  // namespace tollgate
