#include "common/config/connection_limit_settings.h"

#include <chrono>

namespace tollgate::config {

absl::StatusOr<ConnectionLimits> ParseConnectionLimits(const RawSettings& raw,
                                                       const ConnectionLimitSettings& settings) {
  ConnectionLimits limits;
  struct SecondsLimit {
    const Setting& setting;
    int64_t min_seconds;
    int64_t max_seconds;
    std::chrono::milliseconds& out;
  };
  for (const SecondsLimit& s : {
           SecondsLimit{settings.max_idle, 0, 86400, limits.max_idle},
           SecondsLimit{settings.max_age, 0, 7 * 86400, limits.max_age},
           SecondsLimit{settings.max_age_grace, 0, 3600, limits.max_age_grace},
           SecondsLimit{settings.min_ping_interval, 1, 7200, limits.min_ping_interval},
       }) {
    absl::StatusOr<int64_t> seconds = ParseSeconds(raw, s.setting, s.min_seconds, s.max_seconds);
    if (!seconds.ok()) return seconds.status();
    s.out = std::chrono::seconds(*seconds);
  }
  absl::StatusOr<int64_t> streams =
      ParseInteger(raw, settings.max_concurrent_streams, 1, 65536, "an integer");
  if (!streams.ok()) return streams.status();
  limits.max_concurrent_streams = static_cast<int>(*streams);
  return limits;
}

}  // namespace tollgate::config
