#include "client/session/refresh_schedule.h"

#include <gtest/gtest.h>

namespace tollgate::client {
namespace {

constexpr int64_t kSecond = 1000;

TEST(RefreshScheduleTest, TheLeadIsTenPercentOfALongLifetime) {
  EXPECT_EQ(RefreshLeadMillis(900 * kSecond), 90 * kSecond);  // AUTH_ACCESS_TTL's default
  EXPECT_EQ(RefreshLeadMillis(3600 * kSecond), 360 * kSecond);
  EXPECT_EQ(RefreshLeadMillis(601 * kSecond), 60100);
}

TEST(RefreshScheduleTest, TheLeadIsAtLeastSixtySeconds) {
  EXPECT_EQ(RefreshLeadMillis(600 * kSecond), 60 * kSecond);
  EXPECT_EQ(RefreshLeadMillis(300 * kSecond), 60 * kSecond);
  EXPECT_EQ(RefreshLeadMillis(120 * kSecond), 60 * kSecond);
}

// Sixty seconds would be more than half of a token shorter than two
// minutes: such a token is renewed when 10% of it is left.
TEST(RefreshScheduleTest, ATokenShorterThanTwoMinutesIsRenewedWhenTenPercentIsLeft) {
  EXPECT_EQ(RefreshLeadMillis(120 * kSecond), 60 * kSecond);
  EXPECT_EQ(RefreshLeadMillis(119 * kSecond), 11900);
  EXPECT_EQ(RefreshLeadMillis(60 * kSecond), 6 * kSecond);
  EXPECT_EQ(RefreshLeadMillis(3 * kSecond), 300);  // the tests' AUTH_ACCESS_TTL=3
  EXPECT_EQ(RefreshLeadMillis(1), 0);
}

TEST(RefreshScheduleTest, AnUnknownLifetimeGetsSixtySeconds) {
  EXPECT_EQ(RefreshLeadMillis(0), kMinRefreshLeadMillis);
  EXPECT_EQ(RefreshLeadMillis(-5), kMinRefreshLeadMillis);
}

TEST(RefreshScheduleTest, TheRefreshIsDueTheLeadBeforeExpiry) {
  EXPECT_EQ(RefreshDueAtMillis(1'800'000'900'000, 900 * kSecond), 1'800'000'810'000);
  EXPECT_EQ(RefreshDueAtMillis(10'000, 3 * kSecond), 9'700);
  EXPECT_EQ(RefreshDueAtMillis(100 * kSecond, 0), 40 * kSecond);
}

TEST(RefreshScheduleTest, TheRetryDelayDoublesFromOneSecondToThirty) {
  EXPECT_EQ(RefreshRetryDelayMillis(1), 1 * kSecond);
  EXPECT_EQ(RefreshRetryDelayMillis(2), 2 * kSecond);
  EXPECT_EQ(RefreshRetryDelayMillis(3), 4 * kSecond);
  EXPECT_EQ(RefreshRetryDelayMillis(5), 16 * kSecond);
  EXPECT_EQ(RefreshRetryDelayMillis(6), 30 * kSecond);
  EXPECT_EQ(RefreshRetryDelayMillis(1000), 30 * kSecond);
}

}  // namespace
}  // namespace tollgate::client
