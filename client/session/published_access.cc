#include "client/session/published_access.h"

namespace tollgate::client {
namespace {

std::atomic<uint64_t> next_id{1};

// One thread's copy of the value it last read from a PublishedAccess.
struct ThreadCopy {
  uint64_t id = 0;
  uint64_t version = 0;
  std::string authorization;
};

}  // namespace

PublishedAccess::PublishedAccess() : id_(next_id.fetch_add(1, std::memory_order_relaxed)) {}

void PublishedAccess::Publish(const std::string& authorization, int64_t usable_until_millis) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    authorization_ = authorization;
    version_.fetch_add(1, std::memory_order_release);
  }
  usable_until_millis_.store(usable_until_millis, std::memory_order_release);
}

void PublishedAccess::Withdraw() {
  usable_until_millis_.store(0, std::memory_order_release);
  std::lock_guard<std::mutex> lock(mutex_);
  authorization_.clear();
  version_.fetch_add(1, std::memory_order_release);
}

bool PublishedAccess::CopyIfUsable(int64_t now_millis, std::string* authorization) const {
  if (!UsableAt(now_millis)) return false;
  thread_local ThreadCopy copy;
  if (copy.id != id_ || copy.version != version_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Withdrawn since the deadline was read: ask the Session.
    if (authorization_.empty()) return false;
    copy.id = id_;
    copy.version = version_.load(std::memory_order_relaxed);
    copy.authorization = authorization_;
  }
  *authorization = copy.authorization;
  return true;
}

}  // namespace tollgate::client
