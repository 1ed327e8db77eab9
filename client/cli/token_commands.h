#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "client/cli/command_line.h"
#include "common/token/access_token_verifier.h"
#include "common/token/jwk_set.h"

namespace tollgate::cli {

// The options of `tollgate token verify`.
struct TokenVerifyOptions {
  std::string jwks;                      // --jwks: a JWK Set file or an http(s):// URL
  AccessTokenVerifierOptions verifier;   // --iss, --aud, --leeway (defaults: the services')
  int64_t now_unix_seconds = 0;          // --now, else the clock
  bool jws_only = false;                 // --jws-only

  // INVALID_ARGUMENT, the usage error of `token verify`, for a --now or
  // --leeway that is not a whole number in range, and for --iss, --aud,
  // --now or --leeway together with --jws-only (it checks no claims).
  [[nodiscard]] static absl::StatusOr<TokenVerifyOptions> FromCommandLine(
      const CommandLine& command_line, int64_t clock_now_unix_seconds);
};

// `tollgate token inspect`: decodes `token` WITHOUT verifying anything and
// writes to `out` a first line saying so, then the header and the claims
// pretty-printed, then exp, iat and nbf as UTC dates relative to
// `now_unix_seconds`. A payload that is not a JSON object is shown as a
// JSON string. Returns kExitSuccess; kExitFailure with one line on `err`
// ("tollgate: token inspect: malformed: ...") when `token` is not a
// compact JWS whose header is a JSON object.
int InspectToken(std::string_view token, int64_t now_unix_seconds, std::ostream& out,
                 std::ostream& err);

// `tollgate token verify` with its keys loaded: the checks of the services'
// interceptor (AccessTokenVerifier), or with jws_only those of the JWS alone
// (JwsVerifyCompactBytes, any typ, any payload).
// - Valid: kExitSuccess; on `out` the claims as one line of JSON, or with
//   jws_only {"header":{...},"payload":"<text>"} ("payload_base64url"
//   instead when the payload is not UTF-8).
// - Invalid: kExitFailure; on `err` one line
//   "tollgate: token verify: <TokenErrorName>: <what was wrong>", nothing
//   on `out`.
int VerifyToken(std::string_view token, const TokenVerifyOptions& options, const JwkSet& keys,
                std::ostream& out, std::ostream& err);

}  // namespace tollgate::cli
