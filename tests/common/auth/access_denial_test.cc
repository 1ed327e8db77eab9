// The one mapping from a denial to what the client sees (SPEC section 3):
// exact codes, exact messages, and the RFC 6750 challenge.
#include "common/auth/access_denial.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <string_view>

namespace tollgate {
namespace {

using Reason = AccessDenial::Reason;

constexpr char kGetUsage[] = "/tollgate.sum.v1.SumService/GetUsage";

AccessDenial Denial(Reason reason, TokenError token_error = TokenError::kMalformed) {
  AccessDenial denial;
  denial.reason = reason;
  denial.token_error = token_error;
  denial.method = kGetUsage;
  if (reason == Reason::kMissingRole) denial.role = "admin";
  return denial;
}

void ExpectStatus(const AccessDenial& denial, grpc::StatusCode code, const std::string& message) {
  const grpc::Status status = ToGrpcStatus(denial);
  EXPECT_EQ(status.error_code(), code);
  EXPECT_EQ(status.error_message(), message);
}

TEST(AccessDenialTest, MissingAuthorizationIsUnauthenticated) {
  ExpectStatus(Denial(Reason::kMissingAuthorization), grpc::StatusCode::UNAUTHENTICATED,
               "authorization metadata is required: send 'authorization: Bearer <token>'");
}

TEST(AccessDenialTest, MalformedAuthorizationIsUnauthenticated) {
  ExpectStatus(Denial(Reason::kMalformedAuthorization), grpc::StatusCode::UNAUTHENTICATED,
               "invalid authorization format: use 'authorization: Bearer <token>'");
}

TEST(AccessDenialTest, InvalidTokenNamesTheReason) {
  ExpectStatus(Denial(Reason::kInvalidToken, TokenError::kBadSignature),
               grpc::StatusCode::UNAUTHENTICATED, "invalid token: bad signature");
  ExpectStatus(Denial(Reason::kInvalidToken, TokenError::kUnknownKid),
               grpc::StatusCode::UNAUTHENTICATED, "invalid token: unknown key id");
  ExpectStatus(Denial(Reason::kInvalidToken, TokenError::kMalformed),
               grpc::StatusCode::UNAUTHENTICATED, "invalid token: malformed token");
  ExpectStatus(Denial(Reason::kInvalidToken, TokenError::kWrongAudience),
               grpc::StatusCode::UNAUTHENTICATED, "invalid token: wrong audience");
}

TEST(AccessDenialTest, ExpiredTokenHasItsOwnMessage) {
  ExpectStatus(Denial(Reason::kInvalidToken, TokenError::kExpired),
               grpc::StatusCode::UNAUTHENTICATED, "token expired");
}

TEST(AccessDenialTest, MissingRoleIsPermissionDeniedWithMethodAndRole) {
  ExpectStatus(Denial(Reason::kMissingRole), grpc::StatusCode::PERMISSION_DENIED,
               "method tollgate.sum.v1.SumService/GetUsage requires role 'admin'");
}

TEST(AccessDenialTest, MethodNotInPolicyIsPermissionDenied) {
  ExpectStatus(Denial(Reason::kMethodNotInPolicy), grpc::StatusCode::PERMISSION_DENIED,
               "method tollgate.sum.v1.SumService/GetUsage is not in the access policy");
}

TEST(AccessDenialTest, EveryTokenErrorIsUnauthenticated) {
  // Whatever the verifier says, a refused token never identifies the caller.
  for (int e = static_cast<int>(TokenError::kTooLarge);
       e <= static_cast<int>(TokenError::kNotYetValid); ++e) {
    const auto error = static_cast<TokenError>(e);
    const grpc::Status status = ToGrpcStatus(Denial(Reason::kInvalidToken, error));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ToString(error);
    EXPECT_NE(status.error_message().find(std::string(ToString(error))), std::string::npos)
        << status.error_message();
  }
}

TEST(AccessDenialTest, ChallengeForMissingAuthorization) {
  EXPECT_EQ(WwwAuthenticate(Denial(Reason::kMissingAuthorization)),
            "Bearer error=\"invalid_token\", error_description=\"authorization metadata is "
            "required: send 'authorization: Bearer <token>'\"");
}

TEST(AccessDenialTest, ChallengeForMalformedAuthorization) {
  EXPECT_EQ(WwwAuthenticate(Denial(Reason::kMalformedAuthorization)),
            "Bearer error=\"invalid_token\", error_description=\"invalid authorization format: "
            "use 'authorization: Bearer <token>'\"");
}

TEST(AccessDenialTest, ChallengeForInvalidToken) {
  EXPECT_EQ(WwwAuthenticate(Denial(Reason::kInvalidToken, TokenError::kBadSignature)),
            "Bearer error=\"invalid_token\", error_description=\"invalid token: bad signature\"");
}

TEST(AccessDenialTest, ChallengeForExpiredToken) {
  EXPECT_EQ(WwwAuthenticate(Denial(Reason::kInvalidToken, TokenError::kExpired)),
            "Bearer error=\"invalid_token\", error_description=\"token expired\"");
}

TEST(AccessDenialTest, ChallengeForMissingRoleIsInsufficientScope) {
  EXPECT_EQ(WwwAuthenticate(Denial(Reason::kMissingRole)),
            "Bearer error=\"insufficient_scope\", error_description=\"method "
            "tollgate.sum.v1.SumService/GetUsage requires role 'admin'\"");
}

TEST(AccessDenialTest, NoChallengeForMethodNotInPolicy) {
  EXPECT_EQ(WwwAuthenticate(Denial(Reason::kMethodNotInPolicy)), "");
}

TEST(AccessDenialTest, ChallengesNeverNeedQuoting) {
  // RFC 6750 section 3: error_description must not contain '"' or '\'. The
  // messages are fixed text, so check every one that can be produced.
  for (int e = static_cast<int>(TokenError::kTooLarge);
       e <= static_cast<int>(TokenError::kNotYetValid); ++e) {
    const std::string description =
        ToGrpcStatus(Denial(Reason::kInvalidToken, static_cast<TokenError>(e))).error_message();
    EXPECT_EQ(description.find_first_of("\"\\"), std::string::npos) << description;
    for (char c : description) {
      EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << description;
    }
  }
}

// ---- DenialReasonName: the `reason` of metrics and logs ----

TEST(AccessDenialTest, ReasonNamesAreStableSnakeCaseWords) {
  EXPECT_EQ(DenialReasonName(Denial(Reason::kMissingAuthorization)), "missing_authorization");
  EXPECT_EQ(DenialReasonName(Denial(Reason::kMalformedAuthorization)), "malformed_authorization");
  EXPECT_EQ(DenialReasonName(Denial(Reason::kMissingRole)), "missing_role");
  EXPECT_EQ(DenialReasonName(Denial(Reason::kMethodNotInPolicy)), "method_not_in_policy");
  EXPECT_EQ(DenialReasonName(Reason::kInvalidToken), "invalid_token");
}

TEST(AccessDenialTest, AnInvalidTokenIsNamedByItsTokenError) {
  const std::map<TokenError, std::string> expected = {
      {TokenError::kTooLarge, "too_large"},
      {TokenError::kMalformed, "malformed"},
      {TokenError::kDuplicateMember, "duplicate_member"},
      {TokenError::kUnsecuredAlgorithm, "unsecured_algorithm"},
      {TokenError::kUnsupportedAlgorithm, "unsupported_algorithm"},
      {TokenError::kAlgorithmMismatch, "algorithm_mismatch"},
      {TokenError::kUnknownKid, "unknown_kid"},
      {TokenError::kEmbeddedKey, "embedded_key"},
      {TokenError::kUnknownCritical, "unknown_critical"},
      {TokenError::kWrongType, "wrong_type"},
      {TokenError::kBadSignature, "bad_signature"},
      {TokenError::kWrongIssuer, "wrong_issuer"},
      {TokenError::kWrongAudience, "wrong_audience"},
      {TokenError::kMissingClaim, "missing_claim"},
      {TokenError::kInvalidClaim, "invalid_claim"},
      {TokenError::kInvalidTimeClaim, "invalid_time_claim"},
      {TokenError::kExpired, "expired"},
      {TokenError::kNotYetValid, "not_yet_valid"},
  };
  ASSERT_EQ(expected.size(), kTokenErrorCount);
  std::set<std::string_view> names;
  for (TokenError error : kAllTokenErrors) {
    EXPECT_EQ(DenialReasonName(Denial(Reason::kInvalidToken, error)), expected.at(error));
    EXPECT_EQ(TokenErrorName(error), expected.at(error));
    names.insert(TokenErrorName(error));
  }
  // Distinct from each other and from the other reasons' names.
  for (Reason reason : kAllDenialReasons) names.insert(DenialReasonName(reason));
  EXPECT_EQ(names.size(), kTokenErrorCount + kDenialReasonCount);
}

}  // namespace
}  // namespace tollgate
