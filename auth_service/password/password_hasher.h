#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tollgate::auth {

// Argon2id cost parameters. The defaults are OWASP's minimum recommendation
// (19 MiB, 2 passes, 1 lane), about 12 ms per hash on the reference machine.
struct Argon2Params {
  uint32_t memory_kib = 19456;  // the PHC string's m=
  uint32_t iterations = 2;      // t=
  uint32_t parallelism = 1;     // p=; libsodium only hashes with 1 lane

  friend bool operator==(const Argon2Params&, const Argon2Params&) = default;
};

// Hashes and verifies passwords as Argon2id (RFC 9106, version 0x13) PHC
// strings through libsodium:
//
//   $argon2id$v=19$m=19456,t=2,p=1$<salt, 16 bytes>$<hash, 32 bytes>
//
// with salt and hash in unpadded standard base64. The salt comes from
// libsodium's own CSPRNG inside crypto_pwhash_str_alg (no test needs to
// replace it, so it is not a RandomSource).
//
// Every method is const and thread-safe. Each Hash or Verify allocates
// `memory_kib` KiB for its duration and keeps one core busy: call them from
// a HashingPool, never directly on a gRPC thread. No method logs, and no
// status message ever contains a password or a hash.
class PasswordHasher final {
 public:
  // Initializes libsodium (once per process), checks the parameters and
  // computes the dummy hash that SpendOneHash verifies against (one hash of
  // work). INVALID_ARGUMENT naming the field for parallelism other than 1,
  // iterations 0, or memory below 8 KiB (Argon2's minimum); INTERNAL if libsodium
  // cannot initialize; RESOURCE_EXHAUSTED if the dummy hash ran out of
  // memory.
  [[nodiscard]] static absl::StatusOr<PasswordHasher> Create(const Argon2Params& params);

  const Argon2Params& params() const { return params_; }

  // A fresh salt and the PHC string of `password` with the configured
  // parameters. RESOURCE_EXHAUSTED when the memory for the hash cannot be
  // allocated, INTERNAL for any other libsodium failure.
  [[nodiscard]] absl::StatusOr<std::string> Hash(std::string_view password) const;

  // Whether `password` matches the stored PHC string `phc`, computed with the
  // parameters recorded in `phc` (not the configured ones), comparing in
  // constant time. false for a wrong password. A `phc` that is not an
  // Argon2id v=19 PHC string libsodium can verify (another algorithm, a
  // truncated or re-encoded field, t=0, ...) is INTERNAL, not false: it is
  // corrupt server-side data, never the caller's fault, and callers must not
  // report it as a wrong password. RESOURCE_EXHAUSTED when out of memory.
  [[nodiscard]] absl::StatusOr<bool> Verify(std::string_view password,
                                            const std::string& phc) const;

  // True when `phc` was not made with the configured parameters (m, t or p
  // differ), so the caller should store Hash(password) after the next
  // successful Verify. Also true for a `phc` that does not parse.
  bool NeedsRehash(const std::string& phc) const;

  // Does the work of one Verify with the configured parameters against a
  // dummy hash and throws the answer away. Login calls it for an unknown
  // email so that the reply takes as long as for a known one and timing does
  // not reveal which emails have accounts. (An account whose stored hash has
  // older, cheaper parameters still answers faster until it is rehashed.)
  void SpendOneHash(std::string_view password) const;

 private:
  PasswordHasher(const Argon2Params& params, std::string dummy_phc)
      : params_(params), dummy_phc_(std::move(dummy_phc)) {}

  Argon2Params params_;
  std::string dummy_phc_;  // hash of a fixed password with params_
};

}  // namespace tollgate::auth
