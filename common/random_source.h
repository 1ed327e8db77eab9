#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace tollgate {

// Source of secret random bytes (token ids, refresh tokens, salts). Tests
// inject a deterministic one; production uses OpenSslRandomSource.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Returns `count` random bytes, or INTERNAL if the generator failed (never
  // falls back to a weaker source).
  [[nodiscard]] virtual absl::StatusOr<std::string> Bytes(size_t count) = 0;
};

// RAND_bytes from OpenSSL's default DRBG; thread-safe.
class OpenSslRandomSource final : public RandomSource {
 public:
  [[nodiscard]] absl::StatusOr<std::string> Bytes(size_t count) override;
};

}  // namespace tollgate
