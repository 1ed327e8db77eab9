#pragma once

#include <chrono>
#include <cstdint>

namespace tollgate {

// Wall-clock time in whole Unix seconds. Services take a Clock so that tests
// can move time (expiry, idle lifetimes) without sleeping; pure code takes
// `now_unix_seconds` as a plain argument instead.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowUnixSeconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowUnixSeconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace tollgate
