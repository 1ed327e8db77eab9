#include "client/cli/json_text.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"

namespace tollgate::cli {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> MessageToJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
      !status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print the reply as JSON: ", status.ToString()));
  }
  return UnescapePrintableAscii(json);
}

std::string UnescapePrintableAscii(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    if (json[i] != '\\' || i + 1 >= json.size()) {
      out += json[i];
      continue;
    }
    // An escape: consumed as a whole, so "\\u003c" (an escaped backslash,
    // then text) is never mistaken for an escaped '<'.
    if (json[i + 1] == 'u' && i + 5 < json.size() && json[i + 2] == '0' && json[i + 3] == '0') {
      const int high = HexValue(json[i + 4]);
      const int low = HexValue(json[i + 5]);
      if (high >= 0 && low >= 0) {
        const char c = static_cast<char>(high * 16 + low);
        if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
          out += c;
          i += 5;
          continue;
        }
      }
    }
    out += json[i];
    out += json[i + 1];
    ++i;
  }
  return out;
}

}  // namespace tollgate::cli
