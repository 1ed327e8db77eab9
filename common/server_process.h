#pragma once

#include "absl/synchronization/mutex.h"

namespace tollgate {

// Process-wide settings for a server binary, applied first thing in main().
//
// Debian's Abseil checks every absl::Mutex acquisition for lock-order
// cycles (a debugging aid that gRPC's internal locks pay for on every
// call): measured at about 10% of the server's instructions per Sum call.
// Servers turn it off; tests keep it.
inline void PrepareServerProcess() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace tollgate
