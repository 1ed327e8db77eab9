#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace tollgate {

struct HttpEndpointOptions {
  // "host:port": "127.0.0.1:9090", "0.0.0.0:0", "[::1]:9090", "localhost:9090".
  // Port 0 picks a free port (see HttpEndpoint::port()). An IPv6 host must be
  // in brackets.
  std::string address;
  // Worker threads serving connections (one connection at a time each); more
  // connections are accepted and wait in cpp-httplib's job queue, which
  // 0.11 does not bound (each connection is bounded by the timeouts below).
  int threads = 2;
  // Per socket read/write: a client that sends nothing (or reads nothing) for
  // this long is disconnected.
  std::chrono::seconds read_timeout{5};
  std::chrono::seconds write_timeout{5};
  // An idle keep-alive connection is closed after this long, and after this
  // many requests. Stop() may wait this long for an idle keep-alive client.
  std::chrono::seconds keep_alive_timeout{2};
  size_t keep_alive_max_requests = 100;
  // A request body larger than this is answered 413 (no route takes a body).
  // The request line and headers are bounded by cpp-httplib (8 KiB each).
  size_t max_request_body_bytes = 1024;
};

// A small HTTP/1.1 side port of a gRPC service, on cpp-httplib, for probes
// and scrapes. Routes (exact paths, GET and HEAD only) are registered before
// Start():
//
//   /healthz   always: 200 "ok\n" as long as the process answers (liveness).
//   /readyz    ServeReadiness: 200 "ok\n" while the callback returns true,
//              503 "not serving\n" while it returns false (the gRPC serving
//              state: NOT_SERVING while starting or draining).
//   /metrics   ServeMetrics: the Prometheus text exposition (format 0.0.4)
//              of the collectables, collected in the order given, with
//              Content-Type "text/plain; version=0.0.4; charset=utf-8".
//   /.well-known/jwks.json
//              ServeJwks: the callback's body with Content-Type
//              "application/jwk-set+json", "Cache-Control: public,
//              max-age=N" and a strong ETag (the quoted lowercase hex
//              SHA-256 of the body); a request whose If-None-Match lists that
//              ETag (or W/ of it, or "*") gets 304 with the same ETag and
//              Cache-Control and no body.
//
// Any other path is 404 "not found\n"; a registered path with a method other
// than GET or HEAD is 405 "method not allowed\n" with "Allow: GET, HEAD". A
// method cpp-httplib does not parse gets its 400. Callbacks run on the worker
// threads, possibly concurrently, and must be thread-safe; a callback that
// throws answers 500.
//
// Bounded: `threads` workers, a request body limit, read/write timeouts and
// keep-alive limits (HttpEndpointOptions).
class HttpEndpoint final {
 public:
  explicit HttpEndpoint(HttpEndpointOptions options);
  // Stops.
  ~HttpEndpoint();

  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Route registration; only before Start() (ignored after).
  void ServeReadiness(std::function<bool()> ready);
  void ServeMetrics(std::vector<std::shared_ptr<const prometheus::Collectable>> collectables);
  void ServeJwks(std::function<std::string()> jwks_json, std::chrono::seconds max_age);

  // Binds and starts serving on a thread of its own; returns once the socket
  // listens (so a request sent after it returns is answered).
  //   INVALID_ARGUMENT "invalid HTTP listen address 'ADDR': ..." when the
  //                    address is not host:port with a port in 0..65535;
  //   UNAVAILABLE "cannot listen on ADDR: address in use" when the port is
  //                    taken, "cannot listen on ADDR: <reason>" otherwise
  //                    (an unresolvable host, no permission ...);
  //   FAILED_PRECONDITION when called twice.
  absl::Status Start();

  // The bound port (the chosen one for port 0); 0 before a successful Start().
  int port() const { return port_.load(); }

  // Stops accepting, waits for the connections in progress (at most a
  // timeout each) and joins the threads. Idempotent, thread-safe; no restart.
  void Stop();

 private:
  void Route(const httplib::Request& request, httplib::Response& response) const;
  void ServeMetricsRequest(httplib::Response& response) const;
  void ServeJwksRequest(const httplib::Request& request, httplib::Response& response) const;

  const HttpEndpointOptions options_;
  std::function<bool()> ready_;
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectables_;
  bool serve_metrics_ = false;
  std::function<std::string()> jwks_json_;
  std::chrono::seconds jwks_max_age_{0};

  std::unique_ptr<httplib::Server> server_;
  std::atomic<int> port_{0};
  std::mutex lifecycle_mutex_;  // serializes Start and Stop
  bool started_ = false;        // guarded by lifecycle_mutex_
  bool stopped_ = false;        // guarded by lifecycle_mutex_
  std::atomic<bool> listen_returned_{false};
  std::thread thread_;
};

// Splits "host:port" ("[v6]:port" for IPv6) into its host (without brackets)
// and port. INVALID_ARGUMENT when malformed. Exposed for tests.
struct HostPort {
  std::string host;
  int port = 0;
};
absl::Status ParseHostPort(const std::string& address, HostPort* out);

// The strong ETag of a body: '"' + lowercase hex SHA-256 + '"'.
std::string StrongEtag(const std::string& body);

// Whether an If-None-Match header value matches `etag` (weak comparison, as
// RFC 9110 section 13.1.2 asks: W/"x" matches "x"; "*" matches anything).
bool IfNoneMatchMatches(const std::string& if_none_match, const std::string& etag);

}  // namespace tollgate
