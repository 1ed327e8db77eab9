// sum_bench_server: SumService on 127.0.0.1 for the interceptor overhead
// benchmark (bench/sum_bench.sh, issue 4). Not a test; asserts nothing.
//
// One binary, two modes, so that the comparison differs in nothing but the
// interceptor:
//   --mode=interceptor  tollgate::sum::SumServer::Start, the production
//                       assembly (SumConfig parsed by FromFlagsAndEnv, keys
//                       from a JWKS file or JWT_SECRET_KEY, the policy from
//                       sum.proto, BearerAuthenticator with its cache, the
//                       call pipeline with its access log and RPC metrics
//                       on, health, reflection).
//   --mode=none         a plain grpc::ServerBuilder with the same
//                       SumServiceImpl (and the same health, reflection and
//                       connection-limit settings) but no interceptor: its AdmissionLookup
//                       admits one fixed Identity, verified once at start-up.
//   --mode=empty        diagnostic: as none, plus an interceptor that only
//                       calls Proceed(), to split the overhead into gRPC's
//                       interceptor machinery and tollgate's own work.
//
// Flags:
//   --mode=interceptor|none|empty   required
//   --alg=ES256|HS256         signing algorithm of the token (default ES256).
//                             ES256: a fresh P-256 key; its public JWKS is
//                             written to --jwks-out and the server reads it
//                             as SUM_KEYS_SOURCE=file:... . HS256: the secret
//                             is JWT_SECRET_KEY from the environment (so a
//                             FastAPI baseline can share it), else random.
//   --port=N                  default 0 (any free port)
//   --token-out=PATH          required: the minted access token (role
//                             "user", one hour) is written here, mode 0600
//   --jwks-out=PATH           default <token-out>.jwks.json (ES256 only)
//   --access-log=PATH         interceptor mode: where the access log (one
//                             JSON line per call, as sum_service writes to
//                             stdout) goes; default /dev/null, so the cost
//                             measured is making and writing every line, not
//                             the disk; "off": no access log (diagnostic)
//
// Prints "listening on port N" once serving. SIGUSR1 prints
// "admitted_calls N" (calls that passed the handler's guard, so the driver
// can check that every HTTP 200 counted by h2load was a gRPC OK); SIGTERM or
// SIGINT stops it.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/clock.h"
#include "common/random_source.h"
#include "common/server_process.h"
#include "common/token/access_token_issuer.h"
#include "common/token/access_token_verifier.h"
#include "common/connection_limits.h"
#include "common/logging/logger.h"
#include "common/token/jwk.h"
#include "common/token/jwk_set.h"
#include "sum_service/sum_config.h"
#include "sum_service/sum_server.h"
#include "sum_service/sum_service_impl.h"
#include "tests/support/test_keys.h"

