#pragma once

#include <grpcpp/security/credentials.h>

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>

#include "client/cli/command_line.h"

namespace tollgate::cli {

// The address `tollgate health` asks: --addr, else the SumService address
// (--sum) when --service names tollgate.sum.v1.SumService, else the
// AuthService address (--auth).
std::string HealthCheckAddress(const CommandLine& command_line);

// `tollgate health`: one grpc.health.v1.Health/Check of `service` ("" for
// the whole server) at `address`, within `timeout`, for container health
// checks (Docker HEALTHCHECK, Kubernetes exec probes).
// - SERVING: {"status":"SERVING"} on `out`, kExitSuccess.
// - Anything else: kExitFailure and one line on `err`:
//   "tollgate: health: ADDR answers NOT_SERVING for service 'NAME'",
//   "tollgate: health: ADDR does not know service 'NAME' (NOT_FOUND)", or
//   "tollgate: health: ADDR: <CODE>: <message>" when the call failed
//   (UNAVAILABLE: nothing listens; DEADLINE_EXCEEDED: no answer in time).
int CheckHealth(const std::string& address, const std::string& service,
                const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                std::chrono::seconds timeout, std::ostream& out, std::ostream& err);

}  // namespace tollgate::cli
