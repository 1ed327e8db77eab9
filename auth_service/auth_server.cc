#include "auth_service/auth_server.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <pqxx/pqxx>

#include "auth_service/accounts/email_address.h"
#include "auth_service/db/database_wait.h"
#include "auth_service/db/migrations.h"
#include "auth_service/password/login_throttle.h"
#include "auth_service/mail/outbox_store.h"
#include "auth_service/mail/smtp_mail_sender.h"
#include "auth_service/tokens/opaque_token.h"
#include "common/auth/access_policy.h"
#include "common/metrics/grpc_metrics.h"
#include "common/metrics/process_metrics.h"
#include "common/logging/logger.h"
#include "common/server_drain.h"
#include "common/request_decoding.h"
#include "common/server_listen.h"
#include "common/tls/tls_credentials.h"
#include "common/token/base64url.h"
#include "common/token/jwk_set.h"

namespace tollgate::auth {
namespace {

constexpr char kAuthServiceName[] = "tollgate.auth.v1.AuthService";
constexpr char kSuccessorKeyName[] = "refresh_successor_key";
constexpr char kPageTokenKeyName[] = "list_users_page_token_key";
// Recorded once the stored email keys follow the current EmailKey rule.
constexpr char kEmailKeyRule[] = "email_key_nfkc_casefold_v1";

std::vector<std::pair<std::string, std::string>> AllPreparedStatements() {
  std::vector<std::pair<std::string, std::string>> statements;
  for (auto&& part : {PostgresUserStore::PreparedStatements(),
                      PostgresSessionStore::PreparedStatements(),
                      PostgresLoginFailureStore::PreparedStatements(),
                      PostgresOneTimeCodeStore::PreparedStatements(),
                      OutboxStore::PreparedStatements(), ServerSecretStore::PreparedStatements()}) {
    statements.insert(statements.end(), part.begin(), part.end());
  }
  return statements;
}

// A 256-bit key shared by every replica, made from `random` by the first
// to start, as lower-case hex (the HMAC key is the hex text itself).
absl::StatusOr<std::string> SharedKeyHex(ServerSecretStore& secrets, RandomSource& random,
                                         const std::string& name) {
  auto candidate = random.Bytes(32);
  if (!candidate.ok()) return candidate.status();
  return secrets.SharedSecret(name, HexOf(*candidate));
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

}  // namespace

absl::StatusOr<std::unique_ptr<AuthServer>> AuthServer::Start(const AuthConfig& config,
                                                              const Clock& clock,
                                                              int database_wait_seconds) {
  // The TLS files first: a wrong one ends the start before the database wait.
  auto credentials = tls::ServerCredentialsFrom(config.tls);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<AuthServer> server(new AuthServer());
  // First, so that every part built below can be handed the metrics it
  // feeds, whether or not AUTH_HTTP_LISTEN serves them.
  server->metrics_registry_ = std::make_shared<prometheus::Registry>();
  server->grpc_metrics_ = std::make_shared<GrpcMetrics>(*server->metrics_registry_);
  server->guard_metrics_ = std::make_unique<GuardMetrics>(*server->metrics_registry_);
  server->metrics_ = std::make_unique<AuthServiceMetrics>(*server->metrics_registry_);
  server->gauges_ = std::make_shared<GaugeRefresher>();
  server->mirrored_counters_ = std::make_shared<CounterMirror>();

  auto keys = LoadSigningKeys(config);
  if (!keys.ok()) return keys.status();
  auto key_set = JwkSet::FromKeys(*keys);
  if (!key_set.ok()) return WithContext(key_set.status(), "AUTH_SIGNING_KEYS");

  PostgresPoolOptions pool_options;
  pool_options.url = config.database_url;
  pool_options.size = static_cast<int>(config.database_pool_size);
  pool_options.prepared_statements = AllPreparedStatements();
  pool_options.metrics = server->metrics_.get();
  server->database_ = std::make_unique<PostgresPool>(pool_options);

  // Migrations run before anything else touches the schema, on a
  // connection of their own (pooled connections prepare the store's
  // statements, which need the tables the migrations create); replicas that
  // start together serialize on the advisory lock inside. Only a database
  // that may still come up is waited for.
  const absl::Status migrated = RunWhenDatabaseReachable(
      config.database_url, std::chrono::seconds(database_wait_seconds),
      [](pqxx::connection& connection) -> absl::Status {
        try {
          return ApplyMigrations(connection);
        } catch (...) {
          return StatusFromDatabaseException(std::current_exception());
        }
      });
  if (!migrated.ok()) return WithContext(migrated, "database migrations");

  PostgresPool& database = *server->database_;
  server->users_ = std::make_unique<PostgresUserStore>(database);
  server->sessions_ = std::make_unique<PostgresSessionStore>(database, server->metrics_.get());
  server->login_failures_ = std::make_unique<PostgresLoginFailureStore>(database);
  server->codes_ = std::make_unique<PostgresOneTimeCodeStore>(database);
  server->outbox_ = std::make_unique<OutboxStore>(database);
  ServerSecretStore secrets(database);

  // Stored email keys made by an older rule would let a look-alike of an
  // existing address register beside it, and hide accounts from Login.
  auto rekeyed = server->users_->RekeyEmails(
      kEmailKeyRule,
      [](const std::string& email) -> std::optional<std::string> {
        // An address today's rules refuse (a look-alike registered before
        // them) still gets a key by the new rule, so it cannot shadow one.
        auto normalized = NormalizeEmail(email);
        return EmailKey(normalized.ok() ? *normalized : email);
      },
      clock.NowUnixSeconds());
  if (!rekeyed.ok()) return WithContext(rekeyed.status(), "re-keying stored emails");
  if (*rekeyed > 0) logging::Info("stored emails re-keyed", {{"count", *rekeyed}});

  // Both keys are shared by the replicas: any of them must derive the same
  // refresh successor and accept the others' page tokens.
  auto successor_key = SharedKeyHex(secrets, server->random_, kSuccessorKeyName);
  if (!successor_key.ok()) return WithContext(successor_key.status(), "refresh successor key");
  server->refresh_codec_ = std::make_unique<RefreshTokenCodec>(*successor_key);
  auto page_key = SharedKeyHex(secrets, server->random_, kPageTokenKeyName);
  if (!page_key.ok()) return WithContext(page_key.status(), "page token key");
  server->page_tokens_ = std::make_unique<PageTokenCodec>(*page_key);

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
  server->pairs_ = std::make_unique<TokenPairIssuer>(
      *server->issuer_, *server->refresh_codec_, server->random_,
      RefreshLifetimes{config.refresh_idle_ttl_seconds, config.session_ttl_seconds,
                       config.refresh_grace_seconds});

  server->session_service_ = std::make_unique<SessionService>(SessionService::Dependencies{
      server->users_.get(), server->sessions_.get(), server->login_failures_.get(),
      server->hasher_.get(), server->pairs_.get(), &clock, *key_set, server->metrics_.get()});
  const std::function<void()> mail_queued = [raw = server.get()] { raw->MailQueued(); };
  server->profile_service_ = std::make_unique<ProfileService>(ProfileService::Dependencies{
      server->users_.get(), server->hasher_.get(), server->pairs_.get(), &server->random_, &clock,
      config.verify_ttl_seconds, config.mail_link_base, mail_queued});
  server->recovery_service_ = std::make_unique<RecoveryService>(RecoveryService::Dependencies{
      server->users_.get(), server->codes_.get(), server->hasher_.get(), &server->random_, &clock,
      config.reset_ttl_seconds, config.verify_ttl_seconds, config.mail_link_base, mail_queued});
  server->admin_service_ = std::make_unique<AdminService>(AdminService::Dependencies{
      server->users_.get(), server->page_tokens_.get(), &clock,
      std::set<std::string>(config.grantable_roles.begin(), config.grantable_roles.end())});

  if (!config.bootstrap_admin_email.empty()) {
    auto admin = server->session_service_->BootstrapAdmin(config.bootstrap_admin_email,
                                                          config.bootstrap_admin_password);
    if (!admin.ok()) return WithContext(admin.status(), "AUTH_BOOTSTRAP_ADMIN_EMAIL");
    logging::Info("bootstrap admin ready", {{"user_id", admin->id}});
  }

  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  server->hashing_pool_ = std::make_unique<HashingPool>(HashingPool::Options{
      .threads = config.hash_threads > 0 ? static_cast<size_t>(config.hash_threads) : cores,
      .queue_capacity = static_cast<size_t>(config.hash_queue),
      .shed_total = &server->metrics_->password_hash_shed_total});
  // Database-bound calls: one thread per connection, and a deep queue.
  server->database_work_pool_ = std::make_unique<HashingPool>(
      HashingPool::Options{static_cast<size_t>(config.database_pool_size), 4096});
  auto trusted_proxies = TrustedProxies::Parse(config.trusted_proxies);
  if (!trusted_proxies.ok()) return trusted_proxies.status();
  server->service_ = std::make_unique<AuthServiceImpl>(AuthServiceImpl::Dependencies{
      server->session_service_.get(), server->profile_service_.get(),
      server->recovery_service_.get(), server->admin_service_.get(), server->hashing_pool_.get(),
      server->database_work_pool_.get(), *std::move(trusted_proxies)});

  server->RefreshGaugesAtScrape();

  auto policy = AccessPolicy::FromServices({kAuthServiceName});
  if (!policy.ok()) return policy.status();
  policy->LogTable();
  server->own_keys_ = std::make_unique<StaticKeySource>(*key_set);
  server->authenticator_ = std::make_unique<BearerAuthenticator>(
      *std::move(policy),
      AccessTokenVerifier(AccessTokenVerifierOptions{config.token_issuer, config.token_audience,
                                                     config.token_leeway_seconds}),
      *server->own_keys_, clock,
      BearerAuthenticator::Options{.metrics = server->guard_metrics_.get()});
  server->authenticator_->MirrorCacheCounts(*server->mirrored_counters_);

  // Before the first call can queue mail and wake the sender.
  if (auto status = server->StartMailSender(config, clock); !status.ok()) return status;

  GrpcServerOptions grpc_options = GrpcServerOptions::From(config);
  grpc_options.credentials = *credentials;
  grpc_options.services = {{kAuthServiceName, server->service_.get()}};
  grpc_options.authenticator = server->authenticator_.get();
  grpc_options.grpc_metrics = server->grpc_metrics_.get();
  auto built = AssembledGrpcServer::Start(std::move(grpc_options));
  if (!built.ok()) return built.status();
  server->grpc_ = *std::move(built);
  // Every service name answers Check and Watch, tied to one status that
  // the database watch flips (SetReadiness); "liveness" stays SERVING.
  MarkServing(server->grpc_->server(), {kAuthServiceName}, true);
  server->clock_ = &clock;
  server->StartBackgroundTasks(config);
  if (auto status = server->StartHttp(config, *key_set); !status.ok()) return status;
  return server;
}

void AuthServer::RefreshGaugesAtScrape() {
  gauges_->Add(metrics_->db_pool_in_use,
               [this] { return static_cast<double>(database_->in_use()); });
  gauges_->Add(metrics_->password_hash_queue_depth,
               [this] { return static_cast<double>(hashing_pool_->queued()); });
  gauges_->Add(metrics_->mail_outbox_pending, [this] {
    const absl::StatusOr<int64_t> pending = outbox_->CountPending();
    return pending.ok() ? static_cast<double>(*pending) : -1.0;  // -1: database unreachable
  });
  mirrored_counters_->Add(guard_metrics_->undecodable_requests_total,
                          [] { return UndecodableRequestsTotal(); });
}

absl::Status AuthServer::StartHttp(const AuthConfig& config, const JwkSet& published_keys) {
  if (config.http_listen_address.empty()) return absl::OkStatus();
  http_ = std::make_unique<HttpEndpoint>(HttpEndpointOptions{config.http_listen_address});
  http_->ServeReadiness([this] { return serving_.load() && !stopping_.load(); });
  // The scrape-time values first: they set what the registry then reports.
  http_->ServeMetrics(
      {grpc_metrics_, gauges_, mirrored_counters_, std::make_shared<ProcessMetrics>(),
       metrics_registry_});
  // Shorter than any sane key-rotation overlap, so a gateway that caches
  // the set sees a new key well before tokens signed with it arrive.
  http_->ServeJwks([json = published_keys.ToPublicJson()] { return json; },
                   std::chrono::seconds(300));
  return http_->Start();
}

void AuthServer::StartBackgroundTasks(const AuthConfig& config) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  health_task_ = std::make_unique<PeriodicTask>(seconds(1), seconds(1),
                                                [this](const auto&) { CheckHealth(); });
  if (config.session_purge_interval_seconds > 0) {
    // Every replica runs a janitor; the stores let one purge at a time. The
    // first round comes soon after start (replicas restarted more often
    // than the interval would never purge otherwise), at a random moment in
    // the first minute so that replicas started together do not all try at
    // once.
    const milliseconds interval = seconds(config.session_purge_interval_seconds);
    std::mt19937_64 jitter{std::random_device{}()};
    const milliseconds first_round = std::min<milliseconds>(
        interval, milliseconds(std::uniform_int_distribution<int64_t>(1000, 60'000)(jitter)));
    janitor_task_ = std::make_unique<PeriodicTask>(
        first_round, interval, [this](const auto& keep_going) { PurgeRound(keep_going); });
  }
}

absl::Status AuthServer::StartMailSender(const AuthConfig& config, const Clock& clock) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  if (config.smtp_url.empty()) {
    // The mail is kept: a replica with AUTH_SMTP_URL, or this one restarted
    // with it, sends it later.
    // pending -1: the count could not be read.
    const absl::StatusOr<int64_t> pending = outbox_->CountPending();
    logging::Info("mail sender off: AUTH_SMTP_URL is not set, mail stays in the outbox",
                  {{"pending", pending.ok() ? *pending : int64_t{-1}}});
    return absl::OkStatus();
  }
  auto smtp = SmtpSettings::Parse(config.smtp_url, config.smtp_user, config.smtp_password);
  if (!smtp.ok()) return smtp.status();
  mail_sender_ = std::make_unique<SmtpMailSender>(*std::move(smtp));
  OutboxDispatcherOptions options;
  options.from = config.mail_from;
  dispatcher_ = std::make_unique<OutboxDispatcher>(*outbox_, *mail_sender_, clock, options);
  const milliseconds poll = seconds(config.mail_poll_interval_seconds);
  mail_task_ = std::make_unique<PeriodicTask>(
      milliseconds(0), poll, [this](const auto& keep_going) { SendMail(keep_going); });
  return absl::OkStatus();
}

void AuthServer::SendMail(const std::function<bool()>& keep_going) {
  const absl::StatusOr<DrainResult> drained = dispatcher_->Drain(keep_going);
  if (!drained.ok()) {
    // The database may be down; the next round tries again.
    logging::Warn("mail round failed", {{"reason", std::string(drained.status().message())}});
  }
}

void AuthServer::MailQueued() {
  if (mail_task_) mail_task_->Wake();
}

void AuthServer::PurgeRound(const std::function<bool()>& keep_going) {
  const int64_t now = clock_->NowUnixSeconds();
  // Each purge may fail on its own (the database may be down); the next
  // round tries again.
  const auto report = [](const char* what, const absl::StatusOr<int64_t>& purged) {
    if (!purged.ok()) {
      logging::Warn("purge failed",
                    {{"what", what}, {"reason", std::string(purged.status().message())}});
    } else if (*purged > 0) {
      logging::Info("purged", {{"what", what}, {"rows", *purged}});
    }
  };
  report("ended_sessions",
         sessions_->PurgeEndedSessions(now - kEndedSessionRetentionSeconds, keep_going));
  report("expired_codes", codes_->PurgeExpired(now, keep_going));
  report("idle_login_failures",
         login_failures_->PurgeIdle(now - kFailureMemorySeconds, now, keep_going));
  constexpr int kMailBatch = 1000;
  int64_t mail_purged = 0;
  absl::StatusOr<int64_t> batch = int64_t{kMailBatch};
  while (batch.ok() && *batch == kMailBatch && keep_going()) {
    batch = outbox_->PurgeSent(now - kSentMailRetentionSeconds, kMailBatch);
    if (batch.ok()) mail_purged += *batch;
  }
  report("finished_mail", batch.ok() ? absl::StatusOr<int64_t>(mail_purged) : batch);
}

void AuthServer::CheckHealth() {
  const absl::Status ping = database_->Ping();
  // RESOURCE_EXHAUSTED: every connection is busy. That is load, which the
  // pool sheds itself; taking the replica out of its load balancer would
  // only move the flood to the others. It says nothing about the database,
  // so health stays as it was. Only UNAVAILABLE (cannot connect, connection
  // lost, backing off) means the database is unreachable.
  if (ping.code() == absl::StatusCode::kResourceExhausted) return;
  const bool reachable = ping.code() != absl::StatusCode::kUnavailable;
  if (reachable != serving_.load() && !stopping_.load()) {
    serving_ = reachable;
    SetReadiness(grpc_->server(), {kAuthServiceName}, reachable);
    if (reachable) {
      logging::Info("health changed", {{"status", "SERVING"}, {"reason", "database reachable"}});
    } else {
      logging::Warn("health changed",
                    {{"status", "NOT_SERVING"}, {"reason", "database unreachable"}});
    }
  }
}

void AuthServer::Shutdown(std::chrono::milliseconds grace) {
  if (stopping_.exchange(true)) return;  // /readyz answers 503 from here on
  if (grpc_) DrainServer(grpc_->server(), grace);
  // Each Stop waits for a running round; a janitor or mail round checks
  // keep_going between batches, so this is quick.
  for (PeriodicTask* task : {health_task_.get(), janitor_task_.get(), mail_task_.get()}) {
    if (task != nullptr) task->Stop();
  }
  // After the drain, so /readyz said 503 throughout; before the database
  // closes, since /metrics reads it.
  if (http_) http_->Stop();
  // Every handler has returned; what they queued has run or runs now.
  hashing_pool_.reset();
  database_work_pool_.reset();
  if (database_) database_->Close();
}

AuthServer::~AuthServer() {
  // Also joins the pools' threads before the service and stores they call
  // go away.
  Shutdown();
}

}  // namespace tollgate::auth
