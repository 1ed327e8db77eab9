#include "auth_service/accounts/one_time_codes.h"

#include "auth_service/tokens/opaque_token.h"

namespace tollgate::auth {

std::string_view CodePrefix(CodeKind kind) {
  return kind == CodeKind::kPasswordReset ? kPasswordResetCodePrefix
                                          : kEmailVerificationCodePrefix;
}

absl::StatusOr<MintedCode> MintCode(CodeKind kind, const std::string& email, int64_t now,
                                    int64_t ttl_seconds, RandomSource& random) {
  auto code = NewOpaqueToken(CodePrefix(kind), random);
  if (!code.ok()) return code.status();
  MintedCode minted;
  minted.stored = IssuedCode{kind, Sha256Hex(*code), email, now + ttl_seconds};
  minted.code = *std::move(code);
  return minted;
}

absl::StatusOr<std::string> PresentedCodeHash(std::string_view field, std::string_view code,
                                              CodeKind kind) {
  if (!HasOpaqueTokenShape(CodePrefix(kind), code)) {
    return absl::InvalidArgumentError(std::string(field) + ": must be a " +
                                      std::string(CodePrefix(kind)) + "... code from the mail");
  }
  return Sha256Hex(code);
}

}  // namespace tollgate::auth
