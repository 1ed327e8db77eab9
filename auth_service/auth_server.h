#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "auth_service/accounts/admin_service.h"
#include "auth_service/accounts/page_token.h"
#include "auth_service/accounts/profile_service.h"
#include "auth_service/accounts/recovery_service.h"
#include "auth_service/accounts/session_service.h"
#include "auth_service/accounts/token_pair_issuer.h"
#include "auth_service/auth_config.h"
#include "auth_service/auth_service_impl.h"
#include "auth_service/db/postgres_pool.h"
#include "auth_service/mail/mail_sender.h"
#include "auth_service/mail/outbox_dispatcher.h"
#include "auth_service/mail/outbox_store.h"
#include "auth_service/password/hashing_pool.h"
#include "auth_service/password/password_hasher.h"
#include "auth_service/store/postgres_login_failure_store.h"
#include "common/server/grpc_server_assembly.h"
#include "auth_service/store/postgres_one_time_code_store.h"
#include "auth_service/store/postgres_session_store.h"
#include "auth_service/store/postgres_user_store.h"
#include "auth_service/store/server_secret_store.h"
#include "common/auth/bearer_authenticator.h"
#include "common/clock.h"
#include "common/keys/key_source.h"
#include "common/http/http_endpoint.h"
#include "common/metrics/counter_mirror.h"
#include "common/metrics/gauge_refresher.h"
#include "common/metrics/grpc_metrics.h"
#include "common/metrics/service_metrics.h"
#include "common/periodic_task.h"
#include "prometheus/registry.h"
#include "common/random_source.h"

namespace tollgate::auth {

// How long an ended session (past its absolute lifetime, or revoked) is
// kept before the janitor deletes it, for whoever investigates an incident.
inline constexpr int64_t kEndedSessionRetentionSeconds = 24 * 60 * 60;

// How long sent mail stays in the outbox (without its body) before the
// janitor deletes it.
inline constexpr int64_t kSentMailRetentionSeconds = 7 * 24 * 60 * 60;

// The whole AuthService process minus main(): database pool and migrations,
// keys, pools, the gRPC server with health and reflection, and three
// background tasks: a health watch that reports NOT_SERVING while
// PostgreSQL is unreachable, a janitor that deletes ended login sessions,
// expired codes, idle failure counts and old sent mail, and the mail
// sender that drains the outbox over SMTP.
class AuthServer final {
 public:
  // Applies migrations (waiting up to `database_wait_seconds` for a
  // PostgreSQL that refuses or times out; a database that does not exist or
  // a URL that does not parse fails at once, see RunWhenDatabaseReachable),
  // loads keys, creates the bootstrap admin, then listens. Any failure is a
  // one-line status. `clock` must outlive the
  // server (tests inject one).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<AuthServer>> Start(
      const AuthConfig& config, const Clock& clock, int database_wait_seconds = 30);
  ~AuthServer();

  // The bound port (useful with AUTH_LISTEN=127.0.0.1:0).
  int port() const { return grpc_->port(); }
  // The bound HTTP port (AUTH_HTTP_LISTEN), 0 when it is off.
  int http_port() const { return http_ ? http_->port() : 0; }
  // The server's one metrics registry (the tollgate_* and grpc_server_*
  // families; /metrics serves it), made first thing in Start, so it exists
  // whether or not the HTTP port is on.
  prometheus::Registry& metrics_registry() const { return *metrics_registry_; }
  // The graceful stop, in this order: health NOT_SERVING for every service
  // name, stop accepting, let calls in flight finish for up to `grace` and
  // cancel the rest (see DrainServer); stop the background tasks, the HTTP
  // port and the hashing threads; close the database pool. Returns when
  // all that is done. Idempotent; the destructor calls it.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  AuthServer() = default;
  // Starts the mail sender when AUTH_SMTP_URL is set.
  absl::Status StartMailSender(const AuthConfig& config, const Clock& clock);
  // Registers the values read at scrape time (pool in use, hash queue,
  // outbox, undecodable requests), once what they read exists.
  void RefreshGaugesAtScrape();
  // Serves AUTH_HTTP_LISTEN, when set.
  absl::Status StartHttp(const AuthConfig& config, const JwkSet& published_keys);
  // Starts the health watch and the janitor (the server must be running).
  void StartBackgroundTasks(const AuthConfig& config);
  // One health check: NOT_SERVING while PostgreSQL is unreachable (Ping
  // answers UNAVAILABLE), SERVING once it answers again; a busy pool
  // (RESOURCE_EXHAUSTED) leaves the status as it is.
  void CheckHealth();
  // One janitor round: ended sessions, expired codes, idle failure counts,
  // sent mail.
  void PurgeRound(const std::function<bool()>& keep_going);
  // One round of the mail sender: drains the outbox.
  void SendMail(const std::function<bool()>& keep_going);
  // Wakes the mail sender: mail was just queued.
  void MailQueued();

  // The metrics come first: everything below may hold pointers into them,
  // and members are destroyed in reverse order.
  std::shared_ptr<prometheus::Registry> metrics_registry_;
  // The grpc_server_* series, folded into the registry at each scrape.
  std::shared_ptr<GrpcMetrics> grpc_metrics_;
  std::unique_ptr<GuardMetrics> guard_metrics_;
  std::unique_ptr<AuthServiceMetrics> metrics_;
  std::shared_ptr<GaugeRefresher> gauges_;  // read at scrape time
  std::shared_ptr<CounterMirror> mirrored_counters_;  // read at scrape time
  OpenSslRandomSource random_;
  std::unique_ptr<PostgresPool> database_;
  std::unique_ptr<PostgresUserStore> users_;
  std::unique_ptr<PostgresSessionStore> sessions_;
  std::unique_ptr<PostgresLoginFailureStore> login_failures_;
  std::unique_ptr<PostgresOneTimeCodeStore> codes_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<AccessTokenIssuer> issuer_;
  std::unique_ptr<RefreshTokenCodec> refresh_codec_;
  std::unique_ptr<TokenPairIssuer> pairs_;
  std::unique_ptr<PageTokenCodec> page_tokens_;
  std::unique_ptr<SessionService> session_service_;
  std::unique_ptr<ProfileService> profile_service_;
  std::unique_ptr<RecoveryService> recovery_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<HashingPool> hashing_pool_;
  std::unique_ptr<HashingPool> database_work_pool_;
  std::unique_ptr<AuthServiceImpl> service_;
  // AuthService guards its own account and admin methods with the same
  // interceptor as any other service, verifying with its own keys.
  std::unique_ptr<StaticKeySource> own_keys_;
  std::unique_ptr<BearerAuthenticator> authenticator_;
  std::unique_ptr<AssembledGrpcServer> grpc_;
  const Clock* clock_ = nullptr;
  std::atomic<bool> stopping_{false};
  // What health says: written by the health task, read by /readyz.
  std::atomic<bool> serving_{true};
  std::unique_ptr<OutboxStore> outbox_;
  std::unique_ptr<MailSender> mail_sender_;  // null without AUTH_SMTP_URL
  std::unique_ptr<OutboxDispatcher> dispatcher_;
  // Background tasks, stopped first at Shutdown. The janitor is null when
  // its interval is 0, the mail task without AUTH_SMTP_URL.
  std::unique_ptr<PeriodicTask> health_task_;
  std::unique_ptr<PeriodicTask> janitor_task_;
  std::unique_ptr<PeriodicTask> mail_task_;
  // AUTH_HTTP_LISTEN: /healthz, /readyz, /metrics, /.well-known/jwks.json.
  std::unique_ptr<HttpEndpoint> http_;
};

}  // namespace tollgate::auth
