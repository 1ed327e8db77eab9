#pragma once

#include <atomic>
#include <cstdint>

#include "common/clock.h"

namespace tollgate::testing {

// A clock that moves only when told to: expiry tests advance it instead of
// sleeping. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_unix_seconds = 1'800'000'000) : now_(now_unix_seconds) {}
  int64_t NowUnixSeconds() const override { return now_.load(); }
  void Advance(int64_t seconds) { now_.fetch_add(seconds); }
  void Set(int64_t now_unix_seconds) { now_.store(now_unix_seconds); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace tollgate::testing
