#pragma once

#include <cstdint>
#include <string_view>

#include "common/token/jwk_set.h"

namespace tollgate::fuzz {

// The keys the fuzzer verifies against and the seed corpus was signed with:
// one per algorithm, generated once and pasted in so that the seed tokens in
// fuzz/corpus/ keep verifying. They are test keys, published here on
// purpose; nothing outside fuzz/ may use them.
//
// Kids: fuzz-es256, fuzz-eddsa, fuzz-rs256, fuzz-hs256.
extern const std::string_view kFixedPrivateJwks;

// Seed tokens are issued at this time with the default options (issuer and
// audience "tollgate", 900 s), and the fuzzer verifies around it.
inline constexpr int64_t kSeedIssuedAt = 1'700'000'000;

// kFixedPrivateJwks as a JwkSet, parsed on first use. Aborts if it does not
// load (the fuzzer would test nothing).
const JwkSet& FixedKeySet();

// The key with `kid` from FixedKeySet(); aborts if absent.
const Jwk& FixedKey(std::string_view kid);

}  // namespace tollgate::fuzz
