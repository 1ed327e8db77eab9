#pragma once

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "common/token/jwk_set.h"

namespace tollgate::cli {

// Where `tollgate token verify` gets its keys: a JWK Set file, or an
// http:// or https:// URL (AuthService serves its set at
// /.well-known/jwks.json on AUTH_HTTP_LISTEN).
//
// - A file may hold any key JwkSet::FromJson accepts, an oct (HS256)
//   secret included: a verifier may be handed a shared secret.
// - A fetched set may not hold an oct key (INVALID_ARGUMENT): a secret
//   served over HTTP is public, and whoever read it could mint tokens that
//   verify.
// - A fetch is one GET with `timeout` for connecting and for reading;
//   only status 200 is accepted and redirects are not followed. https://
//   checks the server's certificate against `ca_file`, or the system's CAs
//   when `ca_file` is empty.
//
// Errors name the source: NOT_FOUND (no such file), UNAVAILABLE (the file
// cannot be read, the fetch failed or answered another status),
// INVALID_ARGUMENT (a URL that cannot be used, or not a usable JWK Set).
[[nodiscard]] absl::StatusOr<JwkSet> LoadJwkSet(const std::string& file_or_url,
                                                std::chrono::seconds timeout,
                                                const std::string& ca_file);

}  // namespace tollgate::cli
