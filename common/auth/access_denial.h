#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>

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

// Every AccessDenial::Reason in declaration order (kAllDenialReasons[i] has
// the value i), for code that keeps one entry per reason.
inline constexpr AccessDenial::Reason kAllDenialReasons[] = {
    AccessDenial::Reason::kMissingAuthorization, AccessDenial::Reason::kMalformedAuthorization,
    AccessDenial::Reason::kInvalidToken, AccessDenial::Reason::kMissingRole,
    AccessDenial::Reason::kMethodNotInPolicy,
};
inline constexpr size_t kDenialReasonCount = std::size(kAllDenialReasons);

// A denial as one stable snake_case word, the `reason` of metrics and logs:
// "missing_authorization", "malformed_authorization", "missing_role",
// "method_not_in_policy", and for an invalid token its TokenErrorName
// ("expired", "bad_signature", "unknown_kid", ...) rather than one
// "invalid_token": an expired token (a client that does not refresh) and a
// bad signature (a forgery) call for different responses. At most 22 values.
std::string_view DenialReasonName(const AccessDenial& denial);
// The reason alone, in the same spelling ("invalid_token" for kInvalidToken,
// whatever the TokenError).
std::string_view DenialReasonName(AccessDenial::Reason reason);

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
