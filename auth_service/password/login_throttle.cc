#include "auth_service/password/login_throttle.h"

#include <algorithm>

namespace tollgate::auth {

int64_t LockoutSeconds(int failed_logins) {
  if (failed_logins < kFreeFailedLogins) return 0;
  int64_t seconds = kFirstLockoutSeconds;
  // Double step by step up to the cap instead of shifting by the count,
  // which would overflow for a large count.
  for (int i = kFreeFailedLogins; i < failed_logins && seconds < kMaxLockoutSeconds; ++i) {
    seconds *= 2;
  }
  return std::min(seconds, kMaxLockoutSeconds);
}

int64_t AccountLockoutSeconds(int failed_logins) {
  if (failed_logins < kFreeFailedLoginsPerAccount) return 0;
  return LockoutSeconds(failed_logins - kFreeFailedLoginsPerAccount + kFreeFailedLogins);
}

int64_t RetryAfterSeconds(int failed_logins, int64_t last_failure_unix_seconds,
                          int64_t now_unix_seconds) {
  const int64_t lockout = LockoutSeconds(failed_logins);
  if (lockout == 0) return 0;
  const int64_t elapsed = std::max<int64_t>(0, now_unix_seconds - last_failure_unix_seconds);
  return std::max<int64_t>(0, lockout - elapsed);
}

}  // namespace tollgate::auth
