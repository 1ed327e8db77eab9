#include "common/token/jwk_set.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/token/strict_json.h"

namespace tollgate {

absl::StatusOr<JwkSet> JwkSet::FromKeys(std::vector<Jwk> keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (keys[i].kid() == keys[j].kid()) {
        return absl::InvalidArgumentError(absl::StrCat("duplicate kid '", keys[i].kid(), "' in key set"));
      }
    }
  }
  JwkSet set;
  set.keys_ = std::move(keys);
  return set;
}

absl::StatusOr<JwkSet> JwkSet::FromJson(std::string_view jwks_json) {
  auto document = ParseStrictJsonObject(jwks_json);
  if (!document.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JWK Set: ", std::string(ToString(document.error()))));
  }
  const auto members = document.value().find("keys");
  if (members == document.value().end() || !members->is_array()) {
    return absl::InvalidArgumentError("invalid JWK Set: member 'keys' must be an array");
  }
  std::vector<Jwk> keys;
  for (size_t i = 0; i < members->size(); ++i) {
    const nlohmann::json& member = (*members)[i];
    if (!member.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid JWK Set: key ", i, " is not an object"));
    }
    const auto kty = member.find("kty");
    const bool supported_type = kty != member.end() &&
                                (*kty == "EC" || *kty == "OKP" || *kty == "RSA" || *kty == "oct");
    const auto use = member.find("use");
    if (!supported_type || (use != member.end() && *use == "enc")) continue;
    const auto crv = member.find("crv");
    if ((*kty == "EC" || *kty == "OKP") && crv != member.end() && *crv != "P-256" &&
        *crv != "Ed25519") {
      continue;  // another curve (P-384, X25519, ...): not ours to verify with
    }
    auto key = Jwk::FromJson(member);
    if (!key.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("key ", i, ": ", key.status().message()));
    }
    keys.push_back(*std::move(key));
  }
  return FromKeys(std::move(keys));
}

std::string JwkSet::ToPublicJson() const {
  nlohmann::json keys = nlohmann::json::array();
  for (const Jwk& key : keys_) {
    if (auto jwk = key.ToPublicJson()) keys.push_back(*std::move(jwk));
  }
  return nlohmann::json{{"keys", keys}}.dump();
}

const Jwk* JwkSet::Find(std::string_view kid) const {
  for (const Jwk& key : keys_) {
    if (key.kid() == kid) return &key;
  }
  return nullptr;
}

}  // namespace tollgate
