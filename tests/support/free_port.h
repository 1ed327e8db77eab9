#pragma once

#include "absl/status/statusor.h"

namespace tollgate::testing {

// A TCP port on 127.0.0.1 that nothing listens on at the moment of the call
// (the kernel's pick for port 0). Another process may take it before the
// caller binds it, so callers that can should retry.
[[nodiscard]] absl::StatusOr<int> PickFreePort();

}  // namespace tollgate::testing
