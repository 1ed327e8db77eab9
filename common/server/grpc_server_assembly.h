#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/bearer_authenticator.h"
#include "common/config/server_settings.h"
#include "common/connection_limits.h"
#include "common/server/access_log_layer.h"
#include "common/server/call_pipeline.h"
#include "common/server/in_flight_limit.h"

namespace prometheus {
class Registry;
}

namespace tollgate {

class GrpcMetrics;
class GrpcMetricsLayer;

// One service a tollgate server hosts: its full name and its callback-API
// implementation, whose handlers report their statuses (ReportCallStatus).
struct HostedService {
  std::string name;  // "tollgate.sum.v1.SumService"
  grpc::Service* service = nullptr;
};

struct GrpcServerOptions {
  std::string listen_address;  // "host:port" or "unix:/path"
  bool reuse_port = false;     // see AddListeningPort
  // TLS (tls::ServerCredentialsFrom); null: plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::vector<HostedService> services;
  const BearerAuthenticator* authenticator = nullptr;  // required; outlives the server
  // Where the grpc_server_* series are recorded; null: not kept. Outlives
  // the server.
  GrpcMetrics* grpc_metrics = nullptr;
  int64_t max_calls_in_flight = 0;  // 0: no cap (InFlightLimitLayer)
  ConnectionLimits connection_limits;  // see ApplyConnectionLimits

  // The listen address, reuse_port, the cap on calls in flight and the
  // connection limits of `config`; the rest is the caller's to fill.
  static GrpcServerOptions From(const config::ServerConfig& config);
};

// How both services build their gRPC server, written once:
// - listening: AddListeningPort (no SO_REUSEPORT unless asked; TLS when
//   credentials are given); a failure to listen is UNAVAILABLE with
//   ListenFailure's one line;
// - connection limits (ApplyConnectionLimits: idle timeout, maximum age,
//   keepalive enforcement, streams per connection);
// - health: gRPC's default health service, with the descriptor linked for
//   reflection (LinkHealthDescriptor); the caller marks the serving status
//   (MarkServing) once its own state allows;
// - reflection (grpc.reflection.v1alpha);
// - each hosted service, with AnswerUndecodableRequests;
// - the call pipeline (InstallCallPipeline) with these layers, in this
//   order: the access log (AccessLogLayer), the RPC metrics
//   (GrpcMetricsLayer, when grpc_metrics is given), the cap on calls in
//   flight (InFlightLimitLayer); then the auth decision. The observing
//   layers come first so that they see every call, refused ones included.
//   The hosted services' calls take the pipeline's fast path when admitted.
// The object owns the server and its layers; destroying it shuts the
// server down (at once: call Shutdown first to drain).
class AssembledGrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<AssembledGrpcServer>> Start(GrpcServerOptions options);
  ~AssembledGrpcServer();

  grpc::Server& server() { return *server_; }
  int port() const { return port_; }
  const CallPipeline& pipeline() const { return *pipeline_; }
  const InFlightLimitLayer& in_flight() const { return *in_flight_; }

 private:
  AssembledGrpcServer() = default;

  std::unique_ptr<AccessLogLayer> access_log_;
  std::unique_ptr<GrpcMetricsLayer> grpc_metrics_layer_;
  std::unique_ptr<InFlightLimitLayer> in_flight_;
  const CallPipeline* pipeline_ = nullptr;  // owned by server_
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;  // last: destroyed before the layers
};

}  // namespace tollgate
