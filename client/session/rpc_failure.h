#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tollgate::client {

// A failed call as one line: the status code of the call and the message
// "<RPC>: <CODE_NAME>: <message>" (newlines in the server's message become
// spaces; an empty message leaves out its ": "), e.g.
// "Refresh: UNAUTHENTICATED: invalid refresh token".
[[nodiscard]] absl::Status RpcFailure(absl::string_view rpc, const grpc::Status& status);

}  // namespace tollgate::client
