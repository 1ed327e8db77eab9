#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "common/token/token_error.h"

namespace tollgate {

// Why the interceptor refused a call. The first three could not identify the
// caller (UNAUTHENTICATED); the last two identified the caller, or did not
// need to, and still refuse (PERMISSION_DENIED).
struct AccessDenial {
  enum class Reason {
    kMissingAuthorization,    // no `authorization` metadata
    kMalformedAuthorization,  // not exactly one "Bearer <token>" of sane size
    kInvalidToken,            // the token failed verification: see token_error
    kMissingRole,             // valid token without the method's role
    kMethodNotInPolicy,       // no (tollgate.access) option: deny by default
  };
  Reason reason = Reason::kMissingAuthorization;
  TokenError token_error = TokenError::kMalformed;  // for kInvalidToken
  std::string method;  // "/pkg.Service/Method"
  std::string role;    // for kMissingRole
};

// The one place that turns a denial into what the client sees (SPEC section
// 3). UNAUTHENTICATED only when the caller could not be identified;
// PERMISSION_DENIED never reveals more than the method and the role.
grpc::Status ToGrpcStatus(const AccessDenial& denial);

// The RFC 6750 section 3 challenge for the `www-authenticate` trailer:
// `Bearer error="invalid_token", error_description="..."` for every
// UNAUTHENTICATED, `Bearer error="insufficient_scope", ...` for a missing
// role, empty for a method outside the policy.
std::string WwwAuthenticate(const AccessDenial& denial);

}  // namespace tollgate
