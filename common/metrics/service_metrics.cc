#include "common/metrics/service_metrics.h"

#include <string>

namespace tollgate {
namespace {

prometheus::Family<prometheus::Counter>& CounterFamily(prometheus::Registry& registry,
                                                       const std::string& name,
                                                       const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Counter& SingleCounter(prometheus::Registry& registry, const std::string& name,
                                   const std::string& help) {
  return CounterFamily(registry, name, help).Add({});
}

prometheus::Gauge& SingleGauge(prometheus::Registry& registry, const std::string& name,
                               const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

}  // namespace

GuardMetrics::GuardMetrics(prometheus::Registry& registry)
    : auth_denied_total(CounterFamily(registry, "tollgate_auth_denied_total",
                                      "Calls the access policy refused, by reason.")),
      token_cache_hits_total(SingleCounter(registry, "tollgate_token_cache_hits_total",
                                           "Bearer tokens found in the verified-token cache.")),
      token_cache_misses_total(
          SingleCounter(registry, "tollgate_token_cache_misses_total",
                        "Bearer tokens not in the verified-token cache (fully verified).")),
      undecodable_requests_total(
          SingleCounter(registry, "tollgate_undecodable_requests_total",
                        "Request messages that could not be decoded (INVALID_ARGUMENT).")) {}

prometheus::Counter& GuardMetrics::AuthDenied(std::string_view reason) {
  return auth_denied_total.Add({{"reason", std::string(reason)}});
}

KeyFetchMetrics::KeyFetchMetrics(prometheus::Registry& registry)
    : jwks_fetch_total(CounterFamily(registry, "tollgate_jwks_fetch_total",
                                     "Fetches of the signing keys (JWKS), by result.")),
      jwks_fetch_ok_total(jwks_fetch_total.Add({{"result", "ok"}})),
      jwks_fetch_error_total(jwks_fetch_total.Add({{"result", "error"}})),
      jwks_fetch_rejected_total(jwks_fetch_total.Add({{"result", "rejected"}})),
      jwks_age_seconds(SingleGauge(registry, "tollgate_jwks_age_seconds",
                                   "Seconds since the key set in use was last fetched "
                                   "(-1: no fetch has succeeded yet).")) {
  jwks_age_seconds.Set(-1);
}

AuthServiceMetrics::AuthServiceMetrics(prometheus::Registry& registry)
    : db_pool_in_use(SingleGauge(registry, "tollgate_db_pool_in_use",
                                 "Database connections currently lent out by the pool.")),
      db_pool_waits_total(SingleCounter(registry, "tollgate_db_pool_waits_total",
                                        "Times a call waited for a free database connection.")),
      password_hash_queue_depth(
          SingleGauge(registry, "tollgate_password_hash_queue_depth",
                      "Password hashes waiting for a hashing thread.")),
      password_hash_shed_total(
          SingleCounter(registry, "tollgate_password_hash_shed_total",
                        "Calls refused (RESOURCE_EXHAUSTED) because the hash queue was full.")),
      refresh_reuse_detected_total(
          SingleCounter(registry, "tollgate_refresh_reuse_detected_total",
                        "Refresh tokens presented again after rotation (family revoked).")),
      login_failures_total(SingleCounter(registry, "tollgate_login_failures_total",
                                         "Logins refused for a wrong email or password.")),
      mail_outbox_pending(SingleGauge(registry, "tollgate_mail_outbox_pending",
                                      "Mails in the outbox not yet delivered.")) {}

}  // namespace tollgate
