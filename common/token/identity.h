#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace tollgate {

class AccessTokenVerifier;

// Who the caller is, as proven by a verified access token. Only
// AccessTokenVerifier creates one, so holding an Identity means a token was
// verified: handlers never see raw tokens or client-sent claims.
class Identity {
 public:
  const std::string& subject() const { return subject_; }
  const std::string& email() const { return email_; }
  const std::vector<std::string>& roles() const { return roles_; }
  const std::string& token_id() const { return token_id_; }
  int64_t expires_at_unix_seconds() const { return expires_at_unix_seconds_; }

  bool HasRole(std::string_view role) const {
    return std::find(roles_.begin(), roles_.end(), role) != roles_.end();
  }

 private:
  friend class AccessTokenVerifier;
  Identity() = default;

  std::string subject_;
  std::string email_;
  std::vector<std::string> roles_;
  std::string token_id_;
  int64_t expires_at_unix_seconds_ = 0;
};

}  // namespace tollgate
