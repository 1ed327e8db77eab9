#include "client/session/refresh_schedule.h"

#include <algorithm>

namespace tollgate::client {
namespace {

constexpr int64_t kFirstRetryDelayMillis = 1'000;
constexpr int64_t kMaxRetryDelayMillis = 30'000;

}  // namespace

int64_t RefreshLeadMillis(int64_t lifetime_millis) {
  if (lifetime_millis <= 0) return kMinRefreshLeadMillis;
  const int64_t lead = std::max(kMinRefreshLeadMillis, lifetime_millis / 10);
  return lead <= lifetime_millis / 2 ? lead : lifetime_millis / 10;
}

int64_t RefreshDueAtMillis(int64_t expires_at_millis, int64_t lifetime_millis) {
  return expires_at_millis - RefreshLeadMillis(lifetime_millis);
}

int64_t RefreshRetryDelayMillis(int consecutive_failures) {
  int64_t delay = kFirstRetryDelayMillis;
  for (int i = 1; i < consecutive_failures && delay < kMaxRetryDelayMillis; ++i) delay *= 2;
  return std::min(delay, kMaxRetryDelayMillis);
}

}  // namespace tollgate::client
