#pragma once

#include <memory>
#include <mutex>
#include <optional>

#include "client/session/token_store.h"

namespace tollgate::client {

// A TokenStore in memory: the pair lives as long as this object. For
// programs that log in at start and need no session after a restart, and for
// tests. Several Sessions may share one; LockForRefresh is a mutex.
class InMemoryTokenStore final : public TokenStore {
 public:
  InMemoryTokenStore() = default;
  // Starts with `tokens` saved (a pair, or SavedTokens::FromRefreshToken).
  explicit InMemoryTokenStore(SavedTokens tokens);

  [[nodiscard]] absl::StatusOr<SavedTokens> Load() override;
  [[nodiscard]] absl::Status Save(const SavedTokens& tokens) override;
  [[nodiscard]] absl::Status Clear() override;
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Lock>> LockForRefresh() override;

 private:
  std::mutex mutex_;
  std::optional<SavedTokens> tokens_;  // guarded by mutex_
  std::mutex refresh_mutex_;           // what LockForRefresh holds
};

}  // namespace tollgate::client
