#include "client/cli/cli.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/cli/health_command.h"
#include "client/cli/json_text.h"
#include "client/cli/jwks_loader.h"
#include "client/cli/password_source.h"
#include "client/cli/request_builder.h"
#include "client/cli/token_commands.h"
#include "client/session/file_token_store.h"
#include "client/session/rpc_failure.h"
#include "client/session/saved_tokens.h"
#include "client/session/session.h"
#include "common/tls/tls_credentials.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::cli {
namespace {

using auth::v1::AuthResponse;
using auth::v1::AuthService;
using client::FileTokenStore;
using client::RpcFailure;
using client::SavedTokens;
using client::Session;
using sum::v1::SumService;

// A fresh ClientContext whose deadline is `timeout` from now.
std::unique_ptr<grpc::ClientContext> NewClientContext(std::chrono::seconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

// One invocation of one command: the parsed command line, lazily created
// channels, and the handler of each command.
class CommandRunner final {
 public:
  CommandRunner(const CliEnvironment& environment, const CommandLine& command_line)
      : environment_(environment),
        command_line_(command_line),
        command_(*command_line.command()),
        token_store_(std::make_shared<FileTokenStore>(command_line.options().token_file)),
        passwords_(environment.env, environment.in, environment.err,
                   environment.stdin_is_terminal),
        builder_(command_line, passwords_) {}

  int Run() {
    using Handler = int (CommandRunner::*)();
    // By RPC: an older name and its current one (`whoami`, `me`) share a
    // handler, and so do `users activate`, `users deactivate` and
    // `set-active`.
    static const std::map<absl::string_view, Handler> kHandlers = {
        {"Register", &CommandRunner::Register},
        {"Login", &CommandRunner::Login},
        {"Refresh", &CommandRunner::Refresh},
        {"Logout", &CommandRunner::Logout},
        {"GetJwks", &CommandRunner::Jwks},
        {"GetCurrentUser", &CommandRunner::GetCurrentUser},
        {"UpdateProfile", &CommandRunner::UpdateProfile},
        {"ChangePassword", &CommandRunner::ChangePassword},
        {"RequestPasswordReset", &CommandRunner::RequestPasswordReset},
        {"ResetPassword", &CommandRunner::ResetPassword},
        {"RequestEmailVerification", &CommandRunner::RequestEmailVerification},
        {"VerifyEmail", &CommandRunner::VerifyEmail},
        {"ListUsers", &CommandRunner::ListUsers},
        {"SetUserRoles", &CommandRunner::SetUserRoles},
        {"SetUserActive", &CommandRunner::SetUserActive},
        {"Sum", &CommandRunner::Sum},
        {"SumStream", &CommandRunner::SumStream},
        {"GetUsage", &CommandRunner::GetUsage},
    };
    // Commands that are not an RPC of AuthService or SumService, by name.
    static const std::map<absl::string_view, Handler> kHandlersByName = {
        {"token inspect", &CommandRunner::TokenInspect},
        {"token verify", &CommandRunner::TokenVerify},
        {"health", &CommandRunner::Health},
    };
    auto handler = kHandlersByName.find(command_.name);
    if (handler == kHandlersByName.end()) handler = kHandlers.find(command_.rpc);
    if (handler == kHandlers.end()) {
      return Failure(absl::InternalError(absl::StrCat("no handler for ", command_.name)));
    }
    // Every command but jwks and the public mail-code ones reads or writes
    // the token file; say so before asking for a password or calling.
    if (NeedsTokenFile() && token_store_->path().empty()) {
      return UsageFailure(command_.UsageError(
          "no token file: give --token-file, set TOLLGATE_TOKEN_FILE, or set HOME"));
    }
    // Before any password prompt: an unreadable CA file fails at once.
    const tls::ClientTlsFiles& tls_files = command_line_.options().tls;
    if (tls_files.any_set()) {
      absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls =
          tls::ChannelCredentialsFrom(tls_files);
      if (!tls.ok()) return Failure(tls.status());
      credentials_ = *std::move(tls);
    }
    return (this->*handler->second)();
  }

 private:
  bool NeedsTokenFile() const {
    return command_.authenticated || command_.name == "register" || command_.name == "login" ||
           command_.name == "refresh" || command_.name == "logout";
  }

  std::chrono::seconds timeout() const {
    return std::chrono::seconds(command_line_.options().timeout_seconds);
  }

  AuthService::Stub& Auth() {
    if (!auth_stub_) {
      auth_channel_ = grpc::CreateChannel(command_line_.options().auth_address, credentials_);
      auth_stub_ = AuthService::NewStub(auth_channel_);
    }
    return *auth_stub_;
  }

  // The session saved in the token file (tollgate_client refreshes it and
  // saves every new pair there); one per invocation.
  absl::StatusOr<std::shared_ptr<Session>> SavedSession() {
    Auth();  // makes auth_channel_
    client::SessionOptions options;
    options.rpc_timeout = timeout();
    options.clock = &environment_.clock;
    return Session::Resume(auth_channel_, token_store_, std::move(options));
  }

  SumService::Stub& SumStub() {
    if (!sum_stub_) {
      sum_channel_ = grpc::CreateChannel(command_line_.options().sum_address, credentials_);
      sum_stub_ = SumService::NewStub(sum_channel_);
    }
    return *sum_stub_;
  }

  int UsageFailure(const absl::Status& status) {
    environment_.err << "tollgate: " << status.message() << "\n";
    return kExitUsage;
  }

  int Failure(const absl::Status& status) {
    environment_.err << "tollgate: " << status.message() << "\n";
    return kExitFailure;
  }

  // The token file could not give a session: say what to do when there is
  // none.
  int NoSavedSession(const absl::Status& status) {
    if (absl::IsNotFound(status)) {
      return Failure(absl::Status(status.code(), absl::StrCat("not logged in: ", status.message(),
                                                              " (run 'tollgate login')")));
    }
    return Failure(status);
  }

  // A call through the saved session failed; when the session has ended,
  // logging in again is the only way on.
  int SessionFailure(const absl::Status& status) {
    if (client::IsSessionEnded(status)) {
      return Failure(absl::Status(status.code(),
                                  absl::StrCat(status.message(), " (run 'tollgate login')")));
    }
    return Failure(status);
  }

  int RpcError(const grpc::Status& status) { return Failure(RpcFailure(command_.rpc, status)); }

  int Print(const google::protobuf::Message& message) {
    absl::StatusOr<std::string> json = MessageToJsonLine(message);
    if (!json.ok()) return Failure(json.status());
    environment_.out << *json << "\n" << std::flush;
    return kExitSuccess;
  }

  // Saves the pair, then prints the response with the tokens replaced by
  // where they went (unless --show-tokens): output often ends up in logs
  // and scroll-back, where a bearer token must not.
  int SaveAndPrint(const AuthResponse& response) {
    const SavedTokens tokens =
        SavedTokens::FromAuthResponse(response, environment_.clock.NowUnixSeconds());
    if (absl::Status saved = token_store_->Save(tokens); !saved.ok()) {
      return Failure(absl::Status(
          saved.code(), absl::StrCat("cannot save the tokens to ", token_store_->path(), ": ",
                                     saved.message())));
    }
    return PrintAuthResponse(response);
  }

  int PrintAuthResponse(const AuthResponse& response) {
    if (command_line_.Has("show-tokens")) return Print(response);
    AuthResponse shown = response;
    const std::string placeholder = absl::StrCat("<saved to ", token_store_->path(), ">");
    shown.set_access_token(placeholder);
    shown.set_refresh_token(placeholder);
    return Print(shown);
  }

  // A call with the saved access token; prints the response.
  template <typename Response>
  int Authenticated(const std::function<grpc::Status(grpc::ClientContext&, Response*)>& call,
                    Response* response) {
    absl::StatusOr<std::shared_ptr<Session>> session = SavedSession();
    if (!session.ok()) return NoSavedSession(session.status());
    const absl::Status status =
        (*session)->Call(command_.rpc, [&](grpc::ClientContext& context) {
          response->Clear();
          return call(context, response);
        });
    if (!status.ok()) return SessionFailure(status);
    return Print(*response);
  }

  // A public call; prints the response.
  template <typename Request, typename Response>
  int Public(grpc::Status (AuthService::Stub::*method)(grpc::ClientContext*, const Request&,
                                                      Response*),
             const Request& request) {
    Response response;
    std::unique_ptr<grpc::ClientContext> context = NewClientContext(timeout());
    const grpc::Status status = (Auth().*method)(context.get(), request, &response);
    if (!status.ok()) return RpcError(status);
    return Print(response);
  }

  int Register() {
    absl::StatusOr<auth::v1::RegisterRequest> request = builder_.Register();
    if (!request.ok()) return UsageFailure(request.status());
    AuthResponse response;
    std::unique_ptr<grpc::ClientContext> context = NewClientContext(timeout());
    const grpc::Status status = Auth().Register(context.get(), *request, &response);
    if (!status.ok()) return RpcError(status);
    return SaveAndPrint(response);
  }

  int Login() {
    absl::StatusOr<auth::v1::LoginRequest> request = builder_.Login();
    if (!request.ok()) return UsageFailure(request.status());
    AuthResponse response;
    std::unique_ptr<grpc::ClientContext> context = NewClientContext(timeout());
    const grpc::Status status = Auth().Login(context.get(), *request, &response);
    if (!status.ok()) return RpcError(status);
    return SaveAndPrint(response);
  }

  int Refresh() {
    absl::StatusOr<std::shared_ptr<Session>> session = SavedSession();
    if (!session.ok()) return NoSavedSession(session.status());
    absl::StatusOr<AuthResponse> response = (*session)->RefreshNow();
    if (!response.ok()) return SessionFailure(response.status());
    return PrintAuthResponse(*response);
  }

  int Logout() {
    const auth::v1::LogoutRequest request = builder_.Logout();
    absl::StatusOr<std::shared_ptr<Session>> session = SavedSession();
    if (!session.ok()) return NoSavedSession(session.status());
    // Revokes, then deletes the token file; on failure the file stays, so
    // that logout can be retried.
    if (absl::Status status = (*session)->Logout(request.all_sessions()); !status.ok()) {
      return Failure(status);
    }
    return Print(auth::v1::LogoutResponse());
  }

  int Jwks() { return Public(&AuthService::Stub::GetJwks, auth::v1::GetJwksRequest()); }

  int GetCurrentUser() {
    auth::v1::User response;
    return Authenticated<auth::v1::User>(
        [&](grpc::ClientContext& context, auth::v1::User* out) {
          return Auth().GetCurrentUser(&context, auth::v1::GetCurrentUserRequest(), out);
        },
        &response);
  }

  int UpdateProfile() {
    absl::StatusOr<auth::v1::UpdateProfileRequest> request = builder_.UpdateProfile();
    if (!request.ok()) return UsageFailure(request.status());
    auth::v1::User response;
    return Authenticated<auth::v1::User>(
        [&](grpc::ClientContext& context, auth::v1::User* out) {
          return Auth().UpdateProfile(&context, *request, out);
        },
        &response);
  }

  int ChangePassword() {
    absl::StatusOr<auth::v1::ChangePasswordRequest> request = builder_.ChangePassword();
    if (!request.ok()) return UsageFailure(request.status());
    AuthResponse response;
    absl::StatusOr<std::shared_ptr<Session>> session = SavedSession();
    if (!session.ok()) return NoSavedSession(session.status());
    const absl::Status status = (*session)->Call(command_.rpc, [&](grpc::ClientContext& context) {
      response.Clear();
      return Auth().ChangePassword(&context, *request, &response);
    });
    if (!status.ok()) return SessionFailure(status);
    // Every old session is revoked now; the fresh pair is the only one.
    return SaveAndPrint(response);
  }

  int RequestPasswordReset() {
    absl::StatusOr<auth::v1::RequestPasswordResetRequest> request =
        builder_.RequestPasswordReset();
    if (!request.ok()) return UsageFailure(request.status());
    return Public(&AuthService::Stub::RequestPasswordReset, *request);
  }

  int ResetPassword() {
    absl::StatusOr<auth::v1::ResetPasswordRequest> request = builder_.ResetPassword();
    if (!request.ok()) return UsageFailure(request.status());
    return Public(&AuthService::Stub::ResetPassword, *request);
  }

  int RequestEmailVerification() {
    auth::v1::RequestEmailVerificationResponse response;
    return Authenticated<auth::v1::RequestEmailVerificationResponse>(
        [&](grpc::ClientContext& context, auth::v1::RequestEmailVerificationResponse* out) {
          return Auth().RequestEmailVerification(
              &context, auth::v1::RequestEmailVerificationRequest(), out);
        },
        &response);
  }

  int VerifyEmail() {
    absl::StatusOr<auth::v1::VerifyEmailRequest> request = builder_.VerifyEmail();
    if (!request.ok()) return UsageFailure(request.status());
    return Public(&AuthService::Stub::VerifyEmail, *request);
  }

  int ListUsers() {
    absl::StatusOr<auth::v1::ListUsersRequest> request = builder_.ListUsers();
    if (!request.ok()) return UsageFailure(request.status());
    auth::v1::ListUsersResponse response;
    if (!command_line_.Has("all")) {
      return Authenticated<auth::v1::ListUsersResponse>(
          [&](grpc::ClientContext& context, auth::v1::ListUsersResponse* out) {
            return Auth().ListUsers(&context, *request, out);
          },
          &response);
    }
    // --all: every page, printed as one reply once the last has come.
    absl::StatusOr<std::shared_ptr<Session>> session = SavedSession();
    if (!session.ok()) return NoSavedSession(session.status());
    std::set<std::string> page_tokens = {request->page_token()};
    while (true) {
      auth::v1::ListUsersResponse page;
      const absl::Status status = (*session)->Call(command_.rpc, [&](grpc::ClientContext& context) {
        page.Clear();
        return Auth().ListUsers(&context, *request, &page);
      });
      if (!status.ok()) return SessionFailure(status);
      for (auth::v1::User& user : *page.mutable_users()) *response.add_users() = std::move(user);
      const std::string& next = page.next_page_token();
      if (next.empty()) break;
      // A token seen before would loop forever.
      if (!page_tokens.insert(next).second) {
        return Failure(absl::InternalError(absl::StrCat(
            command_.rpc, ": next_page_token '", next, "' came a second time; stopped")));
      }
      request->set_page_token(next);
    }
    return Print(response);
  }

  int SetUserRoles() {
    absl::StatusOr<auth::v1::SetUserRolesRequest> request = builder_.SetUserRoles();
    if (!request.ok()) return UsageFailure(request.status());
    auth::v1::User response;
    return Authenticated<auth::v1::User>(
        [&](grpc::ClientContext& context, auth::v1::User* out) {
          return Auth().SetUserRoles(&context, *request, out);
        },
        &response);
  }

  int SetUserActive() {
    absl::StatusOr<auth::v1::SetUserActiveRequest> request = builder_.SetUserActive();
    if (!request.ok()) return UsageFailure(request.status());
    auth::v1::User response;
    return Authenticated<auth::v1::User>(
        [&](grpc::ClientContext& context, auth::v1::User* out) {
          return Auth().SetUserActive(&context, *request, out);
        },
        &response);
  }

  int Sum() {
    absl::StatusOr<sum::v1::SumRequest> request = builder_.Sum();
    if (!request.ok()) return UsageFailure(request.status());
    sum::v1::SumResponse response;
    return Authenticated<sum::v1::SumResponse>(
        [&](grpc::ClientContext& context, sum::v1::SumResponse* out) {
          return SumStub().Sum(&context, *request, out);
        },
        &response);
  }

  int SumStream() {
    absl::StatusOr<std::vector<int64_t>> values = builder_.SumStreamValues(environment_.in);
    if (!values.ok()) return UsageFailure(values.status());
    sum::v1::SumResponse response;
    return Authenticated<sum::v1::SumResponse>(
        [&](grpc::ClientContext& context, sum::v1::SumResponse* out) {
          std::unique_ptr<grpc::ClientWriter<sum::v1::SumStreamRequest>> writer =
              SumStub().SumStream(&context, out);
          sum::v1::SumStreamRequest message;
          for (const int64_t value : *values) {
            message.set_value(value);
            // false: the call is over (rejected or failed); Finish says why.
            if (!writer->Write(message)) break;
          }
          writer->WritesDone();
          return writer->Finish();
        },
        &response);
  }

  int GetUsage() {
    sum::v1::GetUsageResponse response;
    return Authenticated<sum::v1::GetUsageResponse>(
        [&](grpc::ClientContext& context, sum::v1::GetUsageResponse* out) {
          return SumStub().GetUsage(&context, sum::v1::GetUsageRequest(), out);
        },
        &response);
  }

  // The TOKEN argument, or with '-' the first line of stdin.
  absl::StatusOr<std::string> TokenArgument() {
    const std::string& argument = command_line_.positionals()[0];
    if (argument != "-") return argument;
    std::string line;
    std::getline(environment_.in, line);
    const size_t end = line.find_last_not_of(" \t\r\n");
    line.erase(end == std::string::npos ? 0 : end + 1);
    const size_t start = line.find_first_not_of(" \t");
    line.erase(0, start == std::string::npos ? line.size() : start);
    if (line.empty()) return command_.UsageError("TOKEN '-': no token on stdin");
    return line;
  }

  int TokenInspect() {
    absl::StatusOr<std::string> token = TokenArgument();
    if (!token.ok()) return UsageFailure(token.status());
    return InspectToken(*token, environment_.clock.NowUnixSeconds(), environment_.out,
                        environment_.err);
  }

  int TokenVerify() {
    absl::StatusOr<TokenVerifyOptions> options =
        TokenVerifyOptions::FromCommandLine(command_line_, environment_.clock.NowUnixSeconds());
    if (!options.ok()) return UsageFailure(options.status());
    absl::StatusOr<std::string> token = TokenArgument();
    if (!token.ok()) return UsageFailure(token.status());
    absl::StatusOr<JwkSet> keys =
        LoadJwkSet(options->jwks, timeout(), command_line_.options().tls.ca.path);
    if (!keys.ok()) {
      return Failure(absl::Status(
          keys.status().code(),
          absl::StrCat("token verify: cannot load the key set: ", keys.status().message())));
    }
    return VerifyToken(*token, *options, *keys, environment_.out, environment_.err);
  }

  int Health() {
    return CheckHealth(HealthCheckAddress(command_line_), command_line_.Value("service").value_or(""),
                       credentials_, timeout(), environment_.out, environment_.err);
  }

  const CliEnvironment& environment_;
  const CommandLine& command_line_;
  const CommandSpec& command_;
  const std::shared_ptr<FileTokenStore> token_store_;
  PasswordSource passwords_;
  RequestBuilder builder_;
  // Plaintext unless a --tls-* option is given; one for both services.
  std::shared_ptr<grpc::ChannelCredentials> credentials_ = grpc::InsecureChannelCredentials();
  std::shared_ptr<grpc::Channel> auth_channel_;
  std::unique_ptr<AuthService::Stub> auth_stub_;
  std::shared_ptr<grpc::Channel> sum_channel_;
  std::unique_ptr<SumService::Stub> sum_stub_;
};

}  // namespace

Cli::Cli(CliEnvironment environment) : environment_(std::move(environment)) {}

int Cli::Run(const std::vector<std::string>& args) {
  absl::StatusOr<CommandLine> command_line = CommandLine::Parse(args, environment_.env);
  if (!command_line.ok()) {
    environment_.err << "tollgate: " << command_line.status().message() << "\n";
    return kExitUsage;
  }
  if (command_line->help()) {
    const CommandSpec* command = command_line->command();
    const CommandGroup* group = command_line->group();
    environment_.out << (command != nullptr ? command->HelpText()
                         : group != nullptr ? group->HelpText()
                                            : GeneralHelpText())
                     << std::flush;
    return kExitSuccess;
  }
  CommandRunner runner(environment_, *command_line);
  return runner.Run();
}

}  // namespace tollgate::cli
