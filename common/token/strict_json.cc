#include "common/token/strict_json.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tollgate {
namespace {

using Json = nlohmann::json;

// nlohmann SAX handler that builds the same DOM as nlohmann::json::parse and
// notices duplicate member names as they are inserted (one std::map lookup
// that the DOM needs anyway). This replaced a parse callback that copied
// every member name into side lists: that cost about as much as the parse
// itself, on every token verified (see bench/README.md).
class StrictDomBuilder {
 public:
  explicit StrictDomBuilder(Json& root) : root_(root) {}

  bool duplicate() const { return duplicate_; }

  bool null() { return Add(nullptr); }
  bool boolean(bool value) { return Add(value); }
  bool number_integer(Json::number_integer_t value) { return Add(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return Add(value); }
  bool number_float(Json::number_float_t value, const Json::string_t& /*text*/) {
    return Add(value);
  }
  bool string(Json::string_t& value) { return Add(std::move(value)); }
  bool binary(Json::binary_t& value) { return Add(std::move(value)); }  // not produced by JSON text

  bool start_object(std::size_t /*size*/) { return Open(Json::value_t::object); }
  bool key(Json::string_t& name) {
    auto& members = open_.back()->get_ref<Json::object_t&>();
    auto [it, inserted] = members.try_emplace(std::move(name));
    // Keep parsing after a duplicate: malformed text after it still reports
    // kMalformed, exactly as before. The value just overwrites the first.
    if (!inserted) duplicate_ = true;
    member_ = &it->second;
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t /*size*/) { return Open(Json::value_t::array); }
  bool end_array() { return Close(); }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*error*/) {
    return false;
  }

 private:
  // Places a value where the grammar says it goes: the root, the end of the
  // innermost open array, or the member whose key came just before.
  template <typename Value>
  Json* Place(Value&& value) {
    if (open_.empty()) {
      root_ = Json(std::forward<Value>(value));
      return &root_;
    }
    Json& parent = *open_.back();
    if (parent.is_array()) {
      auto& elements = parent.get_ref<Json::array_t&>();
      elements.emplace_back(std::forward<Value>(value));
      return &elements.back();
    }
    *member_ = Json(std::forward<Value>(value));
    return member_;
  }
  template <typename Value>
  bool Add(Value&& value) {
    Place(std::forward<Value>(value));
    return true;
  }
  bool Open(Json::value_t type) {
    open_.push_back(Place(type));
    return true;
  }
  bool Close() {
    open_.pop_back();
    return true;
  }

  Json& root_;
  // The open objects and arrays, innermost last. Elements of an open
  // container never move while it is open (std::map nodes are stable; an
  // array only grows after its last child closed), so the pointers hold.
  std::vector<Json*> open_;
  Json* member_ = nullptr;
  bool duplicate_ = false;
};

}  // namespace

TokenResult<nlohmann::json> ParseStrictJsonObject(std::string_view text) {
  Json value;
  StrictDomBuilder builder(value);
  const bool parsed = Json::sax_parse(text.begin(), text.end(), &builder,
                                      Json::input_format_t::json, /*strict=*/true,
                                      /*ignore_comments=*/false);
  if (!parsed) return TokenError::kMalformed;
  if (builder.duplicate()) return TokenError::kDuplicateMember;
  if (!value.is_object()) return TokenError::kMalformed;
  return value;
}

}  // namespace tollgate
