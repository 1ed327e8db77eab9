#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "common/token/identity.h"
#include "common/token/jwk_set.h"

namespace tollgate {

// Tokens that already passed full verification, so a client that sends the
// same token on every call pays for one signature check, not one per call.
//
// Keyed by the exact token bytes (a token that differs in one byte is a
// different key and is verified from scratch). An entry is only returned
// while `now < expires_at + leeway`, the same rule the verifier applies, so
// caching never extends a token's life. An entry also remembers the version
// of the key set it was verified with (KeySource::version()) and is only
// returned while that version is current: withdrawing a key (say, a
// compromised one) from the JWKS ends its cached tokens at once, on every
// server, not at their exp.
//
// Two levels. The shared one: bounded, at most `capacity` entries; a full
// shard first drops its expired entries, then, if still full, is emptied
// (cheap, and the next calls simply verify again); the shards keep
// concurrent callers off one lock. In front of it, each thread keeps the
// last few tokens it found, with its own copy of their identities: the
// calls of one busy client all show the same token, and on the shared
// level they would all take the same shard's lock and the same identity's
// reference count, cache lines that move between the cores on every call.
// A thread's entries follow the same two rules, and are dropped when their
// cache is destroyed (its id is never reused). Thread-safe.
class VerifiedTokenCache final {
 public:
  explicit VerifiedTokenCache(size_t capacity = 10000, int64_t leeway_seconds = 30);

  // The identity of a cached token that is still within its lifetime and
  // was verified with the keys of `keys_version`, or nullptr.
  std::shared_ptr<const Identity> Find(std::string_view token, int64_t now_unix_seconds,
                                       uint64_t keys_version) const;

  // Remembers a token that the verifier accepted with the keys of
  // `keys_version`. A capacity of 0 disables the cache.
  void Insert(std::string_view token, std::shared_ptr<const Identity> identity,
              int64_t now_unix_seconds, uint64_t keys_version);

  // Entries on the shared level.
  size_t size() const;

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    std::shared_ptr<const Identity> identity;
    uint64_t keys_version;
  };
  // The token's hash is computed once per call and serves both the shard
  // choice and the map (whose hasher just returns it).
  struct Key {
    size_t hash;
    std::string token;
  };
  struct KeyView {
    size_t hash;
    std::string_view token;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const Key& key) const { return key.hash; }
    size_t operator()(const KeyView& key) const { return key.hash; }
  };
  struct KeyEq {
    using is_transparent = void;
    static KeyView View(const Key& key) { return {key.hash, key.token}; }
    static KeyView View(const KeyView& key) { return key; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a).hash == View(b).hash && View(a).token == View(b).token;
    }
  };
  struct Shard {
    mutable std::mutex mutex;
    absl::flat_hash_map<Key, Entry, KeyHash, KeyEq> entries;
  };

  static size_t HashOf(std::string_view token);
  Shard& ShardFor(size_t hash) const;
  bool Usable(const Identity& identity, uint64_t verified_with, int64_t now_unix_seconds,
              uint64_t keys_version) const {
    return now_unix_seconds < identity.expires_at_unix_seconds() + leeway_seconds_ &&
           verified_with == keys_version;
  }
  // The thread's own level: the entry of `token`, or null; a copy of
  // `identity` for the calling thread.
  std::shared_ptr<const Identity> FindOnThisThread(std::string_view token, int64_t now_unix_seconds,
                                                   uint64_t keys_version) const;
  void KeepOnThisThread(std::string_view token, const Identity& identity,
                        uint64_t keys_version) const;

  const uint64_t id_;  // names this cache in the threads' entries
  // min(kShards, capacity) shards of capacity / shard_count_ entries each,
  // so the shards together never hold more than `capacity`.
  const size_t shard_count_;
  const size_t capacity_per_shard_;
  const int64_t leeway_seconds_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace tollgate
