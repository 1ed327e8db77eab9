#pragma once

#include <chrono>

namespace grpc {
class ServerBuilder;
}

namespace tollgate {

// What one client connection may hold of a public-facing gRPC server, and
// for how long. gRPC's own defaults bound none of it: an idle connection, or
// one that sent only the HTTP/2 preface, stays open for ever.
//
// What ApplyConnectionLimits sets on a builder (before BuildAndStart):
// - max_idle: a connection with no call in flight for this long gets GOAWAY
//   and is closed. Frees what abandoned and half-open clients hold; a gRPC
//   client reconnects on its next call.
// - max_age: a connection older than this (gRPC adds up to +-10% jitter, so
//   clients do not all reconnect at once) gets GOAWAY: no new calls on it.
//   Calls in flight then have max_age_grace to finish, after which the
//   connection is closed and what is left is cancelled. Long-lived clients
//   thus reconnect now and then, and a load balancer spreads them over
//   replicas added since.
// - min_ping_interval, max_ping_strikes: a PING that comes sooner than
//   min_ping_interval after the previous one (while the server sends no
//   data or headers) is a strike; past max_ping_strikes the server sends
//   GOAWAY ENHANCE_YOUR_CALM "too_many_pings" and closes the connection,
//   since a ping flood costs the server a write per PING (CVE-2019-9512).
//   Without permit_pings_without_calls, a connection with no call in flight
//   may ping only every two hours (RFC 1122's TCP keepalive), so pings
//   cannot keep an idle connection alive.
// - max_concurrent_streams: advertised in the server's HTTP/2 SETTINGS. A
//   gRPC client holds calls beyond it until a stream on the connection
//   ends; a client that opens more anyway has them refused.
// - A zero max_idle or max_age means no limit; a zero max_age_grace
//   cancels calls in flight at max_age.
//
// gRPC 1.51 has no cap on the number of connections (no
// GRPC_ARG_MAX_ALLOWED_INCOMING_CONNECTIONS; later releases added it):
// here they are bounded by max_idle and the process's file-descriptor
// limit, and work by the cap on calls in flight.
struct ConnectionLimits {
  std::chrono::milliseconds max_idle{std::chrono::minutes(5)};
  std::chrono::milliseconds max_age{std::chrono::minutes(30)};
  std::chrono::milliseconds max_age_grace{std::chrono::seconds(30)};
  std::chrono::milliseconds min_ping_interval{std::chrono::minutes(1)};
  int max_ping_strikes = 2;
  bool permit_pings_without_calls = false;
  int max_concurrent_streams = 100;

  bool operator==(const ConnectionLimits&) const = default;
};

void ApplyConnectionLimits(grpc::ServerBuilder& builder, const ConnectionLimits& limits);

}  // namespace tollgate