namespace {

using tollgate::AccessTokenIssuer;
using tollgate::AccessTokenOptions;
using tollgate::AccessTokenVerifier;
using tollgate::AccessTokenVerifierOptions;
using tollgate::Admission;
using tollgate::Identity;
using tollgate::Jwk;
using tollgate::JwkSet;
using tollgate::JwsAlgorithm;

constexpr int64_t kTokenTtlSeconds = 3600;

[[noreturn]] void Fail(std::string_view what) {
  std::cerr << "sum_bench_server: " << what << "\n";
  std::exit(2);
}

struct Flags {
  std::string mode;
  JwsAlgorithm algorithm = JwsAlgorithm::kES256;
  int port = 0;
  std::string token_out;
  std::string jwks_out;
  std::string access_log = "/dev/null";
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const size_t equals = arg.find('=');
    if (arg.substr(0, 2) != "--" || equals == std::string_view::npos) {
      Fail("flags are --name=value; unexpected '" + std::string(arg) + "'");
    }
    const std::string_view name = arg.substr(2, equals - 2);
    const std::string value(arg.substr(equals + 1));
    if (name == "mode") {
      if (value != "interceptor" && value != "none" && value != "empty") {
        Fail("--mode is interceptor, none or empty");
      }
      flags.mode = value;
    } else if (name == "alg") {
      if (value == "ES256") {
        flags.algorithm = JwsAlgorithm::kES256;
      } else if (value == "HS256") {
        flags.algorithm = JwsAlgorithm::kHS256;
      } else {
        Fail("--alg is ES256 or HS256");
      }
    } else if (name == "port") {
      flags.port = std::atoi(value.c_str());
      if (flags.port < 0 || flags.port > 65535) Fail("--port out of range");
    } else if (name == "token-out") {
      flags.token_out = value;
    } else if (name == "jwks-out") {
      flags.jwks_out = value;
    } else if (name == "access-log") {
      flags.access_log = value;
    } else {
      Fail("unknown flag --" + std::string(name));
    }
  }
  if (flags.mode.empty()) Fail("--mode=interceptor|none|empty is required");
  if (flags.token_out.empty()) Fail("--token-out=PATH is required");
  if (flags.jwks_out.empty()) flags.jwks_out = flags.token_out + ".jwks.json";
  return flags;
}

void WritePrivateFile(const std::string& path, const std::string& contents) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Fail("cannot write " + path);
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n <= 0) Fail("cannot write " + path);
    written += static_cast<size_t>(n);
  }
  ::close(fd);
}

// The HS256 secret: JWT_SECRET_KEY if set (shared with the FastAPI
// baseline), else 32 random bytes as hex.
std::string HmacSecret() {
  if (const char* env = std::getenv("JWT_SECRET_KEY"); env != nullptr && *env != '\0') return env;
  tollgate::OpenSslRandomSource random;
  absl::StatusOr<std::string> bytes = random.Bytes(32);
  if (!bytes.ok()) Fail("RAND_bytes failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string secret;
  for (unsigned char c : *bytes) {
    secret.push_back(kHex[c >> 4]);
    secret.push_back(kHex[c & 15]);
  }
  return secret;
}

// --mode=empty: the cost of having any interceptor at all.
class ProceedInterceptor final : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }
};

class ProceedInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new ProceedInterceptor();
  }
};

}  // namespace

