// The start-up, stop and background log lines of the real binaries: JSON
// objects on stdout, the version, every setting (secrets masked), the access
// policy, the addresses; no secret given in the configuration in any line;
// *_LOG_LEVEL=warn keeps only warnings and errors; *_LOG_FORMAT=text prints
// one human line per event, fatal errors included.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "auth_service/auth_config.h"
#include "tollgate/auth/v1/auth.pb.h"
#include "tollgate/sum/v1/sum.pb.h"
#include "nlohmann/json.hpp"
#include "sum_service/sum_config.h"
#include "tests/e2e/service_output.h"
#include "tests/support/free_port.h"
#include "tests/support/postgres_suite.h"

namespace tollgate {
namespace {

using e2e::CheckHealth;
using e2e::JsonLogLines;
using e2e::Lines;
using e2e::StartMerged;
using e2e::WaitForExit;
using e2e::WaitForLogLine;
using e2e::WithMessage;
using nlohmann::json;
using std::chrono::seconds;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;

// Each secret is a distinct text that appears nowhere else, so finding it
// anywhere in the output means it leaked.
constexpr char kJwtSecret[] = "log-test-jwt-secret-7f3a9c0e5b2d4a6f8e1c";
constexpr char kAdminPassword[] = "log-test-admin-password-b81d";
constexpr char kSmtpPassword[] = "log-test-smtp-password-4c2e";
constexpr char kDatabasePassword[] = "log-test-db-password-9e7a";

// A line of the text format: "TS LEVEL service: message key=value...".
constexpr char kTextTimestamp[] = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)";

// Every line is a JSON object with ts, level, service and msg; fails the
// test and returns none otherwise.
std::vector<json> ParsedLines(const std::string& output, const std::string& service) {
  std::string bad_line;
  std::vector<json> lines = JsonLogLines(output, &bad_line);
  EXPECT_TRUE(bad_line.empty()) << "not a JSON object: " << bad_line;
  for (const json& line : lines) {
    EXPECT_TRUE(std::regex_match(line.value("ts", ""), std::regex(kTextTimestamp))) << line;
    EXPECT_TRUE(line.contains("level")) << line;
    EXPECT_EQ(line.value("service", ""), service) << line;
    EXPECT_TRUE(line.contains("msg")) << line;
  }
  return lines;
}

// The "setting" lines: one per setting of `settings`, in that order, each
// with a source; `expected` values are checked exactly.
void ExpectSettingLines(const std::vector<json>& lines,
                        std::span<const config::Setting* const> settings,
                        const std::map<std::string, std::string>& expected) {
  const std::vector<json> logged = WithMessage(lines, "setting");
  ASSERT_EQ(logged.size(), settings.size());
  for (size_t i = 0; i < settings.size(); ++i) {
    const std::string name(settings[i]->env.data(), settings[i]->env.size());
    EXPECT_EQ(logged[i].value("name", ""), name) << logged[i];
    EXPECT_TRUE(std::set<std::string>({"flag", "env", "default"})
                    .count(logged[i].value("source", "")))
        << logged[i];
    if (auto value = expected.find(name); value != expected.end()) {
      EXPECT_EQ(logged[i].value("value", "?"), value->second) << logged[i];
    }
  }
}

// One "access policy" line per method of `descriptor` plus health and
// reflection; `expected` maps method names to "public" or a role.
void ExpectPolicyLines(const std::vector<json>& lines,
                       const google::protobuf::ServiceDescriptor* descriptor,
                       const std::map<std::string, std::string>& expected) {
  ASSERT_NE(descriptor, nullptr);
  const std::string& service = descriptor->full_name();
  const std::vector<json> policy = WithMessage(lines, "access policy");
  EXPECT_EQ(policy.size(), static_cast<size_t>(descriptor->method_count()) + 3);
  for (const auto& [method, access] : expected) {
    const std::string path = "/" + service + "/" + method;
    bool found = false;
    for (const json& line : policy) {
      if (line.value("method", "") != path) continue;
      found = true;
      if (access == "public") {
        EXPECT_EQ(line.value("access", ""), "public") << line;
        EXPECT_FALSE(line.contains("role")) << line;
      } else {
        EXPECT_EQ(line.value("access", ""), "role") << line;
        EXPECT_EQ(line.value("role", ""), access) << line;
      }
    }
    EXPECT_TRUE(found) << path;
  }
  bool health_public = false;
  for (const json& line : policy) {
    health_public |= line.value("method", "") == "/grpc.health.v1.Health/Check" &&
                     line.value("access", "") == "public";
  }
  EXPECT_TRUE(health_public);
}

// The start, the "listening" lines (gRPC on `port`, HTTP on another), and a
// stop by SIGTERM at the end.
void ExpectLifecycleLines(const std::vector<json>& lines, int port, int pid) {
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.front().value("msg", ""), "starting");
  EXPECT_EQ(lines.front().value("level", ""), "info");
  EXPECT_EQ(lines.front().value("version", ""), TOLLGATE_EXPECTED_VERSION);
  EXPECT_EQ(lines.front().value("pid", 0), pid);
  const std::vector<json> listening = WithMessage(lines, "listening");
  ASSERT_EQ(listening.size(), 2u);
  EXPECT_EQ(listening[0].value("protocol", ""), "grpc");
  EXPECT_EQ(listening[0].value("address", ""), "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(listening[0].value("port", 0), port);
  EXPECT_EQ(listening[1].value("protocol", ""), "http");
  const int http_port = listening[1].value("port", 0);
  EXPECT_GT(http_port, 0);
  EXPECT_EQ(listening[1].value("address", ""), "127.0.0.1:" + std::to_string(http_port));
  EXPECT_EQ(lines[lines.size() - 2].value("msg", ""), "stopping");
  EXPECT_EQ(lines[lines.size() - 2].value("signal", 0), 15);
  EXPECT_EQ(lines.back().value("msg", ""), "stopped");
}

void ExpectNoSecret(const std::string& output, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    EXPECT_EQ(output.find(secret), std::string::npos) << secret << " is in the log:\n" << output;
  }
}

