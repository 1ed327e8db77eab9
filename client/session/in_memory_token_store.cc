#include "client/session/in_memory_token_store.h"

#include <utility>

namespace tollgate::client {
namespace {

class MutexLock final : public TokenStore::Lock {
 public:
  explicit MutexLock(std::mutex& mutex) : lock_(mutex) {}

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace

InMemoryTokenStore::InMemoryTokenStore(SavedTokens tokens) : tokens_(std::move(tokens)) {}

absl::StatusOr<SavedTokens> InMemoryTokenStore::Load() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!tokens_.has_value()) return absl::NotFoundError("no token pair in memory");
  return *tokens_;
}

absl::Status InMemoryTokenStore::Save(const SavedTokens& tokens) {
  std::lock_guard<std::mutex> lock(mutex_);
  tokens_ = tokens;
  return absl::OkStatus();
}

absl::Status InMemoryTokenStore::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  tokens_.reset();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TokenStore::Lock>> InMemoryTokenStore::LockForRefresh() {
  return std::make_unique<MutexLock>(refresh_mutex_);
}

}  // namespace tollgate::client
