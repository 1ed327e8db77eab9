#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth_service/store/user_record.h"

namespace tollgate::auth {

// What a successful Refresh yields: the user (for the new access token and
// the reply) and when the successor expires.
struct RotatedSession {
  UserRecord user;
  int64_t refresh_expires_at = 0;
};

// Login sessions: a refresh token family per login, rotated on every
// Refresh (SPEC section 4). Tokens are passed as the hex SHA-256 only.
//
// Codes: UNAVAILABLE when the database is unreachable, UNAUTHENTICATED
// "invalid refresh token" for every refresh token that must not be
// honoured, INTERNAL otherwise.
class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // Starts a login session (a refresh family) with its first token. Returns
  // the token's expiry.
  [[nodiscard]] virtual absl::StatusOr<int64_t> StartSession(const std::string& user_id,
                                                             const NewSession& session,
                                                             int64_t now) = 0;

  // Spends `token_hash_hex` and records `successor_hash_hex`, exactly once
  // however many callers race, also across replicas. A caller that lost the
  // race, or retries within the grace window while the successor is unused,
  // gets the same session back (it then returns the same successor it
  // derived). A spent token past that is reuse: the whole family is revoked.
  [[nodiscard]] virtual absl::StatusOr<RotatedSession> Rotate(
      const std::string& token_hash_hex, const std::string& successor_hash_hex, int64_t now,
      const RefreshLifetimes& lifetimes) = 0;

  // Revokes the token's family, or every family of its user. OK for unknown
  // tokens (RFC 7009).
  [[nodiscard]] virtual absl::Status RevokeSessions(const std::string& token_hash_hex,
                                                    bool all_sessions, int64_t now) = 0;
};

}  // namespace tollgate::auth
