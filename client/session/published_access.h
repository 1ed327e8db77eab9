#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace tollgate::client {

// The authorization a Session's credentials may attach without asking the
// Session, so that a call whose token is not due costs no lock and no
// write to memory that other threads share (on a busy client, two such
// writes per call bounce a cache line between cores and cost more than
// the rest of the credentials' work).
//
// Contract:
// - Publish and Withdraw are called by the Session under its own lock,
//   one at a time.
// - CopyIfUsable may be called from any number of threads. It answers from
//   a per-thread copy of the published value, refreshed under a mutex only
//   after the value changed, so in the steady state it reads two atomics.
//   false when nothing usable is published at `now_millis`: the caller asks
//   the Session (which refreshes, waits or fails as its contract says).
class PublishedAccess final {
 public:
  PublishedAccess();
  PublishedAccess(const PublishedAccess&) = delete;
  PublishedAccess& operator=(const PublishedAccess&) = delete;

  // `authorization` may be used by calls that start before
  // `usable_until_millis` (the token's refresh due time).
  void Publish(const std::string& authorization, int64_t usable_until_millis);
  // Nothing may be used any more (the session ended).
  void Withdraw();

  [[nodiscard]] bool UsableAt(int64_t now_millis) const {
    return now_millis < usable_until_millis_.load(std::memory_order_acquire);
  }
  [[nodiscard]] bool CopyIfUsable(int64_t now_millis, std::string* authorization) const;

 private:
  // Unique over the process's life (per-thread copies are keyed by it, not
  // by address, which a later instance may reuse).
  const uint64_t id_;
  // Written in this order: version_ (under mutex_), then
  // usable_until_millis_; read in the opposite order, so a reader that sees
  // a new deadline also sees the new version and refreshes its copy.
  std::atomic<uint64_t> version_{0};
  std::atomic<int64_t> usable_until_millis_{0};
  mutable std::mutex mutex_;
  std::string authorization_;  // guarded by mutex_
};

}  // namespace tollgate::client
