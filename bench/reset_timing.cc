// reset_timing: does RequestPasswordReset answer a known email as fast as
// an unknown one? (The service replies first and writes the code and its
// mail after the reply, so the answer's timing must not tell whether an
// account exists.)
//
// It starts a throwaway PostgreSQL cluster (tests/support PostgresCluster),
// an SMTP sink (tests/support SmtpSink; --no_smtp: none, mail stays in the
// outbox) and an in-process AuthServer on 127.0.0.1:0 with the production
// defaults (AuthConfig::FromFlagsAndEnv with only the settings below),
// registers one account, then times blocking RequestPasswordReset calls on
// one channel: --warmup pairs, then --calls pairs, each pair a call for the
// known email and one for a fresh unknown email, in an order drawn per pair
// (fixed seed), so that the mail work a known call leaves behind lands on a
// known or an unknown call alike. It prints median,
// p90 and mean per kind and the ratio of the medians. The target: medians
// within 20% (ratio between 0.80 and 1.20). A benchmark, not a test:
// nothing is asserted.
//
// Flags: --calls=N (50), --warmup=N (5), --gap_ms=M (50: sleeps M ms
// between calls, so each call is timed alone, as a prober who tries one
// address at a time sees it, after the known call's write and mail are
// over; 0: the next call starts as soon as the reply is in, and the two
// kinds share that background work), --no_smtp.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth_service/auth_config.h"
#include "auth_service/auth_server.h"
#include "common/clock.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/smtp_sink.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

namespace tollgate::auth {
namespace {

using Micros = std::chrono::duration<double, std::micro>;

struct Flags {
  int calls = 50;
  int warmup = 5;
  int gap_ms = 50;
  bool smtp = true;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& name) -> std::optional<int> {
      const std::string prefix = "--" + name + "=";
      if (arg.rfind(prefix, 0) != 0) return std::nullopt;
      return std::atoi(arg.c_str() + prefix.size());
    };
    if (auto v = value("calls")) {
      flags->calls = std::max(*v, 1);
    } else if (auto v = value("warmup")) {
      flags->warmup = std::max(*v, 0);
    } else if (auto v = value("gap_ms")) {
      flags->gap_ms = std::max(*v, 0);
    } else if (arg == "--no_smtp") {
      flags->smtp = false;
    } else {
      std::cerr << "reset_timing: unknown flag " << arg
                << " (flags: --calls=N --warmup=N --gap_ms=M --no_smtp)\n";
      return false;
    }
  }
  return true;
}

struct Summary {
  double median = 0;
  double p90 = 0;
  double mean = 0;
  double min = 0;
  double max = 0;
};

// Nearest-rank percentiles of the samples (µs).
Summary Summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double q) {
    const size_t index = static_cast<size_t>(q * static_cast<double>(samples.size()) + 0.999999);
    return samples[std::clamp<size_t>(index, 1, samples.size()) - 1];
  };
  Summary summary;
  const size_t n = samples.size();
  summary.median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  summary.p90 = rank(0.90);
  summary.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(n);
  summary.min = samples.front();
  summary.max = samples.back();
  return summary;
}

