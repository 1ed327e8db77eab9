#pragma once

#include <cstdint>

namespace tollgate::auth {

// Brute-force protection in the style of Keycloak's "brute force detection"
// with progressive waits (SPEC section 5). Failures are counted per account
// and client address together (LockoutSeconds), so a stranger who knows an
// email cannot lock its owner out from elsewhere, and per account across
// all addresses with a much higher ceiling (AccountLockoutSeconds), so a
// guesser with many addresses is still slowed. An email without an account
// is counted exactly the same way, so the reply never tells which emails
// exist. A successful login from an address resets its count and the
// account's; a count idle for kFailureMemorySeconds starts again. This file
// is the pure policy; store/login_failure_store.h keeps the counts.
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

// Failures of one account from all addresses before its account-wide wait
// begins (then the same doubling, 30 s up to 15 minutes).
inline constexpr int kFreeFailedLoginsPerAccount = 100;
// A failure count whose last failure is older than this starts again.
inline constexpr int64_t kFailureMemorySeconds = 24 * 60 * 60;

// How long an account with `failed_logins` consecutive failures is locked
// after its last failure: 0 below 5 failures, then 30 s doubling per further
// failure, at most 900 s. Negative counts are treated as 0.
int64_t LockoutSeconds(int failed_logins);

// Seconds until the account may try again (the N of "retry after N s"), or
// 0 if it may try now: the lockout of `failed_logins` counted from
// `last_failure_unix_seconds`. A last failure in the future (clock step
// back) counts as now, so the wait never exceeds LockoutSeconds.
// The account-wide wait after `failed_logins` failures from all addresses:
// 0 below kFreeFailedLoginsPerAccount, then as LockoutSeconds from its 5th.
int64_t AccountLockoutSeconds(int failed_logins);

int64_t RetryAfterSeconds(int failed_logins, int64_t last_failure_unix_seconds,
                          int64_t now_unix_seconds);

}  // namespace tollgate::auth
