#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth_service/store/one_time_code_store.h"
#include "common/random_source.h"

namespace tollgate::auth {

// Single-use codes (SPEC section 4): "tgp_" (password reset) or "tge_"
// (email verification) + base64url of 32 random bytes, like "tgr_" refresh
// tokens, so secret scanners and support staff can tell them apart.
inline constexpr std::string_view kPasswordResetCodePrefix = "tgp_";
inline constexpr std::string_view kEmailVerificationCodePrefix = "tge_";

std::string_view CodePrefix(CodeKind kind);

// A code for the mail, and what the store keeps of it (its SHA-256).
struct MintedCode {
  std::string code;
  IssuedCode stored;
};

// A new code of `kind` for `email`, expiring `ttl_seconds` after `now`.
[[nodiscard]] absl::StatusOr<MintedCode> MintCode(CodeKind kind, const std::string& email,
                                                  int64_t now, int64_t ttl_seconds,
                                                  RandomSource& random);

// The hex SHA-256 under which a presented code is looked up. INVALID_ARGUMENT
// "<field>: must be a <prefix>... code" when it does not have the shape of a
// code of `kind` (so it costs no database round trip).
[[nodiscard]] absl::StatusOr<std::string> PresentedCodeHash(std::string_view field,
                                                            std::string_view code, CodeKind kind);

}  // namespace tollgate::auth
