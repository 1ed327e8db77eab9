#pragma once

#include <cstdint>

namespace tollgate::auth {

// Per-account brute-force protection in the style of Keycloak's "brute force
// detection" with progressive waits (SPEC section 5). The store keeps, per
// account, the number of consecutive failed logins and the time of the last
// one; a successful login resets the count. This file is the pure policy.
//
// failures | wait
//   0-4    |   0 s
//    5     |  30 s
//    6     |  60 s
//    7     | 120 s
//    8     | 240 s
//    9     | 480 s
//   10+    | 900 s (capped at 15 minutes)
//
// Five free attempts keep typos harmless; the doubling then makes online
// guessing of one account hopeless (under 100 guesses a day at the cap)
// while a locked-out owner waits at most 15 minutes.
inline constexpr int kFreeFailedLogins = 5;  // the 5th failure starts the first wait
inline constexpr int64_t kFirstLockoutSeconds = 30;
inline constexpr int64_t kMaxLockoutSeconds = 900;

// How long an account with `failed_logins` consecutive failures is locked
// after its last failure: 0 below 5 failures, then 30 s doubling per further
// failure, at most 900 s. Negative counts are treated as 0.
int64_t LockoutSeconds(int failed_logins);

// Seconds until the account may try again (the N of "retry after N s"), or
// 0 if it may try now: the lockout of `failed_logins` counted from
// `last_failure_unix_seconds`. A last failure in the future (clock step
// back) counts as now, so the wait never exceeds LockoutSeconds.
int64_t RetryAfterSeconds(int failed_logins, int64_t last_failure_unix_seconds,
                          int64_t now_unix_seconds);

}  // namespace tollgate::auth
