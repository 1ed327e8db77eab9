#include "sum_service/sum_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "common/auth/access_policy.h"
#include "common/auth/auth_interceptor.h"
#include "common/keys/auth_service_key_source.h"
#include "common/metrics/process_metrics.h"
#include "common/request_decoding.h"
#include "common/server_listen.h"
#include "common/token/jwk.h"

namespace tollgate::sum {
namespace {

constexpr char kServiceName[] = "tollgate.sum.v1.SumService";

absl::StatusOr<JwkSet> ReadJwksFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::InvalidArgumentError("SUM_KEYS_SOURCE: cannot read " + path);
  std::stringstream contents;
  contents << file.rdbuf();
  auto keys = JwkSet::FromJson(contents.str());
  if (!keys.ok()) {
    return absl::InvalidArgumentError("SUM_KEYS_SOURCE: " + path + ": " +
                                      std::string(keys.status().message()));
  }
  if (keys->empty()) {
    return absl::InvalidArgumentError("SUM_KEYS_SOURCE: " + path + " holds no usable key");
  }
  return keys;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SumServer>> SumServer::Start(const SumConfig& config,
                                                            const Clock& clock) {
  std::unique_ptr<SumServer> server(new SumServer());
  SumServer* raw = server.get();

  bool keys_at_start = true;
  switch (config.keys_source) {
    case SumConfig::KeysSource::kSharedSecret: {
      auto key = Jwk::FromHmacSecret(config.jwt_secret_key);
      if (!key.ok()) return absl::InvalidArgumentError("JWT_SECRET_KEY: " + std::string(key.status().message()));
      auto keys = JwkSet::FromKeys({*std::move(key)});
      if (!keys.ok()) return keys.status();
      server->keys_ = std::make_unique<StaticKeySource>(*std::move(keys));
      break;
    }
    case SumConfig::KeysSource::kJwksFile: {
      auto keys = ReadJwksFile(config.keys_target);
      if (!keys.ok()) return keys.status();
      server->keys_ = std::make_unique<StaticKeySource>(*std::move(keys));
      break;
    }
    case SumConfig::KeysSource::kAuthService: {
      keys_at_start = false;
      AuthServiceKeySourceOptions options;
      options.target = config.keys_target;
      options.on_first_keys = [raw] { raw->MarkKeysReady(); };
      server->keys_ = std::make_unique<AuthServiceKeySource>(std::move(options));
      break;
    }
  }

  auto policy = AccessPolicy::FromServices({kServiceName});
  if (!policy.ok()) return policy.status();
  std::cerr << "sum: access policy\n" << policy->Describe();
  server->authenticator_ = std::make_unique<BearerAuthenticator>(
      *std::move(policy),
      AccessTokenVerifier(AccessTokenVerifierOptions{config.token_issuer, config.token_audience,
                                                     config.token_leeway_seconds}),
      *server->keys_, clock, BearerAuthenticator::Options{});
  server->service_ = std::make_unique<SumServiceImpl>();

  grpc::EnableDefaultHealthCheckService(true);
  LinkHealthDescriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  AddListeningPort(builder, config.listen_address, config.reuse_port, &server->port_);
  AnswerUndecodableRequests(*server->service_);
  builder.RegisterService(server->service_.get());
  InstallAuthInterceptor(builder, *server->authenticator_);
  std::unique_ptr<grpc::Server> built = builder.BuildAndStart();
  if (!built || server->port_ == 0) {
    return absl::UnavailableError(ListenFailure(config.listen_address));
  }
  {
    // The key fetch thread may be in MarkKeysReady right now.
    std::lock_guard<std::mutex> lock(server->health_mutex_);
    server->server_ = std::move(built);
    if (keys_at_start) server->keys_ready_ = true;
    // Every service name answers Check and Watch, tied to one status
    // (MarkKeysReady's SetServingStatus(true) updates them all).
    MarkServing(*server->server_, {kServiceName}, server->keys_ready_);
  }
  if (auto status = server->StartHttp(config); !status.ok()) return status;
  return server;
}

absl::Status SumServer::StartHttp(const SumConfig& config) {
  if (config.http_listen_address.empty()) return absl::OkStatus();
  http_ = std::make_unique<HttpEndpoint>(HttpEndpointOptions{config.http_listen_address});
  // Ready exactly when gRPC health says SERVING: keys held, not stopping.
  http_->ServeReadiness([this] { return Ready(); });
  http_->ServeMetrics({std::make_shared<ProcessMetrics>()});
  return http_->Start();
}

bool SumServer::Ready() {
  std::lock_guard<std::mutex> lock(health_mutex_);
  return keys_ready_ && !shut_down_;
}

void SumServer::MarkKeysReady() {
  std::lock_guard<std::mutex> lock(health_mutex_);
  keys_ready_ = true;
  // Before BuildAndStart finished, Start() applies the flag itself.
  if (server_ && !shut_down_) server_->GetHealthCheckService()->SetServingStatus(true);
}

void SumServer::Shutdown(std::chrono::milliseconds drain) {
  {
    std::lock_guard<std::mutex> lock(health_mutex_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  if (http_) http_->Stop();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + drain);
}

SumServer::~SumServer() {
  Shutdown();
  server_.reset();
  // The key source goes last: its fetch thread may still call MarkKeysReady.
  keys_.reset();
}

}  // namespace tollgate::sum
