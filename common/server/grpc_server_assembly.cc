#include "common/server/grpc_server_assembly.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "common/metrics/grpc_metrics.h"
#include "common/metrics/grpc_metrics_layer.h"
#include "common/request_decoding.h"
#include "common/server_listen.h"

namespace tollgate {
namespace {

// Every method of the hosted services starts at 0 in every series, as
// go-grpc-prometheus's InitializeMetrics does, so rate() works before the
// first call.
void InitializeMethodSeries(GrpcMetrics& metrics, const std::vector<HostedService>& services) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  using Type = grpc::experimental::ServerRpcInfo::Type;
  for (const HostedService& hosted : services) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(hosted.name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      const Type type = method->client_streaming()
                            ? (method->server_streaming() ? Type::BIDI_STREAMING
                                                          : Type::CLIENT_STREAMING)
                            : (method->server_streaming() ? Type::SERVER_STREAMING : Type::UNARY);
      metrics.InitializeMethod("/" + hosted.name + "/" + method->name(),
                               GrpcMetricsLayer::TypeName(type));
    }
  }
}

}  // namespace

GrpcServerOptions GrpcServerOptions::From(const config::ServerConfig& config) {
  GrpcServerOptions options;
  options.listen_address = config.listen_address;
  options.reuse_port = config.reuse_port;
  options.max_calls_in_flight = config.max_calls_in_flight;
  options.connection_limits = config.connection_limits;
  return options;
}

absl::StatusOr<std::unique_ptr<AssembledGrpcServer>> AssembledGrpcServer::Start(
    GrpcServerOptions options) {
  std::unique_ptr<AssembledGrpcServer> assembled(new AssembledGrpcServer());
  CallPipelineOptions pipeline;
  pipeline.authenticator = options.authenticator;
  assembled->access_log_ = std::make_unique<AccessLogLayer>();
  pipeline.layers.push_back(assembled->access_log_.get());
  if (options.grpc_metrics != nullptr) {
    InitializeMethodSeries(*options.grpc_metrics, options.services);
    assembled->grpc_metrics_layer_ = std::make_unique<GrpcMetricsLayer>(*options.grpc_metrics);
    pipeline.layers.push_back(assembled->grpc_metrics_layer_.get());
  }
  assembled->in_flight_ = std::make_unique<InFlightLimitLayer>(options.max_calls_in_flight);
  pipeline.layers.push_back(assembled->in_flight_.get());

  grpc::EnableDefaultHealthCheckService(true);
  LinkHealthDescriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const std::shared_ptr<grpc::ServerCredentials> credentials =
      options.credentials ? options.credentials : grpc::InsecureServerCredentials();
  AddListeningPort(builder, options.listen_address, options.reuse_port, credentials,
                   &assembled->port_);
  ApplyConnectionLimits(builder, options.connection_limits);
  for (const HostedService& hosted : options.services) {
    AnswerUndecodableRequests(*hosted.service);
    builder.RegisterService(hosted.service);
    pipeline.reporting_services.push_back(hosted.name);
  }
  assembled->pipeline_ = &InstallCallPipeline(builder, std::move(pipeline));
  assembled->server_ = builder.BuildAndStart();
  if (!assembled->server_ || assembled->port_ == 0) {
    assembled->server_.reset();
    return absl::UnavailableError(ListenFailure(options.listen_address));
  }
  return assembled;
}

AssembledGrpcServer::~AssembledGrpcServer() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now());
}

}  // namespace tollgate