class AuthServiceStartUpLog : public testing::PostgresSuite {
 protected:
  void SetUp() override { ASSERT_NE(cluster_, nullptr) << start_status_; }

  // The cluster's URL with a password in it (trust authentication ignores it).
  std::string UrlWithPassword() const {
    return "postgresql://postgres:" + std::string(kDatabasePassword) + "@127.0.0.1:" +
           std::to_string(cluster_->port()) + "/tollgate";
  }

  std::vector<std::string> Env(const std::string& listen) const {
    return {"AUTH_LISTEN=" + listen,
            "AUTH_DATABASE_URL=" + UrlWithPassword(),
            std::string("JWT_SECRET_KEY=") + kJwtSecret,
            "AUTH_ARGON2_MEMORY_KIB=8192",
            "AUTH_ARGON2_ITERATIONS=1",
            "AUTH_SESSION_PURGE_INTERVAL=0"};
  }
};

TEST_F(AuthServiceStartUpLog, StartAndStopAreJsonLinesWithEverySettingAndNoSecret) {
  auto smtp_port = testing::PickFreePort();  // nothing listens: no mail is queued
  ASSERT_TRUE(smtp_port.ok()) << smtp_port.status();
  std::vector<std::string> env = Env("127.0.0.1:0");
  env.insert(env.end(), {"AUTH_HTTP_LISTEN=127.0.0.1:0",
                         "AUTH_BOOTSTRAP_ADMIN_EMAIL=admin@example.com",
                         std::string("AUTH_BOOTSTRAP_ADMIN_PASSWORD=") + kAdminPassword,
                         "AUTH_SMTP_URL=smtp://127.0.0.1:" + std::to_string(*smtp_port),
                         "AUTH_SMTP_USER=mailer",
                         std::string("AUTH_SMTP_PASSWORD=") + kSmtpPassword});
  auto child = StartMerged(kAuthServiceBinary, {"--access-ttl=600"}, env);
  ASSERT_TRUE(child.ok()) << child.status();
  auto port = (*child)->WaitForPort(seconds(60));
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);

  const std::string output = (*child)->Output();
  const std::vector<json> lines = ParsedLines(output, "auth");
  ExpectLifecycleLines(lines, *port, (*child)->pid());
  ExpectSettingLines(
      lines, auth::AuthConfig::Settings(),
      {{"AUTH_LISTEN", "127.0.0.1:0"},
       {"AUTH_DATABASE_URL", "postgresql://postgres:***@127.0.0.1:" +
                                 std::to_string(cluster_->port()) + "/tollgate"},
       {"JWT_SECRET_KEY", "<set>"},
       {"AUTH_SIGNING_KEYS", ""},
       {"AUTH_BOOTSTRAP_ADMIN_EMAIL", "admin@example.com"},
       {"AUTH_BOOTSTRAP_ADMIN_PASSWORD", "<set>"},
       {"AUTH_SMTP_USER", "mailer"},
       {"AUTH_SMTP_PASSWORD", "<set>"},
       {"AUTH_ACCESS_TTL", "600"},
       {"AUTH_REFRESH_GRACE", "10"},
       {"AUTH_LOG_FORMAT", "json"},
       {"AUTH_LOG_LEVEL", "info"}});
  std::map<std::string, std::string> sources;
  for (const json& line : WithMessage(lines, "setting")) {
    sources[line.value("name", "")] = line.value("source", "");
  }
  EXPECT_EQ(sources["AUTH_ACCESS_TTL"], "flag");
  EXPECT_EQ(sources["AUTH_LISTEN"], "env");
  EXPECT_EQ(sources["AUTH_REFRESH_GRACE"], "default");
  // Naming a message links the generated file, and so its descriptors.
  ExpectPolicyLines(lines,
                    auth::v1::LoginRequest::descriptor()->file()->FindServiceByName("AuthService"),
                    {{"Login", "public"}, {"GetCurrentUser", "user"}, {"ListUsers", "admin"}});
  const std::vector<json> admin = WithMessage(lines, "bootstrap admin ready");
  ASSERT_EQ(admin.size(), 1u);
  EXPECT_EQ(admin[0].value("user_id", "").size(), 36u) << admin[0];  // a UUID
  ExpectNoSecret(output, {kJwtSecret, kAdminPassword, kSmtpPassword, kDatabasePassword});
}

