#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "common/auth/bearer_authenticator.h"
#include "common/clock.h"
#include "common/http/http_endpoint.h"
#include "common/keys/key_source.h"
#include "sum_service/sum_config.h"
#include "sum_service/sum_service_impl.h"

namespace tollgate::sum {

// The whole SumService process minus main(): the key source named by the
// configuration, the access policy read from sum.proto, the AuthInterceptor,
// the service, health and reflection.
//
// Health is NOT_SERVING until the first verification keys are held (with
// SUM_KEYS_SOURCE=grpc://, until GetJwks first succeeded), then SERVING; it
// stays SERVING when the AuthService goes away, because the keys held keep
// verifying.
class SumServer final {
 public:
  // Reads a JWKS file or the shared secret, or starts fetching from the
  // AuthService (in the background: start-up does not wait for it), then
  // listens. Any failure is a one-line status. `clock` must outlive the server.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SumServer>> Start(const SumConfig& config,
                                                                        const Clock& clock);
  ~SumServer();

  int port() const { return port_; }
  // The bound HTTP port (SUM_HTTP_LISTEN), 0 when it is off.
  int http_port() const { return http_ ? http_->port() : 0; }
  SumServiceImpl& service() { return *service_; }
  // Stops accepting calls, lets in-flight calls finish (up to `drain`).
  void Shutdown(std::chrono::milliseconds drain = std::chrono::milliseconds(5000));

 private:
  SumServer() = default;
  void MarkKeysReady();
  // Serves SUM_HTTP_LISTEN, when set: /healthz, /readyz, /metrics.
  absl::Status StartHttp(const SumConfig& config);
  bool Ready();

  std::unique_ptr<KeySource> keys_;
  std::unique_ptr<BearerAuthenticator> authenticator_;
  std::unique_ptr<SumServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  std::mutex health_mutex_;
  bool keys_ready_ = false;  // guarded by health_mutex_
  bool shut_down_ = false;   // guarded by health_mutex_
  std::unique_ptr<HttpEndpoint> http_;
};

}  // namespace tollgate::sum
