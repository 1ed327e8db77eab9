#include "common/server_drain.h"

#include <grpcpp/health_check_service_interface.h>

namespace tollgate {

void DrainServer(grpc::Server& server, std::chrono::milliseconds grace) {
  if (grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService()) {
    health->Shutdown();
  }
  server.Shutdown(std::chrono::system_clock::now() + grace);
}

}  // namespace tollgate
