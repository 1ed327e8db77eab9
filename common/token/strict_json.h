#pragma once

#include <string_view>

#include "common/token/token_error.h"
#include "nlohmann/json.hpp"

namespace tollgate {

// Parses `text` as one JSON object and refuses duplicate member names at any
// depth (kDuplicateMember): parsers disagree on which duplicate wins, so an
// attacker could show one verifier {"sub":"a"} and another {"sub":"b"}.
// Invalid JSON, invalid UTF-8 or a non-object top level is kMalformed.
TokenResult<nlohmann::json> ParseStrictJsonObject(std::string_view text);

}  // namespace tollgate
