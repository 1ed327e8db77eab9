#pragma once

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/session/saved_tokens.h"

namespace tollgate::client {

// Where a Session keeps its token pair between refreshes, and between runs
// of a program: the refresh token is spent by every Refresh, so the new pair
// must be kept before it is used, or the session is lost.
//
// Two implementations: InMemoryTokenStore (the pair lives as long as the
// process) and FileTokenStore (a 0600 JSON file, shared by every process
// that names it, such as successive runs of the `tollgate` CLI).
//
// Implementations are thread-safe.
class TokenStore {
 public:
  virtual ~TokenStore() = default;

  // The saved pair; NOT_FOUND when there is none (never saved, or
  // cleared). Other codes say why the store cannot be read.
  [[nodiscard]] virtual absl::StatusOr<SavedTokens> Load() = 0;

  // Replaces the saved pair.
  [[nodiscard]] virtual absl::Status Save(const SavedTokens& tokens) = 0;

  // Forgets the pair (after Logout); OK when there is none.
  [[nodiscard]] virtual absl::Status Clear() = 0;

  // Held while a Session spends the saved refresh token. Everything that
  // shares the store (other Sessions, other processes for a file) takes the
  // same lock and re-reads the store under it, so two of them never spend
  // one refresh token: the server would take the second for a stolen token
  // replayed, and end the whole session. Released when destroyed.
  class Lock {
   public:
    virtual ~Lock() = default;
  };
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<Lock>> LockForRefresh() = 0;
};

}  // namespace tollgate::client
