// Cost of issuing and verifying access tokens, next to the bare OpenSSL
// operation each one is built on.
//
// For every algorithm (ES256, EdDSA, RS256, HS256):
//   BM_Sign<alg>           AccessTokenIssuer::Issue of a typical access token
//   BM_Verify<alg>         AccessTokenVerifier::Verify of one fresh valid token
//                          against a JwkSet of two keys (a retired one first)
//   BM_RawOpenSslVerify<alg>  EVP_MD_CTX_new + EVP_DigestVerifyInit +
//                          EVP_DigestVerify + free over the same signing input
//                          and the same signature, in the form bare OpenSSL
//                          takes (DER for ECDSA, prepared outside the loop);
//                          HMAC() + CRYPTO_memcmp for HS256
//   BM_RawOpenSslSign<alg> the matching bare OpenSSL signature
//
// After the Google Benchmark run, main() times Verify against the bare
// verify again in interleaved rounds and prints the ratio table that the
// target "verifying a fresh access token costs at most 1.15x the bare
// OpenSSL verify of the same signature" is checked against. Flags (besides
// the --benchmark_* ones):
//   --ratio_rounds=N    rounds per algorithm (default 21; 0: no table)
//   --ratio_block_ms=M  length of each timed block (default 10)
//   --ratio_only        skip the Google Benchmark run, print only the table

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/openssl_ptr.h"
#include "common/random_source.h"
#include "common/token/access_token_issuer.h"
#include "common/token/access_token_verifier.h"
#include "common/token/base64url.h"
#include "common/token/jwk.h"
#include "common/token/jwk_set.h"
#include "tests/support/test_keys.h"

namespace tollgate::bench {
namespace {

constexpr int64_t kIssuedAt = 1'700'000'000;
constexpr int64_t kVerifyAt = kIssuedAt + 60;  // a fresh token, well inside its 900 s
constexpr double kTargetRatio = 1.15;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "token_bench setup failed: %s\n", what.c_str());
  std::exit(1);
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A typical access token: a UUID subject, an email and two roles.
TokenSubject TypicalSubject() {
  return TokenSubject{"3f2a9c1e-7d4b-4e8a-9c51-2b7e6d0f1a84", "alice@example.com",
                      {"user", "billing:read"}};
}

// The verifier's view of a key: what a service loads from the published
// JWKS (public parts only); an HS256 secret is shared as is.
Jwk VerificationKey(const Jwk& signing_key) {
  if (signing_key.is_symmetric()) return signing_key;
  auto key = Jwk::FromJson(*signing_key.ToPublicJson());
  if (!key.ok()) Die(std::string(key.status().message()));
  return *std::move(key);
}

// 64-byte r||s -> DER ECDSA-Sig-Value, the only form EVP_DigestVerify takes.
std::string RawEcdsaToDer(std::string_view raw) {
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(raw), 32, nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(raw) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) Die("ECDSA_SIG_set0");
  unsigned char* der = nullptr;
  const int size = i2d_ECDSA_SIG(sig.get(), &der);
  if (size <= 0) Die("i2d_ECDSA_SIG");
  std::string out(reinterpret_cast<char*>(der), size);
  OPENSSL_free(der);
  return out;
}

// Everything one algorithm's benchmarks share, built once, outside any timing.
struct AlgorithmCase {
  JwsAlgorithm algorithm;
  std::string name;
  Jwk signing_key;
  JwkSet verify_keys;    // {a retired key of the same algorithm, the current key}
  std::string token;
  std::string signing_input;      // header.payload exactly as in the token
  std::string jws_signature;      // as in the token (r||s for ES256)
  std::string openssl_signature;  // as bare OpenSSL takes it (DER for ES256)
  EVP_PKEY* verify_pkey = nullptr;  // the very key object the verifier uses
  const EVP_MD* digest = nullptr;   // nullptr for EdDSA
};

OpenSslRandomSource& Random() {
  static auto* random = new OpenSslRandomSource();
  return *random;
}

std::unique_ptr<AlgorithmCase> MakeCase(JwsAlgorithm algorithm) {
  Jwk signing_key = testing::GenerateKey(algorithm);
  Jwk verification_key = VerificationKey(signing_key);
  Jwk retired_key = VerificationKey(testing::GenerateKey(algorithm));
  auto verify_keys = JwkSet::FromKeys({retired_key, verification_key});
  if (!verify_keys.ok()) Die(std::string(verify_keys.status().message()));

  const AccessTokenIssuer issuer(signing_key, AccessTokenOptions{}, Random());
  auto issued = issuer.Issue(TypicalSubject(), kIssuedAt);
  if (!issued.ok()) Die(std::string(issued.status().message()));
  const std::string& token = issued->token;
  const size_t last_dot = token.rfind('.');
  auto signature = Base64UrlDecode(std::string_view(token).substr(last_dot + 1));
  if (!signature) Die("token signature is not base64url");

  auto c = std::unique_ptr<AlgorithmCase>(new AlgorithmCase{
      algorithm, std::string(AlgorithmName(algorithm)), signing_key, *std::move(verify_keys), token, token.substr(0, last_dot), *signature, *signature});
  const Jwk* in_set = c->verify_keys.Find(verification_key.kid());
  if (in_set == nullptr) Die("key not in set");
  c->verify_pkey = in_set->pkey();
  c->digest = algorithm == JwsAlgorithm::kEdDSA ? nullptr : EVP_sha256();
  if (algorithm == JwsAlgorithm::kES256) c->openssl_signature = RawEcdsaToDer(*signature);
  return c;
}

