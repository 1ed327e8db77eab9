#include "sum_service/sum_server.h"

#include <fstream>
#include <sstream>

#include "common/auth/access_policy.h"
#include "common/keys/auth_service_key_source.h"
#include "common/logging/logger.h"
#include "common/metrics/grpc_metrics.h"
#include "common/metrics/process_metrics.h"
#include "common/metrics/service_metrics.h"
#include "common/server_drain.h"
#include "common/request_decoding.h"
#include "common/server_listen.h"
#include "common/tls/tls_credentials.h"
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

// tollgate_jwks_age_seconds: -1 until the first fetch succeeded.
double KeysAgeSeconds(const AuthServiceKeySource& keys) {
  const auto age = keys.KeysAge();
  return age.has_value() ? std::chrono::duration<double>(*age).count() : -1.0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SumServer>> SumServer::Start(const SumConfig& config,
                                                            const Clock& clock) {
  // The TLS files first: a wrong one ends the start before anything runs.
  auto credentials = tls::ServerCredentialsFrom(config.tls);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<SumServer> server(new SumServer());
  SumServer* raw = server.get();
  // First, so that the key source and the authenticator can be handed the
  // metrics they feed, whether or not SUM_HTTP_LISTEN serves them.
  server->metrics_registry_ = std::make_shared<prometheus::Registry>();
  server->grpc_metrics_ = std::make_shared<GrpcMetrics>(*server->metrics_registry_);
  server->guard_metrics_ = std::make_unique<GuardMetrics>(*server->metrics_registry_);
  server->gauges_ = std::make_shared<GaugeRefresher>();
  server->mirrored_counters_ = std::make_shared<CounterMirror>();
  server->mirrored_counters_->Add(server->guard_metrics_->undecodable_requests_total,
                                  [] { return UndecodableRequestsTotal(); });

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
      if (config.keys_over_tls) {
        auto channel_credentials = tls::ChannelCredentialsFrom(config.keys_tls);
        if (!channel_credentials.ok()) return channel_credentials.status();
        options.credentials = *std::move(channel_credentials);
      }
      server->key_fetch_metrics_ = std::make_unique<KeyFetchMetrics>(*server->metrics_registry_);
      options.metrics = server->key_fetch_metrics_.get();
      auto source = std::make_unique<AuthServiceKeySource>(std::move(options));
      server->gauges_->Add(server->key_fetch_metrics_->jwks_age_seconds,
                           [&fetched = *source] { return KeysAgeSeconds(fetched); });
      server->keys_ = std::move(source);
      break;
    }
  }

  auto policy = AccessPolicy::FromServices({kServiceName});
  if (!policy.ok()) return policy.status();
  policy->LogTable();
  server->authenticator_ = std::make_unique<BearerAuthenticator>(
      *std::move(policy),
      AccessTokenVerifier(AccessTokenVerifierOptions{config.token_issuer, config.token_audience,
                                                     config.token_leeway_seconds}),
      *server->keys_, clock,
      BearerAuthenticator::Options{.metrics = server->guard_metrics_.get()});
  server->authenticator_->MirrorCacheCounts(*server->mirrored_counters_);
  server->service_ = std::make_unique<SumServiceImpl>();

  GrpcServerOptions grpc_options = GrpcServerOptions::From(config);
  grpc_options.credentials = *credentials;
  grpc_options.services = {{kServiceName, server->service_.get()}};
  grpc_options.authenticator = server->authenticator_.get();
  grpc_options.grpc_metrics = server->grpc_metrics_.get();
  auto built = AssembledGrpcServer::Start(std::move(grpc_options));
  if (!built.ok()) return built.status();
  {
    // The key fetch thread may be in MarkKeysReady right now.
    std::lock_guard<std::mutex> lock(server->health_mutex_);
    server->grpc_ = *std::move(built);
    if (keys_at_start) server->keys_ready_ = true;
    // Every service name answers Check and Watch, tied to one status
    // (MarkKeysReady's SetReadiness); "liveness" is SERVING at once.
    MarkServing(server->grpc_->server(), {kServiceName}, server->keys_ready_);
  }
  if (auto status = server->StartHttp(config); !status.ok()) return status;
  return server;
}

absl::Status SumServer::StartHttp(const SumConfig& config) {
  if (config.http_listen_address.empty()) return absl::OkStatus();
  http_ = std::make_unique<HttpEndpoint>(HttpEndpointOptions{config.http_listen_address});
  // Ready exactly when gRPC health says SERVING: keys held, not stopping.
  http_->ServeReadiness([this] { return Ready(); });
  // The scrape-time values first: they set what the registry then reports.
  http_->ServeMetrics(
      {grpc_metrics_, gauges_, mirrored_counters_, std::make_shared<ProcessMetrics>(),
       metrics_registry_});
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
  if (grpc_ && !shut_down_) SetReadiness(grpc_->server(), {kServiceName}, true);
  if (!shut_down_) {
    logging::Info("health changed", {{"status", "SERVING"}, {"reason", "keys loaded"}});
  }
}

void SumServer::Shutdown(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(health_mutex_);
    if (shut_down_) return;
    shut_down_ = true;  // /readyz answers 503 from here on
  }
  if (grpc_) DrainServer(grpc_->server(), grace);
  // No call is in flight or can start: the key source's fetch thread (the
  // one background task) stops now, and the authenticator that reads the
  // key source goes first. MarkKeysReady may still run until then; it
  // finds shut_down_ set.
  authenticator_.reset();
  keys_.reset();
  // Last, so /readyz said 503 during the whole drain.
  if (http_) http_->Stop();
}

SumServer::~SumServer() {
  Shutdown();
  grpc_.reset();
  // The key source goes last: its fetch thread may still call MarkKeysReady.
  keys_.reset();
}

}  // namespace tollgate::sum
