#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/token/jwk.h"

namespace tollgate {

// An immutable set of verification (or signing) keys, looked up by kid.
class JwkSet {
 public:
  JwkSet() = default;
  // Fails with INVALID_ARGUMENT on a duplicate kid.
  static absl::StatusOr<JwkSet> FromKeys(std::vector<Jwk> keys);

  // Parses an RFC 7517 JWK Set document ({"keys": [...]}). Keys marked
  // `use: "enc"` and key types we do not implement are skipped (RFC 7517
  // section 5: ignore what is not understood); a key of a supported type
  // that is malformed fails the whole set, so a half-broken JWKS is never
  // silently accepted. Duplicate member names are refused.
  static absl::StatusOr<JwkSet> FromJson(std::string_view jwks_json);

  // The public JWK Set: every asymmetric key, never an HS256 secret.
  std::string ToPublicJson() const;

  // The key with this kid, or nullptr.
  const Jwk* Find(std::string_view kid) const;
  const std::vector<Jwk>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<Jwk> keys_;
};

}  // namespace tollgate
