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
#include "common/metrics/counter_mirror.h"
#include "common/metrics/gauge_refresher.h"
#include "common/metrics/grpc_metrics.h"
#include "common/metrics/service_metrics.h"
#include "common/server/grpc_server_assembly.h"
#include "prometheus/registry.h"
#include "sum_service/sum_config.h"
#include "sum_service/sum_service_impl.h"

namespace tollgate::sum {

// The whole SumService process minus main(): the key source named by the
// configuration, the access policy read from sum.proto, the service on the
// shared server assembly (AssembledGrpcServer: call pipeline with access
// log, metrics and auth, health, reflection), and the HTTP port.
//
// Health is NOT_SERVING until the first verification keys are held (with
// SUM_KEYS_SOURCE=grpc:// or grpcs://, until GetJwks first succeeded), then SERVING; it
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

  int port() const { return grpc_->port(); }
  // The bound HTTP port (SUM_HTTP_LISTEN), 0 when it is off.
  int http_port() const { return http_ ? http_->port() : 0; }
  // The server's one metrics registry (the tollgate_* families; /metrics
  // serves it), made first thing in Start, so it exists whether or not the
  // HTTP port is on. Other metrics of this server belong on it too.
  prometheus::Registry& metrics_registry() const { return *metrics_registry_; }
  SumServiceImpl& service() { return *service_; }
  // The graceful stop: health NOT_SERVING for every service name, stop
  // accepting, let calls in flight finish for up to `grace` and cancel the
  // rest (see DrainServer), stop fetching keys, stop the HTTP port.
  // Returns when all that is done. Idempotent; the destructor calls it.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  SumServer() = default;
  void MarkKeysReady();
  // Serves SUM_HTTP_LISTEN, when set: /healthz, /readyz, /metrics.
  absl::Status StartHttp(const SumConfig& config);
  bool Ready();

  // The metrics come first: everything below may hold pointers into them,
  // and members are destroyed in reverse order.
  std::shared_ptr<prometheus::Registry> metrics_registry_;
  // The grpc_server_* series, folded into the registry at each scrape.
  std::shared_ptr<GrpcMetrics> grpc_metrics_;
  std::unique_ptr<GuardMetrics> guard_metrics_;
  std::unique_ptr<KeyFetchMetrics> key_fetch_metrics_;  // null unless keys come from GetJwks
  std::shared_ptr<GaugeRefresher> gauges_;              // read at scrape time
  std::shared_ptr<CounterMirror> mirrored_counters_;    // read at scrape time
  std::unique_ptr<KeySource> keys_;
  std::unique_ptr<BearerAuthenticator> authenticator_;
  std::unique_ptr<SumServiceImpl> service_;
  std::unique_ptr<AssembledGrpcServer> grpc_;

  std::mutex health_mutex_;
  bool keys_ready_ = false;  // guarded by health_mutex_
  bool shut_down_ = false;   // guarded by health_mutex_
  std::unique_ptr<HttpEndpoint> http_;
};

}  // namespace tollgate::sum
