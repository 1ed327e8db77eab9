#include "common/auth/verified_token_cache.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace tollgate {

VerifiedTokenCache::VerifiedTokenCache(size_t capacity, int64_t leeway_seconds)
    : shard_count_(capacity == 0 ? 1 : std::min(capacity, kShards)),
      // Rounded down: rounding up let 16 shards hold up to 15 entries more
      // than `capacity` (16 for a capacity of 1).
      capacity_per_shard_(capacity / shard_count_),
      leeway_seconds_(leeway_seconds) {}

size_t VerifiedTokenCache::HashOf(std::string_view token) {
  return absl::HashOf(absl::string_view(token.data(), token.size()));
}

VerifiedTokenCache::Shard& VerifiedTokenCache::ShardFor(size_t hash) const {
  // The top bits: the map itself uses the low ones to place entries.
  return shards_[(hash >> 56) % shard_count_];
}

std::shared_ptr<const Identity> VerifiedTokenCache::Find(std::string_view token,
                                                         int64_t now_unix_seconds,
                                                         const JwkSet* current_keys) const {
  if (capacity_per_shard_ == 0) return nullptr;
  const KeyView key{HashOf(token), token};
  Shard& shard = ShardFor(key.hash);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) return nullptr;
  // The same expiry rule as the verifier: a cached token never outlives
  // exp; and a key set that changed may have withdrawn the token's key.
  if (now_unix_seconds >= it->second.identity->expires_at_unix_seconds() + leeway_seconds_ ||
      it->second.verified_with.get() != current_keys) {
    shard.entries.erase(it);
    return nullptr;
  }
  return it->second.identity;
}

void VerifiedTokenCache::Insert(std::string_view token, std::shared_ptr<const Identity> identity,
                                int64_t now_unix_seconds,
                                std::shared_ptr<const JwkSet> verified_with) {
  if (capacity_per_shard_ == 0) return;
  const size_t hash = HashOf(token);
  Shard& shard = ShardFor(hash);
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.entries.size() >= capacity_per_shard_) {
    absl::erase_if(shard.entries, [&](const auto& entry) {
      return now_unix_seconds >= entry.second.identity->expires_at_unix_seconds() + leeway_seconds_;
    });
    // Still full of live tokens (a flood of distinct valid tokens): start
    // over rather than keep an LRU list on the hot path.
    if (shard.entries.size() >= capacity_per_shard_) shard.entries.clear();
  }
  shard.entries.insert_or_assign(Key{hash, std::string(token)},
                                 Entry{std::move(identity), std::move(verified_with)});
}

size_t VerifiedTokenCache::size() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    total += shard.entries.size();
  }
  return total;
}

}  // namespace tollgate
