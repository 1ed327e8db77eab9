#include "common/auth/verified_token_cache.h"

#include <algorithm>
#include <atomic>

#include "absl/hash/hash.h"

namespace tollgate {
namespace {

// A thread's own entries: a handful, because one thread serves many
// clients in turn and a busy client's token should survive a few others.
constexpr size_t kThreadEntries = 4;

struct ThreadEntry {
  uint64_t cache_id = 0;  // 0: empty
  uint64_t keys_version = 0;
  std::string token;
  std::shared_ptr<const Identity> identity;  // this thread's own copy
};

struct ThreadEntries {
  std::array<ThreadEntry, kThreadEntries> entries;
  size_t next = 0;  // the slot the next entry takes
};

ThreadEntries& ThisThreadsEntries() {
  thread_local ThreadEntries entries;
  return entries;
}

std::atomic<uint64_t> next_cache_id{1};

}  // namespace

VerifiedTokenCache::VerifiedTokenCache(size_t capacity, int64_t leeway_seconds)
    : id_(next_cache_id.fetch_add(1, std::memory_order_relaxed)),
      shard_count_(capacity == 0 ? 1 : std::min(capacity, kShards)),
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

std::shared_ptr<const Identity> VerifiedTokenCache::FindOnThisThread(
    std::string_view token, int64_t now_unix_seconds, uint64_t keys_version) const {
  for (ThreadEntry& entry : ThisThreadsEntries().entries) {
    if (entry.cache_id != id_ || entry.token != token) continue;
    if (Usable(*entry.identity, entry.keys_version, now_unix_seconds, keys_version)) {
      return entry.identity;
    }
    entry = ThreadEntry{};  // the shared level drops its entry too
    return nullptr;
  }
  return nullptr;
}

void VerifiedTokenCache::KeepOnThisThread(std::string_view token, const Identity& identity,
                                          uint64_t keys_version) const {
  ThreadEntries& own = ThisThreadsEntries();
  ThreadEntry& entry = own.entries[own.next];
  own.next = (own.next + 1) % kThreadEntries;
  entry.cache_id = id_;
  entry.keys_version = keys_version;
  entry.token.assign(token);
  entry.identity = std::make_shared<const Identity>(identity);
}

std::shared_ptr<const Identity> VerifiedTokenCache::Find(std::string_view token,
                                                         int64_t now_unix_seconds,
                                                         uint64_t keys_version) const {
  if (capacity_per_shard_ == 0) return nullptr;
  if (auto own = FindOnThisThread(token, now_unix_seconds, keys_version)) return own;

  const KeyView key{HashOf(token), token};
  Shard& shard = ShardFor(key.hash);
  std::shared_ptr<const Identity> found;
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.entries.find(key);
    if (it == shard.entries.end()) return nullptr;
    // The same expiry rule as the verifier: a cached token never outlives
    // exp; and a key set that changed may have withdrawn the token's key.
    if (!Usable(*it->second.identity, it->second.keys_version, now_unix_seconds, keys_version)) {
      shard.entries.erase(it);
      return nullptr;
    }
    found = it->second.identity;
  }
  KeepOnThisThread(token, *found, keys_version);
  return found;
}

void VerifiedTokenCache::Insert(std::string_view token, std::shared_ptr<const Identity> identity,
                                int64_t now_unix_seconds, uint64_t keys_version) {
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
                                 Entry{std::move(identity), keys_version});
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
