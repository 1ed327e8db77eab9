#include "auth_service/password/login_throttle.h"

#include <gtest/gtest.h>

#include <climits>

namespace tollgate::auth {
namespace {

class LoginThrottleTest : public ::testing::Test {};

TEST_F(LoginThrottleTest, WaitTable) {
  struct Row {
    int failed_logins;
    int64_t lockout_seconds;
  };
  const Row table[] = {
      {0, 0},    {1, 0},    {4, 0},    {5, 30},   {6, 60},  {7, 120},
      {8, 240},  {9, 480},  {10, 900}, {11, 900}, {20, 900},
  };
  for (const Row& row : table) {
    EXPECT_EQ(LockoutSeconds(row.failed_logins), row.lockout_seconds) << row.failed_logins;
  }
}

TEST_F(LoginThrottleTest, ExtremeCountsStayInRange) {
  EXPECT_EQ(LockoutSeconds(-1), 0);
  EXPECT_EQ(LockoutSeconds(INT_MIN), 0);
  EXPECT_EQ(LockoutSeconds(64), 900);
  EXPECT_EQ(LockoutSeconds(INT_MAX), 900);
}

TEST_F(LoginThrottleTest, RetryAfterCountsDownFromTheLastFailure) {
  constexpr int64_t kLastFailure = 1'700'000'000;
  EXPECT_EQ(RetryAfterSeconds(5, kLastFailure, kLastFailure), 30);
  EXPECT_EQ(RetryAfterSeconds(5, kLastFailure, kLastFailure + 29), 1);
  EXPECT_EQ(RetryAfterSeconds(5, kLastFailure, kLastFailure + 30), 0);
  EXPECT_EQ(RetryAfterSeconds(5, kLastFailure, kLastFailure + 31), 0);
  EXPECT_EQ(RetryAfterSeconds(10, kLastFailure, kLastFailure + 899), 1);
  EXPECT_EQ(RetryAfterSeconds(10, kLastFailure, kLastFailure + 900), 0);
}

TEST_F(LoginThrottleTest, RetryAfterIsZeroBelowTheThreshold) {
  EXPECT_EQ(RetryAfterSeconds(4, 1'700'000'000, 1'700'000'000), 0);
}

TEST_F(LoginThrottleTest, RetryAfterNeverExceedsTheLockoutWhenTheClockStepsBack) {
  EXPECT_EQ(RetryAfterSeconds(5, 1'700'000'000, 1'699'000'000), 30);
}

}  // namespace
}  // namespace tollgate::auth
