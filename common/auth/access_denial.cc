#include "common/auth/access_denial.h"

#include <string_view>

#include "absl/strings/str_cat.h"

namespace tollgate {
namespace {

// "/tollgate.sum.v1.SumService/GetUsage" -> "tollgate.sum.v1.SumService/GetUsage",
// the spelling grpcurl users type.
std::string_view MethodName(const std::string& path) {
  std::string_view name = path;
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  return name;
}

constexpr bool IndexedByValue() {
  for (size_t i = 0; i < kDenialReasonCount; ++i) {
    if (static_cast<size_t>(kAllDenialReasons[i]) != i) return false;
  }
  return true;
}
static_assert(IndexedByValue(), "kAllDenialReasons must list every reason in order");

}  // namespace

std::string_view DenialReasonName(AccessDenial::Reason reason) {
  using Reason = AccessDenial::Reason;
  switch (reason) {
    case Reason::kMissingAuthorization: return "missing_authorization";
    case Reason::kMalformedAuthorization: return "malformed_authorization";
    case Reason::kInvalidToken: return "invalid_token";
    case Reason::kMissingRole: return "missing_role";
    case Reason::kMethodNotInPolicy: return "method_not_in_policy";
  }
  return "unknown";
}

std::string_view DenialReasonName(const AccessDenial& denial) {
  if (denial.reason == AccessDenial::Reason::kInvalidToken) return TokenErrorName(denial.token_error);
  return DenialReasonName(denial.reason);
}

grpc::Status ToGrpcStatus(const AccessDenial& denial) {
  using Reason = AccessDenial::Reason;
  switch (denial.reason) {
    case Reason::kMissingAuthorization:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "authorization metadata is required: send 'authorization: Bearer <token>'");
    case Reason::kMalformedAuthorization:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "invalid authorization format: use 'authorization: Bearer <token>'");
    case Reason::kInvalidToken:
      if (denial.token_error == TokenError::kExpired) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token expired");
      }
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "invalid token: " + std::string(ToString(denial.token_error)));
    case Reason::kMissingRole:
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "method " + std::string(MethodName(denial.method)) + " requires role '" + denial.role + "'");
    case Reason::kMethodNotInPolicy:
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "method " + std::string(MethodName(denial.method)) + " is not in the access policy");
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "denied");
}

std::string WwwAuthenticate(const AccessDenial& denial) {
  const grpc::Status status = ToGrpcStatus(denial);
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    return absl::StrCat("Bearer error=\"invalid_token\", error_description=\"",
                        status.error_message(), "\"");
  }
  if (denial.reason == AccessDenial::Reason::kMissingRole) {
    return absl::StrCat("Bearer error=\"insufficient_scope\", error_description=\"",
                        status.error_message(), "\"");
  }
  return "";
}

}  // namespace tollgate
