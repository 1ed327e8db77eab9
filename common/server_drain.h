#pragma once

#include <grpcpp/server.h>

#include <chrono>

namespace tollgate {

// The gRPC part of a graceful stop (SIGTERM), the same for every service:
//
// 1. Every service name in the server's health service goes NOT_SERVING, for
//    good (later SetServingStatus calls are ignored): Check answers
//    NOT_SERVING and Watch streams are told at once, so load balancers stop
//    sending new calls.
// 2. The server stops accepting: its listeners close and every connection
//    gets GOAWAY. A call a client starts from now on fails fast with
//    UNAVAILABLE (a gRPC client retries it elsewhere when it can).
// 3. Calls in flight have up to `grace` to finish. Any left then are
//    cancelled (their clients see UNAVAILABLE "Cancelling all calls"), and
//    DrainServer waits for their handlers to return.
//
// Returns when no call is in flight and none can start. `grace` may be 0:
// calls in flight are cancelled at once.
//
// A health Watch stream is a call in flight too, and gRPC 1.51's health
// service never ends one by itself: while a client holds a Watch open (after
// it heard NOT_SERVING), the stop lasts the whole grace.
void DrainServer(grpc::Server& server, std::chrono::milliseconds grace);

}  // namespace tollgate
