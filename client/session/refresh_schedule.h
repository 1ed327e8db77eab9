#pragma once

#include <cstdint>

namespace tollgate::client {

// When a Session renews its access token, as pure functions of times in
// Unix milliseconds (the Session passes its clock's reading).
//
// The lead is how long before expiry the proactive refresh starts:
// max(60 s, 10% of the token's lifetime), so that a call never leaves with
// a token that dies on the way and a slow AuthService has time to answer.
// A token shorter than two minutes cannot spare 60 s of its life (that
// would be a refresh before every call): it gets 10% of its lifetime, and
// is renewed once per lifetime, just before it expires. An unknown
// lifetime (0) gets the 60 s.
//
//   lifetime   900 s  -> lead 90 s (refresh at 810 s)
//   lifetime   300 s  -> lead 60 s
//   lifetime   120 s  -> lead 60 s
//   lifetime    60 s  -> lead 6 s
//   lifetime     3 s  -> lead 0.3 s (refresh at 2.7 s)
inline constexpr int64_t kMinRefreshLeadMillis = 60'000;

[[nodiscard]] int64_t RefreshLeadMillis(int64_t lifetime_millis);

// The moment the proactive refresh of a token that expires at
// `expires_at_millis` after living `lifetime_millis` becomes due.
[[nodiscard]] int64_t RefreshDueAtMillis(int64_t expires_at_millis, int64_t lifetime_millis);

// After a Refresh that failed for a reason that may pass (UNAVAILABLE,
// DEADLINE_EXCEEDED, ...), the Session waits this long before the next
// attempt, so that a session whose AuthService is down costs it one call per
// wait, not one per call: 1 s after the first failure, doubling up to 30 s.
[[nodiscard]] int64_t RefreshRetryDelayMillis(int consecutive_failures);

}  // namespace tollgate::client