// The bare OpenSSL verification of the token's signature: what any JWT
// library has to do at the very least.
bool RawOpenSslVerify(const AlgorithmCase& c) {
  if (c.algorithm == JwsAlgorithm::kHS256) {
    const std::string& secret = c.verify_keys.keys().back().secret();
    unsigned char tag[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), Bytes(c.signing_input),
             c.signing_input.size(), tag, &size) == nullptr) {
      return false;
    }
    return size == c.openssl_signature.size() &&
           CRYPTO_memcmp(tag, c.openssl_signature.data(), size) == 0;
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, c.digest, nullptr, c.verify_pkey) == 1 &&
         EVP_DigestVerify(ctx.get(), Bytes(c.openssl_signature), c.openssl_signature.size(),
                          Bytes(c.signing_input), c.signing_input.size()) == 1;
}

// The bare OpenSSL signature over the same signing input (DER for ECDSA).
// `out` is sized by the caller, outside the timing.
bool RawOpenSslSign(const AlgorithmCase& c, std::string& out) {
  if (c.algorithm == JwsAlgorithm::kHS256) {
    const std::string& secret = c.signing_key.secret();
    unsigned int size = 0;
    return HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                Bytes(c.signing_input), c.signing_input.size(),
                reinterpret_cast<unsigned char*>(out.data()), &size) != nullptr;
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t size = out.size();
  return ctx &&
         EVP_DigestSignInit(ctx.get(), nullptr, c.digest, nullptr, c.signing_key.pkey()) == 1 &&
         EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &size,
                        Bytes(c.signing_input), c.signing_input.size()) == 1;
}

void BM_Sign(benchmark::State& state, const AlgorithmCase* c) {
  const AccessTokenIssuer issuer(c->signing_key, AccessTokenOptions{}, Random());
  const TokenSubject subject = TypicalSubject();
  if (!issuer.Issue(subject, kIssuedAt).ok()) {
    state.SkipWithError("Issue failed");
    return;
  }
  for (auto _ : state) {
    auto issued = issuer.Issue(subject, kIssuedAt);
    benchmark::DoNotOptimize(issued);
  }
}

void BM_Verify(benchmark::State& state, const AlgorithmCase* c) {
  const AccessTokenVerifier verifier(AccessTokenVerifierOptions{});
  if (const auto result = verifier.Verify(c->token, c->verify_keys, kVerifyAt); !result.ok()) {
    state.SkipWithError(("Verify failed: " + std::string(ToString(result.error()))).c_str());
    return;
  }
  for (auto _ : state) {
    auto result = verifier.Verify(c->token, c->verify_keys, kVerifyAt);
    benchmark::DoNotOptimize(result);
  }
}

void BM_RawOpenSslVerify(benchmark::State& state, const AlgorithmCase* c) {
  if (!RawOpenSslVerify(*c)) {
    state.SkipWithError("bare OpenSSL verify failed");
    return;
  }
  for (auto _ : state) {
    bool ok = RawOpenSslVerify(*c);
    benchmark::DoNotOptimize(ok);
  }
}

void BM_RawOpenSslSign(benchmark::State& state, const AlgorithmCase* c) {
  std::string out(c->algorithm == JwsAlgorithm::kHS256 ? EVP_MAX_MD_SIZE
                                                       : EVP_PKEY_get_size(c->signing_key.pkey()),
                  '\0');
  if (!RawOpenSslSign(*c, out)) {
    state.SkipWithError("bare OpenSSL sign failed");
    return;
  }
  for (auto _ : state) {
    bool ok = RawOpenSslSign(*c, out);
    benchmark::DoNotOptimize(ok);
    benchmark::ClobberMemory();
  }
}

// ---- the ratio table --------------------------------------------------

struct RatioOptions {
  int rounds = 21;
  int block_ms = 10;
  bool ratio_only = false;
};

// Removes our own flags from argv so that Google Benchmark does not refuse
// them as unknown.
RatioOptions TakeRatioFlags(int* argc, char** argv) {
  RatioOptions options;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("--ratio_rounds=", 0) == 0) {
      options.rounds = std::atoi(argv[i] + std::strlen("--ratio_rounds="));
    } else if (arg.rfind("--ratio_block_ms=", 0) == 0) {
      options.block_ms = std::max(1, std::atoi(argv[i] + std::strlen("--ratio_block_ms=")));
    } else if (arg == "--ratio_only") {
      options.ratio_only = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  return options;
}

