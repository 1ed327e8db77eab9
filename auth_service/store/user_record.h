#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::auth {

// One row of `users`, as the service sees it. Never sent to a client as is:
// the password hash stays on the server (accounts/user_view.h makes the
// public view).
struct UserRecord {
  std::string id;
  std::string email;
  std::string email_key;
  std::string first_name;
  std::string last_name;
  std::string password_hash;
  std::vector<std::string> roles;
  bool is_active = true;
  bool is_verified = false;
  int64_t created_at = 0;
  int64_t updated_at = 0;

  bool HasRole(const std::string& role) const;
};

struct NewUser {
  std::string email;      // trimmed, as entered: what mail is sent to
  std::string email_key;  // EmailKey(email): the unique lookup key
  std::string first_name;
  std::string last_name;
  std::string password_hash;
  std::vector<std::string> roles;
};

// Where ListUsers resumes: after the user with this (created_at, id).
struct UserCursor {
  int64_t created_at = 0;
  std::string id;
};

// Lifetimes applied to refresh tokens, in seconds.
struct RefreshLifetimes {
  int64_t idle_seconds = 604800;
  int64_t session_seconds = 2592000;
  int64_t grace_seconds = 10;
};

// A login session started inside a store's transaction: the hash of its
// first refresh token goes in, the token's expiry comes out.
struct NewSession {
  std::string refresh_token_hash_hex;
  RefreshLifetimes lifetimes;
};

// True for a UUID as PostgreSQL prints it (lower-case hex, 8-4-4-4-12).
// Stores answer NOT_FOUND for anything else without asking the database,
// which would fail the cast.
bool IsCanonicalUuid(std::string_view id);

// A new account and the first refresh token of its first session.
struct CreatedUser {
  UserRecord user;
  int64_t refresh_expires_at = 0;
};

}  // namespace tollgate::auth
