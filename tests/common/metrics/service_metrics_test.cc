#include "common/metrics/service_metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "common/metrics/gauge_refresher.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace tollgate {
namespace {

std::string Scrape(const std::vector<const prometheus::Collectable*>& collectables) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto* collectable : collectables) {
    for (auto& family : collectable->Collect()) families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

TEST(ServiceMetrics, AllFamiliesWithHelpAndValues) {
  prometheus::Registry registry;
  GuardMetrics guard(registry);
  KeyFetchMetrics keys(registry);
  AuthServiceMetrics auth(registry);
  guard.AuthDenied("missing_role").Increment();
  guard.AuthDenied("missing_role").Increment();
  guard.AuthDenied("invalid_token").Increment();
  guard.token_cache_hits_total.Increment(5);
  guard.token_cache_misses_total.Increment();
  keys.jwks_fetch_ok_total.Increment();
  keys.jwks_fetch_rejected_total.Increment(2);
  keys.jwks_age_seconds.Set(12);
  guard.undecodable_requests_total.Increment();
  auth.db_pool_in_use.Set(3);
  auth.db_pool_waits_total.Increment(2);
  auth.password_hash_queue_depth.Set(7);
  auth.password_hash_shed_total.Increment();
  auth.refresh_reuse_detected_total.Increment();
  auth.login_failures_total.Increment(4);
  auth.mail_outbox_pending.Set(9);

  const std::string text = Scrape({&registry});
  for (const char* line : {
           "# HELP tollgate_auth_denied_total Calls the access policy refused, by reason.",
           "# TYPE tollgate_auth_denied_total counter",
           "tollgate_auth_denied_total{reason=\"missing_role\"} 2",
           "tollgate_auth_denied_total{reason=\"invalid_token\"} 1",
           "tollgate_token_cache_hits_total 5",
           "tollgate_token_cache_misses_total 1",
           "tollgate_jwks_fetch_total{result=\"ok\"} 1",
           "tollgate_jwks_fetch_total{result=\"error\"} 0",
           "tollgate_jwks_fetch_total{result=\"rejected\"} 2",
           "# TYPE tollgate_jwks_age_seconds gauge",
           "tollgate_jwks_age_seconds 12",
           "tollgate_undecodable_requests_total 1",
           "tollgate_db_pool_in_use 3",
           "tollgate_db_pool_waits_total 2",
           "tollgate_password_hash_queue_depth 7",
           "tollgate_password_hash_shed_total 1",
           "tollgate_refresh_reuse_detected_total 1",
           "tollgate_login_failures_total 4",
           "tollgate_mail_outbox_pending 9",
       }) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos)
        << "missing: " << line << "\nin:\n" << text;
  }
}

TEST(ServiceMetrics, JwksAgeIsMinusOneUntilSet) {
  prometheus::Registry registry;
  KeyFetchMetrics keys(registry);
  EXPECT_NE(Scrape({&registry}).find("\ntollgate_jwks_age_seconds -1\n"), std::string::npos);
}

TEST(GaugeRefresher, SetsGaugesWhenCollectedFirst) {
  prometheus::Registry registry;
  AuthServiceMetrics auth(registry);
  auto refresher = std::make_shared<GaugeRefresher>();
  std::atomic<int> pending{4};
  refresher->Add(auth.mail_outbox_pending, [&pending] { return pending.load(); });
  EXPECT_TRUE(refresher->Collect().empty());

  EXPECT_NE(Scrape({refresher.get(), &registry}).find("tollgate_mail_outbox_pending 4\n"),
            std::string::npos);
  pending = 6;
  EXPECT_NE(Scrape({refresher.get(), &registry}).find("tollgate_mail_outbox_pending 6\n"),
            std::string::npos);
}

}  // namespace
}  // namespace tollgate
