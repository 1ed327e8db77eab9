#include "common/config/token_settings.h"

#include "absl/strings/str_cat.h"

namespace tollgate::config {

absl::Status CheckJwtSecretKeyLength(const std::string& key) {
  if (!key.empty() && key.size() < kMinJwtSecretKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(kTokenSettings.jwt_secret_key), ": must be at least ",
                     kMinJwtSecretKeyBytes, " bytes, got ", key.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseTokenLeewaySeconds(const RawSettings& raw) {
  return ParseSeconds(raw, kTokenSettings.leeway, 0, 300);
}

}  // namespace tollgate::config
