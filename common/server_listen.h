#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace tollgate {

// How both services listen and report it (issue 9).
//
// Contract:
// - AddListeningPort adds `address` ("host:port" or "unix:/path") to
//   `builder` with `credentials` (plaintext or TLS, see
//   common/tls/tls_credentials.h), with gRPC's SO_REUSEPORT turned off
//   unless `reuse_port`:
//   a second process on a port already in use then fails to start instead
//   of silently taking part of the traffic. `*port` is set by
//   BuildAndStart as grpc::ServerBuilder::AddListeningPort documents (0 when
//   binding failed).
// - ListenFailure is the one-line reason BuildAndStart failed for
//   `address`: "cannot listen on ADDRESS: address in use" when a socket
//   bound to that TCP address fails with EADDRINUSE, "cannot listen on
//   ADDRESS: <strerror>" for other bind errors, else "cannot listen on
//   ADDRESS". It binds (and closes) a probe socket; call it only after the
//   failure.
// - Health names. The server's default health service answers for two
//   kinds of name:
//   - readiness: "" (the whole server) and each hosted service name. They
//     move together: SERVING exactly while the server can do its work
//     (AuthService: its database is reachable; SumService: it holds keys).
//     Readiness probes and load balancers ask these.
//   - kLivenessService ("liveness"): SERVING from the start until the stop
//     begins, whatever the readiness. A liveness probe asks this one, so a
//     database outage takes replicas out of their balancer without getting
//     every one of them restarted.
//   DrainServer's Shutdown turns every name NOT_SERVING, liveness too.
// - MarkServing sets the readiness names (`services` and "") to `serving`
//   and kLivenessService to SERVING, so Check and Watch answer for each of
//   them, not only for "".
// - SetReadiness sets only the readiness names (`services` and "") to
//   `ready`, leaving liveness alone. Never call the health service's
//   SetServingStatus(bool): it would turn liveness NOT_SERVING too.
// - LinkHealthDescriptor makes sure the generated code of
//   grpc/health/v1/health.proto is linked into the binary, so its
//   descriptor is in the generated pool and reflection can describe
//   grpc.health.v1.Health (gRPC's own health service carries none).
void AddListeningPort(grpc::ServerBuilder& builder, const std::string& address,
                      bool reuse_port, std::shared_ptr<grpc::ServerCredentials> credentials,
                      int* port);
std::string ListenFailure(const std::string& address);
inline constexpr char kLivenessService[] = "liveness";
void MarkServing(grpc::Server& server, const std::vector<std::string>& services, bool serving);
void SetReadiness(grpc::Server& server, const std::vector<std::string>& services, bool ready);
void LinkHealthDescriptor();

}  // namespace tollgate