// At warn, a start and stop that go well write nothing.
TEST_F(AuthServiceStartUpLog, WarnLevelDropsTheInfoLines) {
  auto picked = testing::PickFreePort();
  ASSERT_TRUE(picked.ok()) << picked.status();
  const std::string address = "127.0.0.1:" + std::to_string(*picked);
  std::vector<std::string> env = Env(address);
  env.push_back("AUTH_LOG_LEVEL=warn");
  auto child = StartMerged(kAuthServiceBinary, {}, env);
  ASSERT_TRUE(child.ok()) << child.status();
  bool serving = false;
  for (int i = 0; i < 300 && !serving && (*child)->Running(); ++i) {
    std::string error;
    serving = CheckHealth(address, "", &error) == 1;
    if (!serving) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(serving) << (*child)->Output();
  ASSERT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);
  EXPECT_EQ((*child)->Output(), "");
}

TEST(SumServiceStartUpLog, StartAndStopAreJsonLinesWithEverySettingAndNoSecret) {
  auto child = StartMerged(kSumServiceBinary, {"--token-leeway=5"},
                           {"SUM_LISTEN=127.0.0.1:0", "SUM_HTTP_LISTEN=127.0.0.1:0",
                            std::string("JWT_SECRET_KEY=") + kJwtSecret});
  ASSERT_TRUE(child.ok()) << child.status();
  auto port = (*child)->WaitForPort(seconds(30));
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);

  const std::string output = (*child)->Output();
  const std::vector<json> lines = ParsedLines(output, "sum");
  ExpectLifecycleLines(lines, *port, (*child)->pid());
  ExpectSettingLines(lines, sum::SumConfig::Settings(),
                     {{"SUM_LISTEN", "127.0.0.1:0"},
                      {"SUM_KEYS_SOURCE", ""},
                      {"JWT_SECRET_KEY", "<set>"},
                      {"TOKEN_LEEWAY", "5"},
                      {"TOKEN_ISSUER", "tollgate"},
                      {"SUM_LOG_FORMAT", "json"},
                      {"SUM_LOG_LEVEL", "info"}});
  ExpectPolicyLines(lines,
                    sum::v1::SumRequest::descriptor()->file()->FindServiceByName("SumService"),
                    {{"Sum", "user"}, {"SumStream", "user"}, {"GetUsage", "admin"}});
  // Nothing but info lines: nothing went wrong.
  for (const json& line : lines) EXPECT_EQ(line.value("level", ""), "info") << line;
  ExpectNoSecret(output, {kJwtSecret});
}

