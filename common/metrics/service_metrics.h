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
// is set at scrape time instead, with GaugeRefresher.
//
// How the code reports: each component that sees an event takes a nullable
// pointer to the struct it feeds (null: nothing is counted), not an
// observer interface. Every event is a plain count with one consumer;
// prometheus-cpp's core (no HTTP in it) already gives thread-safe atomic
// counters; and an interface per component would add a virtual class and
// an adapter each that no test needs to replace (tests read the counters
// off a registry). Labelled series are resolved once, where the component
// is built, so no call looks a label up.

// GuardMetrics: what every service behind the call pipeline has, fed by
// BearerAuthenticator.
struct GuardMetrics {
  explicit GuardMetrics(prometheus::Registry& registry);

  // The series of one reason (DenialReasonName); a lookup by label, so
  // resolve it once and keep the reference.
  prometheus::Counter& AuthDenied(std::string_view reason);

  prometheus::Family<prometheus::Counter>& auth_denied_total;  // {reason}
  prometheus::Counter& token_cache_hits_total;
  prometheus::Counter& token_cache_misses_total;
  // Kept by common/request_decoding for the whole process (one server per
  // process in production); its owner mirrors it at scrape time
  // (CounterMirror).
  prometheus::Counter& undecodable_requests_total;
};

// KeyFetchMetrics: a service whose keys come from AuthService.GetJwks
// (SumService with SUM_KEYS_SOURCE=grpc://), fed by AuthServiceKeySource.
// Only such a service registers them: a service with fixed keys has no
// fetch whose age could be told.
struct KeyFetchMetrics {
  explicit KeyFetchMetrics(prometheus::Registry& registry);

  prometheus::Family<prometheus::Counter>& jwks_fetch_total;  // {result}
  // The three results, created up front so each is scraped from 0:
  prometheus::Counter& jwks_fetch_ok_total;        // result="ok": the set is in use
  prometheus::Counter& jwks_fetch_error_total;     // result="error": GetJwks failed
  prometheus::Counter& jwks_fetch_rejected_total;  // result="rejected": not a usable JWKS
  prometheus::Gauge& jwks_age_seconds;             // -1 until the first fetch succeeded
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
