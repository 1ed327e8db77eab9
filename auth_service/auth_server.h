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
#include "auth_service/accounts/account_service.h"
#include "auth_service/auth_config.h"
#include "auth_service/auth_service_impl.h"
#include "auth_service/db/postgres_pool.h"
#include "auth_service/password/hashing_pool.h"
#include "auth_service/password/password_hasher.h"
#include "auth_service/store/account_store.h"
#include "common/auth/bearer_authenticator.h"
#include "common/clock.h"
#include "common/keys/key_source.h"
#include "common/random_source.h"

namespace tollgate::auth {

// How long an ended session (past its absolute lifetime, or revoked) is
// kept before the janitor deletes it, for whoever investigates an incident.
inline constexpr int64_t kEndedSessionRetentionSeconds = 24 * 60 * 60;

// The whole AuthService process minus main(): database pool and migrations,
// keys, pools, the gRPC server with health and reflection, a health watcher
// that reports NOT_SERVING while PostgreSQL is unreachable, and a session
// janitor that deletes ended login sessions.
class AuthServer final {
 public:
  // Applies migrations (waiting up to `database_wait_seconds` for PostgreSQL
  // to accept connections), loads keys, creates the bootstrap admin, then
  // listens. Any failure is a one-line status. `clock` must outlive the
  // server (tests inject one).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<AuthServer>> Start(
      const AuthConfig& config, const Clock& clock, int database_wait_seconds = 30);
  ~AuthServer();

  // The bound port (useful with AUTH_LISTEN=127.0.0.1:0).
  int port() const { return port_; }
  // Stops accepting calls, lets in-flight calls finish (up to the deadline),
  // then cancels the rest.
  void Shutdown(std::chrono::milliseconds drain = std::chrono::milliseconds(5000));

 private:
  AuthServer() = default;
  void WatchHealth();
  void RunSessionJanitor(std::chrono::seconds interval);
  // Sleeps up to `duration`; false once Shutdown() began.
  bool SleepUnlessStopping(std::chrono::milliseconds duration);

  OpenSslRandomSource random_;
  std::unique_ptr<PostgresPool> database_;
  std::unique_ptr<AccountStore> store_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<AccessTokenIssuer> issuer_;
  std::unique_ptr<RefreshTokenCodec> refresh_codec_;
  std::unique_ptr<AccountService> accounts_;
  std::unique_ptr<HashingPool> hashing_pool_;
  std::unique_ptr<HashingPool> database_work_pool_;
  std::unique_ptr<AuthServiceImpl> service_;
  // AuthService guards its own account and admin methods with the same
  // interceptor as any other service, verifying with its own keys.
  std::unique_ptr<StaticKeySource> own_keys_;
  std::unique_ptr<BearerAuthenticator> authenticator_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  const Clock* clock_ = nullptr;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;
  std::condition_variable stop_requested_;
  std::thread health_watcher_;
  std::thread session_janitor_;  // not started when the interval is 0
};

}  // namespace tollgate::auth
