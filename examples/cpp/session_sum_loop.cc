// session_sum_loop: calls SumService.Sum in a loop through a tollgate_client
// Session, for as many access-token lifetimes as it runs, without asking
// for the password again. Start the services with a short lifetime
// (AUTH_ACCESS_TTL=3) to watch it renew the token every 1.5 s.
//
//   TOLLGATE_PASSWORD=... session_sum_loop --email=ada@example.com
//       [--auth=127.0.0.1:50051] [--sum=127.0.0.1:50052]
//       [--calls=20] [--interval-ms=1000] [--token-file=PATH]
//
// The password comes from TOLLGATE_PASSWORD (never a flag: flags show in
// `ps`). With --token-file it resumes the session saved there (by an
// earlier run, or by `tollgate login`) and logs in only when there is none;
// without, it keeps the pair in memory.
//
// Prints one line per call. Exit 0 after --calls calls, 1 when a call fails
// or the session ends (say, after `tollgate logout --all-sessions`
// elsewhere), 2 for bad flags.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "client/session/file_token_store.h"
#include "client/session/in_memory_token_store.h"
#include "client/session/session.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace {

using tollgate::client::FileTokenStore;
using tollgate::client::InMemoryTokenStore;
using tollgate::client::Session;
using tollgate::client::SessionOptions;
using tollgate::client::TokenStore;

struct Flags {
  std::string auth = "127.0.0.1:50051";
  std::string sum = "127.0.0.1:50052";
  std::string email;
  std::string token_file;
  int calls = 20;
  int interval_ms = 1000;
};

[[noreturn]] void Usage(std::string_view why) {
  std::cerr << "session_sum_loop: " << why
            << "\nusage: TOLLGATE_PASSWORD=... session_sum_loop --email=EMAIL [--auth=ADDR] "
               "[--sum=ADDR] [--calls=N] [--interval-ms=MS] [--token-file=PATH]\n";
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const size_t equals = arg.find('=');
    if (arg.substr(0, 2) != "--" || equals == std::string_view::npos) {
      Usage("unexpected '" + std::string(arg) + "'");
    }
    const std::string_view name = arg.substr(2, equals - 2);
    const std::string value(arg.substr(equals + 1));
    if (name == "auth") {
      flags.auth = value;
    } else if (name == "sum") {
      flags.sum = value;
    } else if (name == "email") {
      flags.email = value;
    } else if (name == "token-file") {
      flags.token_file = value;
    } else if (name == "calls") {
      flags.calls = std::atoi(value.c_str());
    } else if (name == "interval-ms") {
      flags.interval_ms = std::atoi(value.c_str());
    } else {
      Usage("unknown flag --" + std::string(name));
    }
  }
  if (flags.calls < 1 || flags.interval_ms < 0) Usage("--calls must be >= 1, --interval-ms >= 0");
  return flags;
}

// The saved session of --token-file if there is one, else a new login.
absl::StatusOr<std::shared_ptr<Session>> StartSession(const Flags& flags,
                                                      std::shared_ptr<grpc::Channel> auth_channel,
                                                      SessionOptions options) {
  std::shared_ptr<TokenStore> store;
  if (flags.token_file.empty()) {
    store = std::make_shared<InMemoryTokenStore>();
  } else {
    store = std::make_shared<FileTokenStore>(flags.token_file);
    absl::StatusOr<std::shared_ptr<Session>> resumed =
        Session::Resume(auth_channel, store, options);
    if (resumed.ok() || !absl::IsNotFound(resumed.status())) return resumed;
  }
  if (flags.email.empty()) Usage("--email is required to log in");
  const char* password = std::getenv("TOLLGATE_PASSWORD");
  if (password == nullptr || *password == '\0') Usage("set TOLLGATE_PASSWORD to log in");
  return Session::Login(auth_channel, flags.email, password, store, std::move(options));
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  auto auth_channel = grpc::CreateChannel(flags.auth, grpc::InsecureChannelCredentials());
  auto sum_channel = grpc::CreateChannel(flags.sum, grpc::InsecureChannelCredentials());

  SessionOptions options;
  // Called once if AuthService refuses the session (logged out elsewhere,
  // password changed, account deactivated); the loop then stops.
  options.on_ended = [](const absl::Status& why) {
    std::cerr << "session_sum_loop: " << why.message() << "; log in again\n";
  };
  absl::StatusOr<std::shared_ptr<Session>> session = StartSession(flags, auth_channel, options);
  if (!session.ok()) {
    std::cerr << "session_sum_loop: " << session.status().message() << "\n";
    return 1;
  }

  // Any stub, any service behind the tollgate interceptor: set the
  // session's credentials on the call, and the token is attached and
  // renewed before it runs out.
  auto auth = tollgate::auth::v1::AuthService::NewStub(auth_channel);
  {
    grpc::ClientContext context;
    context.set_credentials((*session)->Credentials());
    tollgate::auth::v1::User me;
    const grpc::Status status =
        auth->GetCurrentUser(&context, tollgate::auth::v1::GetCurrentUserRequest(), &me);
    if (!status.ok()) {
      std::cerr << "session_sum_loop: GetCurrentUser: " << status.error_message() << "\n";
      return 1;
    }
    std::cout << "logged in as " << me.email() << std::endl;
  }

  // Call() adds the reactive half: a call refused as UNAUTHENTICATED is
  // retried once with a new token.
  auto sum = tollgate::sum::v1::SumService::NewStub(sum_channel);
  for (int call = 1; call <= flags.calls; ++call) {
    tollgate::sum::v1::SumRequest request;
    request.set_a(call);
    request.set_b(1000);
    tollgate::sum::v1::SumResponse response;
    const absl::Status status = (*session)->Call("Sum", [&](grpc::ClientContext& context) {
      return sum->Sum(&context, request, &response);
    });
    if (!status.ok()) {
      std::cerr << "session_sum_loop: " << status.message() << "\n";
      return 1;
    }
    std::cout << "call " << call << "/" << flags.calls << ": " << request.a() << " + "
              << request.b() << " = " << response.result()
              << " (refreshes so far: " << (*session)->refreshes() << ")" << std::endl;
    if (call < flags.calls) std::this_thread::sleep_for(std::chrono::milliseconds(flags.interval_ms));
  }
  std::cout << "done: " << flags.calls << " calls, " << (*session)->refreshes() << " refreshes"
            << std::endl;
  return 0;
}
