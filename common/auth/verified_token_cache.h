#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "common/token/identity.h"

namespace tollgate {

// Tokens that already passed full verification, so a client that sends the
// same token on every call pays for one signature check, not one per call.
//
// Keyed by the exact token bytes (a token that differs in one byte is a
// different key and is verified from scratch). An entry is only returned
// while `now < expires_at + leeway`, the same rule the verifier applies, so
// caching never extends a token's life. Bounded: at most `capacity` entries;
// a full shard first drops its expired entries, then, if still full, is
// emptied (cheap, and the next calls simply verify again). Thread-safe; the
// shards keep concurrent callers off one lock.
class VerifiedTokenCache final {
 public:
  explicit VerifiedTokenCache(size_t capacity = 10000, int64_t leeway_seconds = 30);

  // The identity of a cached token that is still within its lifetime, or
  // nullptr.
  std::shared_ptr<const Identity> Find(std::string_view token, int64_t now_unix_seconds) const;

  // Remembers a token that the verifier accepted. A capacity of 0 disables
  // the cache.
  void Insert(std::string_view token, std::shared_ptr<const Identity> identity,
              int64_t now_unix_seconds);

  size_t size() const;

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mutex;
    absl::flat_hash_map<std::string, std::shared_ptr<const Identity>> entries;
  };

  Shard& ShardFor(std::string_view token) const;

  // min(kShards, capacity) shards of capacity / shard_count_ entries each,
  // so the shards together never hold more than `capacity`.
  const size_t shard_count_;
  const size_t capacity_per_shard_;
  const int64_t leeway_seconds_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace tollgate
