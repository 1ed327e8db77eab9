#include "client/cli/health_command.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <ostream>

#include "client/cli/cli.h"
#include "client/cli/json_text.h"
#include "common/grpc_status.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace tollgate::cli {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr char kSumServiceName[] = "tollgate.sum.v1.SumService";

// "service 'NAME'", or "the server ('')" for the empty name.
std::string Subject(const std::string& service) {
  return service.empty() ? "the server ('')" : "service '" + service + "'";
}

}  // namespace

std::string HealthCheckAddress(const CommandLine& command_line) {
  if (std::optional<std::string> address = command_line.Value("addr")) return *address;
  return command_line.Value("service") == kSumServiceName ? command_line.options().sum_address
                                                          : command_line.options().auth_address;
}

int CheckHealth(const std::string& address, const std::string& service,
                const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                std::chrono::seconds timeout, std::ostream& out, std::ostream& err) {
  const std::unique_ptr<Health::Stub> health =
      Health::NewStub(grpc::CreateChannel(address, credentials));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  const grpc::Status status = health->Check(&context, request, &response);

  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    err << "tollgate: health: " << address << " does not know " << Subject(service)
        << " (NOT_FOUND)\n";
    return kExitFailure;
  }
  if (!status.ok()) {
    std::string message = status.error_message();
    std::replace(message.begin(), message.end(), '\n', ' ');
    err << "tollgate: health: " << address << ": " << StatusCodeName(status.error_code()) << ": "
        << message << "\n";
    return kExitFailure;
  }
  if (response.status() != HealthCheckResponse::SERVING) {
    err << "tollgate: health: " << address << " answers "
        << HealthCheckResponse::ServingStatus_Name(response.status()) << " for "
        << Subject(service) << "\n";
    return kExitFailure;
  }
  absl::StatusOr<std::string> json = MessageToJsonLine(response);
  if (!json.ok()) {
    err << "tollgate: health: " << json.status().message() << "\n";
    return kExitFailure;
  }
  out << *json << "\n" << std::flush;
  return kExitSuccess;
}

}  // namespace tollgate::cli
