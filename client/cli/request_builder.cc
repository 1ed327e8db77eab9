#include "client/cli/request_builder.h"

#include <istream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/cli/int_arguments.h"

namespace tollgate::cli {

RequestBuilder::RequestBuilder(const CommandLine& command_line, PasswordSource& passwords)
    : command_line_(command_line), command_(*command_line.command()), passwords_(passwords) {}

absl::StatusOr<std::string> RequestBuilder::Password() {
  absl::StatusOr<std::string> password = passwords_.Read(
      command_line_.Value("password"), "password", "TOLLGATE_PASSWORD",
      command_.rpc == "ChangePassword" ? "current password" : "password");
  if (!password.ok()) return command_.UsageError(password.status().message());
  return password;
}

absl::StatusOr<std::string> RequestBuilder::NewPassword() {
  absl::StatusOr<std::string> password = passwords_.Read(
      command_line_.Value("new-password"), "new-password", "TOLLGATE_NEW_PASSWORD",
      "new password");
  if (!password.ok()) return command_.UsageError(password.status().message());
  return password;
}

absl::StatusOr<int64_t> RequestBuilder::Int64Argument(size_t index) {
  const std::string& text = command_line_.positionals().at(index);
  absl::StatusOr<int64_t> value = ParseInt64(text);
  if (!value.ok()) {
    return command_.UsageError(
        absl::StrCat(command_.positionals.at(index), ": ", value.status().message()));
  }
  return value;
}

absl::StatusOr<std::string> RequestBuilder::MailedCode(size_t index, absl::string_view prefix,
                                                       absl::string_view mail) {
  const std::string& code = command_line_.positionals().at(index);
  if (!absl::StartsWith(code, prefix) || code.size() == prefix.size()) {
    return command_.UsageError(absl::StrCat(command_.positionals.at(index), ": expected the ",
                                            prefix, "... code from the ", mail, " mail, got '",
                                            code, "'"));
  }
  return code;
}

absl::StatusOr<auth::v1::RegisterRequest> RequestBuilder::Register() {
  auth::v1::RegisterRequest request;
  request.set_email(command_line_.positionals().at(0));
  request.set_first_name(command_line_.Value("first-name").value_or(""));
  request.set_last_name(command_line_.Value("last-name").value_or(""));
  absl::StatusOr<std::string> password = Password();
  if (!password.ok()) return password.status();
  request.set_password(*password);
  return request;
}

absl::StatusOr<auth::v1::LoginRequest> RequestBuilder::Login() {
  auth::v1::LoginRequest request;
  request.set_email(command_line_.positionals().at(0));
  absl::StatusOr<std::string> password = Password();
  if (!password.ok()) return password.status();
  request.set_password(*password);
  return request;
}

auth::v1::LogoutRequest RequestBuilder::Logout() {
  auth::v1::LogoutRequest request;
  request.set_all_sessions(command_line_.Has("all-sessions"));
  return request;
}

absl::StatusOr<auth::v1::UpdateProfileRequest> RequestBuilder::UpdateProfile() {
  auth::v1::UpdateProfileRequest request;
  // Only what was given is set: UpdateProfile changes the fields present.
  if (auto value = command_line_.Value("first-name")) request.set_first_name(*value);
  if (auto value = command_line_.Value("last-name")) request.set_last_name(*value);
  if (auto value = command_line_.Value("email")) request.set_email(*value);
  if (!request.has_first_name() && !request.has_last_name() && !request.has_email()) {
    return command_.UsageError("nothing to update: give --first-name, --last-name or --email");
  }
  return request;
}

absl::StatusOr<auth::v1::ChangePasswordRequest> RequestBuilder::ChangePassword() {
  auth::v1::ChangePasswordRequest request;
  absl::StatusOr<std::string> current = Password();
  if (!current.ok()) return current.status();
  absl::StatusOr<std::string> next = NewPassword();
  if (!next.ok()) return next.status();
  request.set_current_password(*current);
  request.set_new_password(*next);
  return request;
}

absl::StatusOr<auth::v1::RequestPasswordResetRequest> RequestBuilder::RequestPasswordReset() {
  auth::v1::RequestPasswordResetRequest request;
  request.set_email(command_line_.positionals().at(0));
  return request;
}

absl::StatusOr<auth::v1::ResetPasswordRequest> RequestBuilder::ResetPassword() {
  auth::v1::ResetPasswordRequest request;
  absl::StatusOr<std::string> code = MailedCode(0, kPasswordResetCodePrefix, "password reset");
  if (!code.ok()) return code.status();
  request.set_token(*code);
  absl::StatusOr<std::string> password = NewPassword();
  if (!password.ok()) return password.status();
  request.set_new_password(*password);
  return request;
}

absl::StatusOr<auth::v1::VerifyEmailRequest> RequestBuilder::VerifyEmail() {
  auth::v1::VerifyEmailRequest request;
  absl::StatusOr<std::string> code =
      MailedCode(0, kEmailVerificationCodePrefix, "email verification");
  if (!code.ok()) return code.status();
  request.set_token(*code);
  return request;
}

absl::StatusOr<auth::v1::ListUsersRequest> RequestBuilder::ListUsers() {
  auth::v1::ListUsersRequest request;
  if (auto text = command_line_.Value("page-size")) {
    absl::StatusOr<int32_t> page_size = ParseInt32(*text);
    if (!page_size.ok()) {
      return command_.UsageError(absl::StrCat("--page-size: ", page_size.status().message()));
    }
    if (*page_size < 0) {
      return command_.UsageError(absl::StrCat("--page-size: expected 0 or more, got '", *text,
                                              "'"));
    }
    request.set_page_size(*page_size);
  }
  request.set_page_token(command_line_.Value("page-token").value_or(""));
  return request;
}

absl::StatusOr<auth::v1::SetUserRolesRequest> RequestBuilder::SetUserRoles() {
  auth::v1::SetUserRolesRequest request;
  const std::vector<std::string>& args = command_line_.positionals();
  request.set_user_id(args.at(0));
  for (size_t i = 1; i < args.size(); ++i) request.add_roles(args[i]);
  return request;
}

absl::StatusOr<auth::v1::SetUserActiveRequest> RequestBuilder::SetUserActive() {
  auth::v1::SetUserActiveRequest request;
  request.set_user_id(command_line_.positionals().at(0));
  if (command_.name == "users activate" || command_.name == "users deactivate") {
    request.set_active(command_.name == "users activate");
    return request;
  }
  // The older `set-active USER_ID true|false`.
  const std::string& active = command_line_.positionals().at(1);
  // Exactly these two words: "yes", "1" or "False" are more likely typos
  // than intent, and a wrong guess would (de)activate an account.
  if (active == "true") {
    request.set_active(true);
  } else if (active == "false") {
    request.set_active(false);
  } else {
    return command_.UsageError(absl::StrCat("expected true or false, got '", active, "'"));
  }
  return request;
}

absl::StatusOr<sum::v1::SumRequest> RequestBuilder::Sum() {
  sum::v1::SumRequest request;
  absl::StatusOr<int64_t> a = Int64Argument(0);
  if (!a.ok()) return a.status();
  absl::StatusOr<int64_t> b = Int64Argument(1);
  if (!b.ok()) return b.status();
  request.set_a(*a);
  request.set_b(*b);
  return request;
}

absl::StatusOr<std::vector<int64_t>> RequestBuilder::SumStreamValues(std::istream& in) {
  const std::vector<std::string>& args = command_line_.positionals();
  std::vector<int64_t> values;
  const bool from_stdin = args.size() == 1 && args[0] == "-";
  if (!from_stdin) {
    for (const std::string& arg : args) {
      if (arg == "-") {
        return command_.UsageError("'-' (read stdin) must be the only argument");
      }
      absl::StatusOr<int64_t> value = ParseInt64(arg);
      if (!value.ok()) return command_.UsageError(absl::StrCat("VALUE: ", value.status().message()));
      values.push_back(*value);
    }
    return values;
  }
  std::string line;
  for (int64_t line_number = 1; std::getline(in, line); ++line_number) {
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty()) continue;
    absl::StatusOr<int64_t> value = ParseInt64(text);
    if (!value.ok()) {
      return command_.UsageError(
          absl::StrCat("stdin line ", line_number, ": ", value.status().message()));
    }
    values.push_back(*value);
  }
  if (in.bad()) return command_.UsageError("cannot read stdin");
  return values;
}

}  // namespace tollgate::cli
