#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config/literal.h"
#include "common/config/settings.h"
#include "common/connection_limits.h"

namespace tollgate::config {

// The settings behind ConnectionLimits. Both services have them, each under
// its own variables (AUTH_MAX_CONNECTION_IDLE, SUM_MAX_CONNECTION_IDLE, ...),
// with the same flags, defaults (ConnectionLimits{}'s) and meanings.
struct ConnectionLimitSettings {
  Setting max_idle;                // seconds [0 = never, 86400]
  Setting max_age;                 // seconds [0 = never, 604800]
  Setting max_age_grace;           // seconds [0, 3600]
  Setting min_ping_interval;       // seconds [1, 7200]
  Setting max_concurrent_streams;  // [1, 65536]

  // The five settings under a service's prefix: WithPrefix<"AUTH_">() reads
  // AUTH_MAX_CONNECTION_IDLE, AUTH_MAX_CONNECTION_AGE,
  // AUTH_MAX_CONNECTION_AGE_GRACE, AUTH_KEEPALIVE_MIN_PING_INTERVAL and
  // AUTH_MAX_CONCURRENT_STREAMS.
  template <Literal Prefix>
  static constexpr ConnectionLimitSettings WithPrefix() {
    return {
        {"max-connection-idle", Joined<Prefix, "MAX_CONNECTION_IDLE">, "300", "",
         "close a connection with no call in flight for this long, seconds [0 = never, 86400]"},
        {"max-connection-age", Joined<Prefix, "MAX_CONNECTION_AGE">, "1800", "",
         "send GOAWAY to a connection this old (+-10% jitter), so clients reconnect and "
         "spread over replicas, seconds [0 = never, 604800]"},
        {"max-connection-age-grace", Joined<Prefix, "MAX_CONNECTION_AGE_GRACE">, "30", "",
         "how long calls in flight on a connection past its age may finish before it is "
         "closed, seconds [0, 3600]"},
        {"keepalive-min-ping-interval", Joined<Prefix, "KEEPALIVE_MIN_PING_INTERVAL">, "60", "",
         "least time between a client's PINGs while a call is in flight (none while idle); a "
         "client that pings more often is disconnected (too_many_pings), seconds [1, 7200]"},
        {"max-concurrent-streams", Joined<Prefix, "MAX_CONCURRENT_STREAMS">, "100", "",
         "calls in flight on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); a gRPC "
         "client holds more until one ends [1, 65536]"},
    };
  }
};

// INVALID_ARGUMENT naming the setting for a value that is not a whole
// number in its range.
[[nodiscard]] absl::StatusOr<ConnectionLimits> ParseConnectionLimits(
    const RawSettings& raw, const ConnectionLimitSettings& settings);

}  // namespace tollgate::config