// At warn, a SumService whose AuthService is not there logs the first failed
// key fetch and nothing else (later failures of the run are counted, and
// logged every 60th).
TEST(SumServiceStartUpLog, WarnLevelKeepsOnlyTheFailedKeyFetch) {
  auto free_port = testing::PickFreePort();
  ASSERT_TRUE(free_port.ok()) << free_port.status();
  auto child = StartMerged(kSumServiceBinary, {},
                           {"SUM_LISTEN=127.0.0.1:0", "SUM_LOG_LEVEL=warn",
                            "SUM_KEYS_SOURCE=grpc://127.0.0.1:" + std::to_string(*free_port)});
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE(WaitForLogLine(
      **child, [](const json& line) { return line.value("msg", "") == "key fetch failed"; },
      seconds(30)))
      << (*child)->Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two more failed fetches
  ASSERT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);

  const std::vector<json> lines = ParsedLines((*child)->Output(), "sum");
  ASSERT_EQ(lines.size(), 1u) << (*child)->Output();
  EXPECT_EQ(lines[0].value("level", ""), "warn");
  EXPECT_EQ(lines[0].value("msg", ""), "key fetch failed");
  EXPECT_EQ(lines[0].value("source", ""), "127.0.0.1:" + std::to_string(*free_port));
  EXPECT_EQ(lines[0].value("code", ""), "UNAVAILABLE");
  EXPECT_EQ(lines[0].value("failures_in_a_row", 0), 1);
  EXPECT_EQ(lines[0].value("keys_held", -1), 0);
}

TEST(SumServiceStartUpLog, TextFormatPrintsOneHumanLinePerEvent) {
  auto child = StartMerged(kSumServiceBinary, {},
                           {"SUM_LISTEN=127.0.0.1:0", "SUM_LOG_FORMAT=text",
                            std::string("JWT_SECRET_KEY=") + kJwtSecret});
  ASSERT_TRUE(child.ok()) << child.status();
  auto port = (*child)->WaitForPort(seconds(30));  // reads the text line too
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);

  const std::string output = (*child)->Output();
  const std::vector<std::string> lines = Lines(output);
  ASSERT_GE(lines.size(), 4u) << output;
  const std::string ts = kTextTimestamp;
  EXPECT_TRUE(std::regex_match(
      lines.front(),
      std::regex(ts + " INFO sum: starting version=" + TOLLGATE_EXPECTED_VERSION + " pid=" +
                 std::to_string((*child)->pid()))))
      << lines.front();
  const auto has_line = [&](const std::string& pattern) {
    for (const std::string& line : lines) {
      if (std::regex_match(line, std::regex(pattern))) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_line(ts + " INFO sum: setting name=JWT_SECRET_KEY value=<set> source=env"))
      << output;
  EXPECT_TRUE(has_line(ts + " INFO sum: setting name=SUM_KEYS_SOURCE value=\"\" source=default"))
      << output;
  EXPECT_TRUE(has_line(ts +
                       " INFO sum: access policy method=/tollgate.sum.v1.SumService/GetUsage "
                       "access=role role=admin"))
      << output;
  const std::string bound = std::to_string(*port);
  EXPECT_TRUE(has_line(ts + " INFO sum: listening protocol=grpc address=127.0.0.1:" + bound +
                       " port=" + bound))
      << output;
  EXPECT_TRUE(std::regex_match(lines.back(), std::regex(ts + " INFO sum: stopped")))
      << lines.back();
  for (const std::string& line : lines) EXPECT_NE(line.front(), '{') << line;
  ExpectNoSecret(output, {kJwtSecret});
}

// The promise for a failed start holds in the text format too: exit 1, and
// the last line is the error naming the cause.
TEST(SumServiceStartUpLog, TextFormatCannotStartIsTheLastLine) {
  auto first = StartMerged(kSumServiceBinary, {},
                           {"SUM_LISTEN=127.0.0.1:0", std::string("JWT_SECRET_KEY=") + kJwtSecret});
  ASSERT_TRUE(first.ok()) << first.status();
  auto port = (*first)->WaitForPort(seconds(30));
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string address = "127.0.0.1:" + std::to_string(*port);
  auto second = StartMerged(kSumServiceBinary, {},
                            {"SUM_LISTEN=" + address, "SUM_LOG_FORMAT=text",
                             std::string("JWT_SECRET_KEY=") + kJwtSecret});
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(WaitForExit(**second, seconds(30)), 1) << (*second)->Output();
  const std::vector<std::string> lines = Lines((*second)->Output());
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(std::regex_match(
      lines.back(), std::regex(std::string(kTextTimestamp) +
                               " ERROR sum: cannot start reason=\"cannot listen on " + address +
                               ": address in use\"")))
      << lines.back();
  EXPECT_TRUE((*first)->Terminate().ok());
  EXPECT_EQ((*first)->ExitCode(), 0);
}

}  // namespace
}  // namespace tollgate
