#include "common/server_listen.h"

#include <arpa/inet.h>
#include <grpc/grpc.h>
#include <grpcpp/health_check_service_interface.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "grpc/health/v1/health.pb.h"

namespace tollgate {
namespace {

// errno of binding a plain socket (SO_REUSEADDR, as gRPC does, no
// SO_REUSEPORT) to the TCP address "host:port" or "[v6]:port"; 0 when it
// binds or the address does not resolve.
int BindErrno(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return 0;
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found) != 0) {
    return 0;
  }
  int error = 0;
  for (addrinfo* info = found; info != nullptr && error == 0; info = info->ai_next) {
    const int fd = socket(info->ai_family, info->ai_socktype | SOCK_CLOEXEC, info->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, info->ai_addr, info->ai_addrlen) != 0) error = errno;
    close(fd);
  }
  freeaddrinfo(found);
  return error;
}

}  // namespace

void AddListeningPort(grpc::ServerBuilder& builder, const std::string& address,
                      bool reuse_port, std::shared_ptr<grpc::ServerCredentials> credentials,
                      int* port) {
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, reuse_port ? 1 : 0);
  builder.AddListeningPort(address, std::move(credentials), port);
}

std::string ListenFailure(const std::string& address) {
  std::string reason = "cannot listen on " + address;
  if (absl::StartsWith(address, "unix:")) return reason;
  const int error = BindErrno(address);
  if (error == EADDRINUSE) return reason + ": address in use";
  if (error != 0) return reason + ": " + std::strerror(error);
  return reason;
}

void MarkServing(grpc::Server& server, const std::vector<std::string>& services, bool serving) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(kLivenessService, true);
  SetReadiness(server, services, serving);
}

void SetReadiness(grpc::Server& server, const std::vector<std::string>& services, bool ready) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  if (health == nullptr) return;
  // Name by name: SetServingStatus(bool) would move liveness as well.
  health->SetServingStatus("", ready);
  for (const std::string& service : services) health->SetServingStatus(service, ready);
}

void LinkHealthDescriptor() {
  // Naming the descriptor keeps the linker from dropping health.pb.cc,
  // whose static initializer registers the file with the generated pool.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
}

}  // namespace tollgate
