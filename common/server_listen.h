#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

namespace tollgate {

// How both services listen and report it (issue 9).
//
// Contract:
// - AddListeningPort adds `address` ("host:port" or "unix:/path") to
//   `builder`, with gRPC's SO_REUSEPORT turned off unless `reuse_port`:
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
// - ListeningOn is what "listening on ..." names: "unix:/path" for a unix
//   address, otherwise "port N" (scripts and tests parse that form).
// - MarkServing sets every name in `services` (and "", the whole server)
//   to `serving` in the server's default health service, so Check and
//   Watch answer for each registered service name, not only for "". Later
//   SetServingStatus(bool) calls then update all of them together.
// - LinkHealthDescriptor makes sure the generated code of
//   grpc/health/v1/health.proto is linked into the binary, so its
//   descriptor is in the generated pool and reflection can describe
//   grpc.health.v1.Health (gRPC's own health service carries none).
void AddListeningPort(grpc::ServerBuilder& builder, const std::string& address,
                      bool reuse_port, int* port);
std::string ListenFailure(const std::string& address);
std::string ListeningOn(const std::string& address, int port);
void MarkServing(grpc::Server& server, const std::vector<std::string>& services, bool serving);
void LinkHealthDescriptor();

}  // namespace tollgate
