#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "absl/status/statusor.h"
#include "client/cli/command_line.h"
#include "client/cli/password_source.h"
#include "tollgate/auth/v1/auth.pb.h"
#include "tollgate/sum/v1/sum.pb.h"

namespace tollgate::cli {

// The mailed single-use codes start with these; anything else pasted in
// their place is a usage error before any call.
inline constexpr char kPasswordResetCodePrefix[] = "tgp_";
inline constexpr char kEmailVerificationCodePrefix[] = "tge_";

// Turns a parsed command line into the request message of its RPC. Every
// error is a usage error: INVALID_ARGUMENT with the one-line message
// "<command>: <problem> (see 'tollgate <command> --help')", e.g.
//   sum: A: '12x' is not an integer
//   sum: B: '9223372036854775808' is out of the int64 range
//   set-active: expected true or false, got 'yes'
//   password reset: CODE: expected the tgp_... code from the password reset
//     mail, got 'abc'
// Only the shape is checked here (numbers, required fields, code prefixes);
// what the values mean (an unknown role, an expired code) the server judges.
// Requests whose fields come only from the token file (Refresh, Logout's
// token) are completed by the caller.
class RequestBuilder final {
 public:
  // `command_line` must be for the command whose request is built.
  RequestBuilder(const CommandLine& command_line, PasswordSource& passwords);

  [[nodiscard]] absl::StatusOr<auth::v1::RegisterRequest> Register();
  [[nodiscard]] absl::StatusOr<auth::v1::LoginRequest> Login();
  // all_sessions only; the refresh token comes from the token file.
  [[nodiscard]] auth::v1::LogoutRequest Logout();
  // Only the given fields are set; none at all is a usage error.
  [[nodiscard]] absl::StatusOr<auth::v1::UpdateProfileRequest> UpdateProfile();
  [[nodiscard]] absl::StatusOr<auth::v1::ChangePasswordRequest> ChangePassword();
  [[nodiscard]] absl::StatusOr<auth::v1::RequestPasswordResetRequest> RequestPasswordReset();
  // CODE must start with kPasswordResetCodePrefix.
  [[nodiscard]] absl::StatusOr<auth::v1::ResetPasswordRequest> ResetPassword();
  // CODE must start with kEmailVerificationCodePrefix.
  [[nodiscard]] absl::StatusOr<auth::v1::VerifyEmailRequest> VerifyEmail();
  // The first page to ask for (`users list --all` asks for the next ones
  // itself). --page-size must be an int32 of 0 or more.
  [[nodiscard]] absl::StatusOr<auth::v1::ListUsersRequest> ListUsers();
  [[nodiscard]] absl::StatusOr<auth::v1::SetUserRolesRequest> SetUserRoles();
  // `users activate` / `users deactivate`, or the older `set-active USER_ID
  // true|false` (exactly these two words).
  [[nodiscard]] absl::StatusOr<auth::v1::SetUserActiveRequest> SetUserActive();
  [[nodiscard]] absl::StatusOr<sum::v1::SumRequest> Sum();
  // The values of sum-stream: its arguments, or with the single argument
  // "-" one value per line of `in` (surrounding spaces and blank lines
  // ignored; errors name the line: "stdin line 3: 'x' is not an integer"). All
  // values are read before the call, so that it can be retried.
  [[nodiscard]] absl::StatusOr<std::vector<int64_t>> SumStreamValues(std::istream& in);

 private:
  absl::StatusOr<std::string> Password();
  absl::StatusOr<std::string> NewPassword();
  absl::StatusOr<int64_t> Int64Argument(size_t index);
  // Positional `index` if it starts with `prefix` and has more after it.
  absl::StatusOr<std::string> MailedCode(size_t index, absl::string_view prefix,
                                         absl::string_view mail);

  const CommandLine& command_line_;
  const CommandSpec& command_;
  PasswordSource& passwords_;
};

}  // namespace tollgate::cli