// CPU time of this thread: unlike wall time it does not count the moments
// another process holds the core (the machine has two and is shared).
double ThreadCpuNs() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

template <typename F>
double NsPerOp(F&& operation, int64_t iterations) {
  const double start = ThreadCpuNs();
  for (int64_t i = 0; i < iterations; ++i) {
    auto result = operation();
    benchmark::DoNotOptimize(result);
  }
  return (ThreadCpuNs() - start) / static_cast<double>(iterations);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct RatioRow {
  std::string name;
  double verify_ns;
  double raw_ns;
  double ratio;  // median of the per-round ratios
  double min_ratio;
  double max_ratio;
};

// Times Verify and the bare verify in alternating blocks, so a burst of
// load from elsewhere on the machine hits both sides of a round alike.
RatioRow MeasureRatio(const AlgorithmCase& c, const RatioOptions& options) {
  const AccessTokenVerifier verifier(AccessTokenVerifierOptions{});
  auto verify = [&] { return verifier.Verify(c.token, c.verify_keys, kVerifyAt).ok(); };
  auto raw = [&] { return RawOpenSslVerify(c); };
  if (!verify() || !raw()) Die("verification failed before timing " + c.name);

  // Calibrate so that one block lasts about block_ms.
  NsPerOp(raw, 50);  // warm-up
  const double estimate_ns = NsPerOp(raw, 200);
  const int64_t iterations =
      std::max<int64_t>(10, static_cast<int64_t>(options.block_ms * 1e6 / estimate_ns));

  std::vector<double> verify_ns, raw_ns, ratios;
  for (int round = 0; round < options.rounds; ++round) {
    double v = 0, r = 0;
    if (round % 2 == 0) {
      v = NsPerOp(verify, iterations);
      r = NsPerOp(raw, iterations);
    } else {
      r = NsPerOp(raw, iterations);
      v = NsPerOp(verify, iterations);
    }
    verify_ns.push_back(v);
    raw_ns.push_back(r);
    ratios.push_back(v / r);
  }
  return RatioRow{c.name, Median(verify_ns), Median(raw_ns), Median(ratios),
                  *std::min_element(ratios.begin(), ratios.end()),
                  *std::max_element(ratios.begin(), ratios.end())};
}

void PrintRatioTable(const std::vector<std::unique_ptr<AlgorithmCase>>& cases,
                     const RatioOptions& options) {
  double load[1] = {-1};
  getloadavg(load, 1);
  std::printf("\nAccessTokenVerifier::Verify vs. bare OpenSSL verify of the same signature\n");
  std::printf("(thread CPU time; %d interleaved rounds of ~%d ms per side; medians; ratio = median "
              "of per-round ratios; target <= %.2f for ES256, EdDSA, RS256; load average %.2f%s)\n\n",
              options.rounds, options.block_ms, kTargetRatio, load[0],
              load[0] > 0.5 ? ": something else is running, expect noise" : "");
  std::printf("| alg   | verify ns | raw openssl ns | ratio | round ratios min..max | target |\n");
  std::printf("|-------|----------:|---------------:|------:|-----------------------|--------|\n");
  for (const auto& c : cases) {
    const RatioRow row = MeasureRatio(*c, options);
    const char* verdict = c->algorithm == JwsAlgorithm::kHS256 ? "n/a"
                          : row.ratio <= kTargetRatio          ? "met"
                                                               : "MISSED";
    std::printf("| %-5s | %9.0f | %14.0f | %5.3f | %9.3f..%-9.3f   | %-6s |\n", row.name.c_str(),
                row.verify_ns, row.raw_ns, row.ratio, row.min_ratio, row.max_ratio, verdict);
    std::fflush(stdout);
  }
}

}  // namespace
}  // namespace tollgate::bench

int main(int argc, char** argv) {
  using namespace tollgate::bench;  // NOLINT: main only
  const RatioOptions ratio_options = TakeRatioFlags(&argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  std::vector<std::unique_ptr<AlgorithmCase>> cases;
  for (auto algorithm : {tollgate::JwsAlgorithm::kES256, tollgate::JwsAlgorithm::kEdDSA,
                         tollgate::JwsAlgorithm::kRS256, tollgate::JwsAlgorithm::kHS256}) {
    cases.push_back(MakeCase(algorithm));
  }
  for (const auto& c : cases) {
    const AlgorithmCase* p = c.get();
    benchmark::RegisterBenchmark(("BM_Sign" + c->name).c_str(), BM_Sign, p);
    benchmark::RegisterBenchmark(("BM_Verify" + c->name).c_str(), BM_Verify, p);
    benchmark::RegisterBenchmark(("BM_RawOpenSslVerify" + c->name).c_str(), BM_RawOpenSslVerify, p);
    benchmark::RegisterBenchmark(("BM_RawOpenSslSign" + c->name).c_str(), BM_RawOpenSslSign, p);
  }
  if (!ratio_options.ratio_only) benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (ratio_options.rounds > 0) PrintRatioTable(cases, ratio_options);
  return 0;
}