int main(int argc, char** argv) {
  tollgate::PrepareServerProcess();  // as the real sum_service does, in every mode
  const Flags flags = ParseFlags(argc, argv);

  // Block the signals before any gRPC thread starts, so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The signing key and the configuration the production server would get.
  absl::flat_hash_map<std::string, std::string> env;
  env["SUM_LISTEN"] = "127.0.0.1:" + std::to_string(flags.port);
  std::optional<Jwk> signing_key;
  if (flags.algorithm == JwsAlgorithm::kHS256) {
    const std::string secret = HmacSecret();
    absl::StatusOr<Jwk> key = Jwk::FromHmacSecret(secret);
    if (!key.ok()) Fail("JWT_SECRET_KEY: " + std::string(key.status().message()));
    signing_key = *std::move(key);
    env["JWT_SECRET_KEY"] = secret;
  } else {
    signing_key = tollgate::testing::GenerateKey(JwsAlgorithm::kES256);
    absl::StatusOr<JwkSet> published = JwkSet::FromKeys({*signing_key});
    if (!published.ok()) Fail("JwkSet: " + std::string(published.status().message()));
    std::ofstream(flags.jwks_out) << published->ToPublicJson();
    env["SUM_KEYS_SOURCE"] = "file:" + flags.jwks_out;
  }
  std::vector<std::string> args = {"sum_bench_server"};
  std::vector<char*> config_argv;
  for (std::string& arg : args) config_argv.push_back(arg.data());
  absl::StatusOr<tollgate::sum::SumConfig> config = tollgate::sum::SumConfig::FromFlagsAndEnv(
      static_cast<int>(config_argv.size()), config_argv.data(),
      [&env](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
      });
  if (!config.ok()) Fail("config: " + std::string(config.status().message()));

  // One token for every call of the run, as a real client would send.
  tollgate::SystemClock clock;
  tollgate::OpenSslRandomSource random;
  AccessTokenIssuer issuer(*signing_key,
                           AccessTokenOptions{config->token_issuer, config->token_audience,
                                              kTokenTtlSeconds},
                           random);
  absl::StatusOr<tollgate::IssuedAccessToken> token =
      issuer.Issue({"bench-user", "bench@example.com", {"user"}}, clock.NowUnixSeconds());
  if (!token.ok()) Fail("issue: " + std::string(token.status().message()));
  WritePrivateFile(flags.token_out, token->token);

  std::unique_ptr<tollgate::sum::SumServer> production;  // --mode=interceptor
  std::unique_ptr<tollgate::sum::SumServiceImpl> bare_service;  // --mode=none|empty
  std::unique_ptr<grpc::Server> bare_server;
  tollgate::sum::SumServiceImpl* service = nullptr;
  int port = 0;
  if (flags.mode == "interceptor") {
    // As sum_service's main() does (JSON at info), to a file.
    const bool logging_calls = flags.access_log != "off";
    static std::ofstream access_log(logging_calls ? flags.access_log : "/dev/null", std::ios::app);
    if (!access_log) Fail("cannot open --access-log " + flags.access_log);
    tollgate::logging::SetDefaultLogger(std::make_unique<tollgate::logging::Logger>(
        "sum", tollgate::logging::Format::kJson,
        logging_calls ? tollgate::logging::Level::kInfo : tollgate::logging::Level::kWarn,
        &access_log));
    auto started = tollgate::sum::SumServer::Start(*config, clock);
    if (!started.ok()) Fail("start: " + std::string(started.status().message()));
    production = *std::move(started);
    service = &production->service();
    port = production->port();
  } else {
    // Identity has no public constructor: verify the real token once.
    absl::StatusOr<JwkSet> keys = JwkSet::FromKeys({*signing_key});
    if (!keys.ok()) Fail("JwkSet: " + std::string(keys.status().message()));
    AccessTokenVerifier verifier(AccessTokenVerifierOptions{
        config->token_issuer, config->token_audience, config->token_leeway_seconds});
    tollgate::TokenResult<Identity> verified =
        verifier.Verify(token->token, *keys, clock.NowUnixSeconds());
    if (!verified.ok()) Fail("the minted token does not verify");
    auto caller = std::make_shared<const Identity>(std::move(verified).value());
    bare_service = std::make_unique<tollgate::sum::SumServiceImpl>(
        [caller](const grpc::ServerContextBase*) { return Admission::Admit(caller); });
    // The same process-wide settings as SumServer, so only the interceptor differs.
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(config->listen_address, grpc::InsecureServerCredentials(), &port);
    // The same connection limits as the production assembly (they add gRPC's
    // max-age filter to every call), so that only the call pipeline differs.
    tollgate::ApplyConnectionLimits(builder, config->connection_limits);
    builder.RegisterService(bare_service.get());
    if (flags.mode == "empty") {
      std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
      factories.push_back(std::make_unique<ProceedInterceptorFactory>());
      builder.experimental().SetInterceptorCreators(std::move(factories));
    }
    bare_server = builder.BuildAndStart();
    if (!bare_server || port == 0) Fail("cannot listen on " + config->listen_address);
    bare_server->GetHealthCheckService()->SetServingStatus(true);
    service = bare_service.get();
  }
  std::cout << "listening on port " << port << std::endl;

  for (;;) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number == SIGUSR1) {
      std::cout << "admitted_calls " << service->admitted_calls() << std::endl;
      continue;
    }
    break;
  }
  if (production) production->Shutdown(std::chrono::milliseconds(1000));
  if (bare_server) bare_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
