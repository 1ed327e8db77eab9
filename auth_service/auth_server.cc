#include "auth_service/auth_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <pqxx/pqxx>

#include "auth_service/db/migrations.h"
#include "common/auth/access_policy.h"
#include "common/auth/auth_interceptor.h"
#include "common/request_decoding.h"
#include "common/token/base64url.h"
#include "common/token/jwk_set.h"

namespace tollgate::auth {
namespace {

constexpr char kSuccessorKeyName[] = "refresh_successor_key";

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

absl::Status WithContext(const absl::Status& status, const std::string& context) {
  return absl::Status(status.code(), context + ": " + std::string(status.message()));
}

// The first key signs; every key is published so tokens of a retiring key
// keep verifying until they expire.
absl::StatusOr<std::vector<Jwk>> LoadSigningKeys(const AuthConfig& config) {
  std::vector<Jwk> keys;
  if (!config.jwt_secret_key.empty()) {
    auto key = Jwk::FromHmacSecret(config.jwt_secret_key);
    if (!key.ok()) return WithContext(key.status(), "JWT_SECRET_KEY");
    keys.push_back(*std::move(key));
    return keys;
  }
  for (const std::string& file : config.signing_key_files) {
    auto key = Jwk::FromPrivateKeyPemFile(file);
    if (!key.ok()) return WithContext(key.status(), "AUTH_SIGNING_KEYS");
    keys.push_back(*std::move(key));
  }
  return keys;
}

// Migrations use a connection of their own: pooled connections prepare the
// store's statements, which need the tables the migrations create.
absl::Status MigrateOnce(const std::string& url) {
  try {
    pqxx::connection connection(url);
    return ApplyMigrations(connection);
  } catch (...) {
    return StatusFromDatabaseException(std::current_exception());
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<AuthServer>> AuthServer::Start(const AuthConfig& config,
                                                              const Clock& clock,
                                                              int database_wait_seconds) {
  std::unique_ptr<AuthServer> server(new AuthServer());

  auto keys = LoadSigningKeys(config);
  if (!keys.ok()) return keys.status();
  auto key_set = JwkSet::FromKeys(*keys);
  if (!key_set.ok()) return WithContext(key_set.status(), "AUTH_SIGNING_KEYS");

  PostgresPoolOptions pool_options;
  pool_options.url = config.database_url;
  pool_options.size = static_cast<int>(config.database_pool_size);
  pool_options.prepared_statements = AccountStore::PreparedStatements();
  server->database_ = std::make_unique<PostgresPool>(pool_options);

  // Migrations run before anything else touches the schema; replicas that
  // start together serialize on the advisory lock inside.
  absl::Status migrated = absl::UnavailableError("not tried");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(database_wait_seconds);
  for (;;) {
    migrated = MigrateOnce(config.database_url);
    if (migrated.ok() || migrated.code() != absl::StatusCode::kUnavailable ||
        std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (!migrated.ok()) return WithContext(migrated, "database migrations");

  server->store_ = std::make_unique<AccountStore>(*server->database_);
  auto candidate = server->random_.Bytes(RefreshTokenCodec::kMinSuccessorKeyBytes);
  if (!candidate.ok()) return candidate.status();
  auto successor_key = server->store_->SharedSecret(kSuccessorKeyName, Hex(*candidate));
  if (!successor_key.ok()) return WithContext(successor_key.status(), "refresh successor key");
  server->refresh_codec_ = std::make_unique<RefreshTokenCodec>(*successor_key);

  Argon2Params params;
  params.memory_kib = static_cast<uint32_t>(config.argon2_memory_kib);
  params.iterations = static_cast<uint32_t>(config.argon2_iterations);
  auto hasher = PasswordHasher::Create(params);
  if (!hasher.ok()) return WithContext(hasher.status(), "AUTH_ARGON2_*");
  server->hasher_ = std::make_unique<PasswordHasher>(*std::move(hasher));
  server->issuer_ = std::make_unique<AccessTokenIssuer>(
      keys->front(),
      AccessTokenOptions{config.token_issuer, config.token_audience, config.access_ttl_seconds},
      server->random_);

  AccountService::Dependencies deps{server->store_.get(),
                                    server->hasher_.get(),
                                    server->issuer_.get(),
                                    server->refresh_codec_.get(),
                                    &server->random_,
                                    &clock,
                                    *key_set,
                                    RefreshLifetimes{config.refresh_idle_ttl_seconds,
                                                     config.session_ttl_seconds,
                                                     config.refresh_grace_seconds}};
  server->accounts_ = std::make_unique<AccountService>(std::move(deps));
  if (!config.bootstrap_admin_email.empty()) {
    if (auto status = server->accounts_->BootstrapAdmin(config.bootstrap_admin_email,
                                                        config.bootstrap_admin_password);
        !status.ok()) {
      return WithContext(status, "AUTH_BOOTSTRAP_ADMIN_EMAIL");
    }
  }

  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  server->hashing_pool_ = std::make_unique<HashingPool>(HashingPool::Options{
      config.hash_threads > 0 ? static_cast<size_t>(config.hash_threads) : cores,
      static_cast<size_t>(config.hash_queue)});
  // Database-bound calls: one thread per connection, and a deep queue.
  server->database_work_pool_ = std::make_unique<HashingPool>(
      HashingPool::Options{static_cast<size_t>(config.database_pool_size), 4096});
  server->service_ = std::make_unique<AuthServiceImpl>(*server->accounts_, *server->hashing_pool_,
                                                       *server->database_work_pool_);

  auto policy = AccessPolicy::FromServices({"tollgate.auth.v1.AuthService"});
  if (!policy.ok()) return policy.status();
  std::cerr << "auth: access policy\n" << policy->Describe();
  server->own_keys_ = std::make_unique<StaticKeySource>(*key_set);
  server->authenticator_ = std::make_unique<BearerAuthenticator>(
      *std::move(policy),
      AccessTokenVerifier(AccessTokenVerifierOptions{config.token_issuer, config.token_audience,
                                                     config.token_leeway_seconds}),
      *server->own_keys_, clock, BearerAuthenticator::Options{});

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen_address, grpc::InsecureServerCredentials(),
                           &server->port_);
  AnswerUndecodableRequests(*server->service_);
  builder.RegisterService(server->service_.get());
  InstallAuthInterceptor(builder, *server->authenticator_);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError("cannot listen on " + config.listen_address);
  }
  server->server_->GetHealthCheckService()->SetServingStatus(true);
  server->clock_ = &clock;
  server->health_watcher_ = std::thread([raw = server.get()] { raw->WatchHealth(); });
  if (config.session_purge_interval_seconds > 0) {
    server->session_janitor_ = std::thread(
        [raw = server.get(), interval = std::chrono::seconds(config.session_purge_interval_seconds)] {
          raw->RunSessionJanitor(interval);
        });
  }
  return server;
}

bool AuthServer::SleepUnlessStopping(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(stop_mutex_);
  return !stop_requested_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

void AuthServer::RunSessionJanitor(std::chrono::seconds interval) {
  // Every replica runs a janitor; the store lets one purge at a time. The
  // first round comes soon after start (replicas restarted more often than
  // the interval would never purge otherwise), at a random moment in the
  // first minute so that replicas started together do not all try at once.
  std::mt19937_64 jitter{std::random_device{}()};
  const std::chrono::milliseconds first_round = std::min<std::chrono::milliseconds>(
      interval, std::chrono::milliseconds(
                    std::uniform_int_distribution<int64_t>(1000, 60'000)(jitter)));
  const auto keep_going = [this] { return !stopping_.load(); };
  for (auto wait = first_round; SleepUnlessStopping(wait); wait = interval) {
    const int64_t ended_before = clock_->NowUnixSeconds() - kEndedSessionRetentionSeconds;
    const absl::StatusOr<int64_t> purged = store_->PurgeEndedSessions(ended_before, keep_going);
    if (!purged.ok()) {
      // The database may be down; the next round tries again.
      std::cerr << "auth: session purge failed: " << purged.status().message() << "\n";
    } else if (*purged > 0) {
      std::cerr << "auth: purged " << *purged << " ended sessions\n";
    }
  }
}

void AuthServer::WatchHealth() {
  bool serving = true;
  while (!stopping_.load()) {
    const bool reachable = database_->Ping().ok();
    if (reachable != serving && !stopping_.load()) {
      serving = reachable;
      server_->GetHealthCheckService()->SetServingStatus(serving);
      std::cerr << "auth: database " << (serving ? "reachable again: SERVING" : "unreachable: NOT_SERVING")
                << "\n";
    }
    if (!SleepUnlessStopping(std::chrono::seconds(1))) return;
  }
}

void AuthServer::Shutdown(std::chrono::milliseconds drain) {
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopping_.exchange(true)) return;
  }
  stop_requested_.notify_all();
  if (health_watcher_.joinable()) health_watcher_.join();
  if (session_janitor_.joinable()) session_janitor_.join();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + drain);
}

AuthServer::~AuthServer() {
  Shutdown();
  // Pools join their threads before the service and store they call go away.
  hashing_pool_.reset();
  database_work_pool_.reset();
}

}  // namespace tollgate::auth
