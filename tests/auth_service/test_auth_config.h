#pragma once

#include <string>

#include "auth_service/auth_config.h"

namespace tollgate::auth {

// An AuthConfig for in-process tests: 127.0.0.1:0, an HS256 key, short
// lifetimes, and small Argon2 parameters (tests hash a lot). No mail, no
// janitor; tests set what they exercise.
inline AuthConfig TestAuthConfig(const std::string& database_url) {
  AuthConfig config;
  config.listen_address = "127.0.0.1:0";
  config.database_url = database_url;
  config.jwt_secret_key = std::string(32, 's');
  config.token_issuer = "tollgate";
  config.token_audience = "tollgate";
  config.token_leeway_seconds = 30;
  config.access_ttl_seconds = 900;
  config.refresh_idle_ttl_seconds = 3600;
  config.session_ttl_seconds = 4 * 3600;
  config.refresh_grace_seconds = 10;
  config.argon2_memory_kib = 8192;
  config.argon2_iterations = 1;
  config.hash_threads = 2;
  config.hash_queue = 64;
  config.database_pool_size = 4;
  config.reset_ttl_seconds = 1800;
  config.verify_ttl_seconds = 86400;
  config.grantable_roles = {"user", "admin"};
  config.mail_from = "no-reply@tollgate.test";
  config.mail_poll_interval_seconds = 1;
  return config;
}

}  // namespace tollgate::auth
