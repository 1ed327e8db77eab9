// The guard on the admitted fast path: BearerAuthenticator::Decide for a
// token the verified-token cache holds, without metrics and with
// GuardMetrics, on one thread and on two threads deciding the same token
// (what the calls of one busy client do: any lock or counter they share
// shows here); and a denial (an array index and an increment) against the
// same denial uncounted. bench/README.md, "Guard metrics".
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "common/auth/access_policy.h"
#include "common/auth/bearer_authenticator.h"
#include "common/metrics/service_metrics.h"
#include "common/token/access_token_issuer.h"
#include "prometheus/registry.h"
#include "tests/support/fake_clock.h"
#include "tests/support/test_keys.h"
#include "tollgate/sum/v1/sum.pb.h"

namespace tollgate {
namespace {

constexpr int64_t kNow = 1'800'000'000;
constexpr char kSum[] = "/tollgate.sum.v1.SumService/Sum";

// One authenticator per variant, shared by the benchmark's threads.
struct Guard {
  explicit Guard(bool with_metrics)
      : key(tollgate::testing::GenerateKey(JwsAlgorithm::kES256)),
        keys(*JwkSet::FromKeys({key})),
        metrics(registry) {
    (void)sum::v1::SumRequest::descriptor();
    authenticator = std::make_unique<BearerAuthenticator>(
        *AccessPolicy::FromServices({"tollgate.sum.v1.SumService"}),
        AccessTokenVerifier(AccessTokenVerifierOptions{}), keys, clock,
        BearerAuthenticator::Options{.metrics = with_metrics ? &metrics : nullptr});
    tollgate::testing::CountingRandomSource random;
    AccessTokenIssuer issuer(key, AccessTokenOptions{}, random);
    authorization = "Bearer " + issuer.Issue(TokenSubject{"user-1", "user-1@example.com", {"user"}}, kNow)->token;
    // Cached from here on.
    (void)authenticator->Decide(kSum, AuthorizationMetadata{1, authorization}, false);
  }

  Jwk key;
  StaticKeySource keys;
  tollgate::testing::FakeClock clock{kNow};
  prometheus::Registry registry;
  GuardMetrics metrics;
  std::unique_ptr<BearerAuthenticator> authenticator;
  std::string authorization;
};

Guard& SharedGuard(bool with_metrics) {
  static Guard* without = new Guard(false);
  static Guard* with = new Guard(true);
  return with_metrics ? *with : *without;
}

void BM_DecideCachedToken(benchmark::State& state) {
  Guard& guard = SharedGuard(state.range(0) != 0);
  const AuthorizationMetadata authorization{1, guard.authorization};
  for (auto _ : state) {
    benchmark::DoNotOptimize(guard.authenticator->Decide(kSum, authorization, false));
  }
}
BENCHMARK(BM_DecideCachedToken)->ArgName("metrics")->Arg(0)->Arg(1)->Threads(1)->Threads(2);

void BM_DecideMissingAuthorization(benchmark::State& state) {
  Guard& guard = SharedGuard(state.range(0) != 0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(guard.authenticator->Decide(kSum, AuthorizationMetadata{}, false));
  }
}
BENCHMARK(BM_DecideMissingAuthorization)->ArgName("metrics")->Arg(0)->Arg(1);

}  // namespace
}  // namespace tollgate
