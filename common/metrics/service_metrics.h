#pragma once

#include <string_view>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace tollgate {

// The tollgate_* metrics, registered on one registry (which must outlive the
// struct) with their help texts; the members are references into it, to be
// updated by the code that sees the event (prometheus counters and gauges
// are thread-safe). A gauge that is cheaper to read than to keep current
// can be set at scrape time instead with GaugeRefresher.
//
// GuardMetrics: what every service behind the AuthInterceptor has.
struct GuardMetrics {
  explicit GuardMetrics(prometheus::Registry& registry);

  // One series per reason; suggested values "missing_authorization",
  // "malformed_authorization", "invalid_token", "missing_role",
  // "method_not_in_policy" (AccessDenial::Reason).
  prometheus::Counter& AuthDenied(std::string_view reason);
  // One series per result; suggested values "ok", "error", "rejected".
  prometheus::Counter& JwksFetch(std::string_view result);

  prometheus::Family<prometheus::Counter>& auth_denied_total;  // {reason}
  prometheus::Counter& token_cache_hits_total;
  prometheus::Counter& token_cache_misses_total;
  prometheus::Family<prometheus::Counter>& jwks_fetch_total;  // {result}
  prometheus::Gauge& jwks_age_seconds;
  prometheus::Counter& undecodable_requests_total;
};

// AuthServiceMetrics: what only AuthService has (its database, password
// hashing, refresh tokens, logins and mail).
struct AuthServiceMetrics {
  explicit AuthServiceMetrics(prometheus::Registry& registry);

  prometheus::Gauge& db_pool_in_use;
  prometheus::Counter& db_pool_waits_total;
  prometheus::Gauge& password_hash_queue_depth;
  prometheus::Counter& password_hash_shed_total;
  prometheus::Counter& refresh_reuse_detected_total;
  prometheus::Counter& login_failures_total;
  prometheus::Gauge& mail_outbox_pending;
};

}  // namespace tollgate
