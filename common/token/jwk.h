#pragma once

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tollgate {

// The JWS algorithms tollgate signs and verifies with. Each key has exactly
// one; a token's `alg` header must name it (never the other way round).
enum class JwsAlgorithm { kES256, kEdDSA, kRS256, kHS256 };

std::string_view AlgorithmName(JwsAlgorithm algorithm);
std::optional<JwsAlgorithm> AlgorithmFromName(std::string_view name);

// One key (RFC 7517): EC P-256 (ES256), OKP Ed25519 (EdDSA), RSA of at least
// 2048 bits (RS256) or an oct secret of at least 32 bytes (HS256). Immutable
// and cheap to copy (the OpenSSL key is shared).
class Jwk {
 public:
  static constexpr size_t kMinHmacSecretBytes = 32;
  static constexpr int kMinRsaBits = 2048;

  // Parses one JWK object, public or private. INVALID_ARGUMENT says which
  // member is wrong: unknown kty/crv, short RSA modulus, point not on the
  // curve, `alg` that disagrees with the key type, `use` other than "sig",
  // private parts that do not match the public ones. `kid` defaults to the
  // RFC 7638 thumbprint.
  static absl::StatusOr<Jwk> FromJson(const nlohmann::json& jwk);

  // A PKCS#8 or traditional PEM private key; the key type picks the
  // algorithm. Encrypted PEM is refused (no passphrase prompt). The kid is
  // the thumbprint.
  static absl::StatusOr<Jwk> FromPrivateKeyPem(std::string_view pem);
  static absl::StatusOr<Jwk> FromPrivateKeyPemFile(const std::string& path);

  // HS256 secret: at least kMinHmacSecretBytes (RFC 7518 section 3.2).
  static absl::StatusOr<Jwk> FromHmacSecret(std::string_view secret);

  JwsAlgorithm algorithm() const { return algorithm_; }
  const std::string& kid() const { return kid_; }
  bool is_symmetric() const { return algorithm_ == JwsAlgorithm::kHS256; }
  bool has_private_key() const { return has_private_key_; }

  // RFC 7638 thumbprint (SHA-256, base64url) over the required members.
  const std::string& thumbprint() const { return thumbprint_; }

  // The public JWK (kty, crv/x/y or n/e, kid, alg, use). Never private
  // parts. For an oct key it returns nullopt: a shared secret is never
  // published.
  std::optional<nlohmann::json> ToPublicJson() const;

  // Returns a copy whose kid is `kid` (JWKS entries carry their own).
  Jwk WithKid(std::string kid) const;

  // For the JWS primitives: the OpenSSL key (asymmetric) or the secret (oct).
  EVP_PKEY* pkey() const { return pkey_.get(); }
  const std::string& secret() const { return secret_; }

 private:
  Jwk() = default;
  static absl::StatusOr<Jwk> FromPkey(EVP_PKEY* owned_pkey, bool has_private_key);

  JwsAlgorithm algorithm_ = JwsAlgorithm::kHS256;
  std::shared_ptr<EVP_PKEY> pkey_;
  std::string secret_;
  bool has_private_key_ = false;
  // Public members in the canonical order of RFC 7638 (used for both the
  // thumbprint and ToPublicJson).
  nlohmann::json required_members_;
  std::string thumbprint_;
  std::string kid_;
};

}  // namespace tollgate
