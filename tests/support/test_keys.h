#pragma once

#include <cstdint>
#include <string>

#include "common/random_source.h"
#include "common/token/jwk.h"

namespace tollgate::testing {

// A fresh PEM (PKCS#8) private key for an asymmetric algorithm, made by
// OpenSSL. Aborts the test binary if OpenSSL fails (nothing to test then).
std::string GeneratePrivateKeyPem(JwsAlgorithm algorithm);

// A fresh signing key of `algorithm` (HS256: 32 random bytes).
Jwk GenerateKey(JwsAlgorithm algorithm);

// Deterministic bytes (a counter), so token ids in tests are predictable.
class CountingRandomSource final : public RandomSource {
 public:
  absl::StatusOr<std::string> Bytes(size_t count) override;

 private:
  uint8_t next_ = 0;
};

}  // namespace tollgate::testing
