#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/statusor.h"

namespace tollgate::cli {

// `message` as one line of JSON (no trailing newline), the way the CLI
// prints every reply: the proto3 JSON mapping with the proto field names
// (`access_token`, not `accessToken`), fields with default values included
// (so `{"result":"0"}` rather than `{}`), int64 as strings (per the mapping).
//
// protobuf escapes `<`, `>`, `&`, `'` and `=` as \u00XX for embedding in
// HTML; this output is for terminals and jq, so printable ASCII is written
// as itself ("<saved to PATH>"). The result is the same JSON value.
[[nodiscard]] absl::StatusOr<std::string> MessageToJsonLine(
    const google::protobuf::Message& message);

// The un-escaping step alone: turns every \u00XX escape of a printable
// ASCII character other than '"' and '\' into that character, and leaves
// everything else (including an escaped backslash followed by "u003c") as
// it is. `json` must be valid JSON.
std::string UnescapePrintableAscii(const std::string& json);

}  // namespace tollgate::cli