int Run(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;

  auto cluster = testing::PostgresCluster::Start();
  if (!cluster.ok()) {
    std::cerr << "reset_timing: PostgreSQL did not start: " << cluster.status() << "\n";
    return 1;
  }
  std::unique_ptr<testing::SmtpSink> sink;
  if (flags.smtp) {
    auto started = testing::SmtpSink::Start();
    if (!started.ok()) {
      std::cerr << "reset_timing: the SMTP sink did not start: " << started.status() << "\n";
      return 1;
    }
    sink = *std::move(started);
  }

  // Production defaults except what a benchmark on 127.0.0.1 must set.
  std::map<std::string, std::string> env = {
      {"AUTH_LISTEN", "127.0.0.1:0"},
      {"AUTH_DATABASE_URL", (*cluster)->url()},
      {"JWT_SECRET_KEY", "reset-timing-bench-secret-0123456789abcdef"},
      {"AUTH_MAIL_FROM", "no-reply@tollgate.test"},
  };
  if (sink) env["AUTH_SMTP_URL"] = sink->url();
  char program[] = "reset_timing";
  char* config_argv[] = {program, nullptr};
  auto config = AuthConfig::FromFlagsAndEnv(1, config_argv, [&](const std::string& name) {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
  if (!config.ok()) {
    std::cerr << "reset_timing: config: " << config.status() << "\n";
    return 1;
  }
  SystemClock clock;
  auto server = AuthServer::Start(*config, clock);
  if (!server.ok()) {
    std::cerr << "reset_timing: AuthServer did not start: " << server.status() << "\n";
    return 1;
  }
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::AuthService::NewStub(channel);

  const std::string known = "known.account@example.com";
  {
    v1::RegisterRequest request;
    request.set_email(known);
    request.set_password("correct horse battery staple");
    request.set_first_name("Ada");
    request.set_last_name("Lovelace");
    v1::AuthResponse response;
    grpc::ClientContext context;
    const grpc::Status status = stub->Register(&context, request, &response);
    if (!status.ok()) {
      std::cerr << "reset_timing: Register: " << status.error_message() << "\n";
      return 1;
    }
  }

  int unknown_counter = 0;
  int failures = 0;
  auto timed_reset = [&](const std::string& email) {
    v1::RequestPasswordResetRequest request;
    request.set_email(email);
    v1::RequestPasswordResetResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const auto start = std::chrono::steady_clock::now();
    const grpc::Status status = stub->RequestPasswordReset(&context, request, &response);
    const double micros = Micros(std::chrono::steady_clock::now() - start).count();
    if (!status.ok()) {
      ++failures;
      std::cerr << "reset_timing: RequestPasswordReset(" << email << "): "
                << status.error_code() << " " << status.error_message() << "\n";
    }
    if (flags.gap_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(flags.gap_ms));
    return micros;
  };
  auto unknown_email = [&] {
    return "nobody." + std::to_string(unknown_counter++) + "@example.com";
  };

  for (int i = 0; i < flags.warmup; ++i) {
    timed_reset(known);
    timed_reset(unknown_email());
  }
  std::vector<double> known_micros;
  std::vector<double> unknown_micros;
  std::mt19937 order(20261203);
  for (int i = 0; i < flags.calls; ++i) {
    if (order() % 2 == 0) {
      known_micros.push_back(timed_reset(known));
      unknown_micros.push_back(timed_reset(unknown_email()));
    } else {
      unknown_micros.push_back(timed_reset(unknown_email()));
      known_micros.push_back(timed_reset(known));
    }
  }
  // Let the last deferred write and its mail finish before shutting down.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const size_t mails = sink ? sink->Messages().size() : 0;

  stub.reset();
  channel.reset();
  (*server)->Shutdown();
  server->reset();

  const Summary k = Summarize(known_micros);
  const Summary u = Summarize(unknown_micros);
  const double ratio = k.median / u.median;
  std::printf("RequestPasswordReset, %d known and %d unknown calls, each pair in a random order (after %d + %d "
              "warm-up), gap %d ms, SMTP %s\n",
              flags.calls, flags.calls, flags.warmup, flags.warmup, flags.gap_ms,
              sink ? "sink" : "off (mail stays in the outbox)");
  std::printf("%-8s %10s %10s %10s %10s %10s\n", "email", "median us", "p90 us", "mean us",
              "min us", "max us");
  std::printf("%-8s %10.0f %10.0f %10.0f %10.0f %10.0f\n", "known", k.median, k.p90, k.mean,
              k.min, k.max);
  std::printf("%-8s %10.0f %10.0f %10.0f %10.0f %10.0f\n", "unknown", u.median, u.p90, u.mean,
              u.min, u.max);
  std::printf("ratio of medians known/unknown: %.3f   target: medians within 20%% "
              "(0.80 to 1.20): %s\n",
              ratio, ratio >= 0.8 && ratio <= 1.2 ? "met" : "NOT met");
  std::printf("non-OK answers: %d; mails the sink accepted: %zu (expected %d with SMTP)\n",
              failures, mails, flags.warmup + flags.calls);
  return 0;
}

}  // namespace
}  // namespace tollgate::auth

int main(int argc, char** argv) { return tollgate::auth::Run(argc, argv); }
