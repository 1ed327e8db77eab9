// The real binaries at start-up (issue 9 "Run it like a production
// service"): a port already in use, an unreachable or wrong database, unix
// listen addresses, --version. Each child's stderr is merged into its stdout
// (through /bin/sh), so the tests read exactly what an operator sees: JSON
// log lines, and the plain lines of --version and a bad configuration.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/e2e/service_output.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/postgres_suite.h"

namespace tollgate {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr char kAuthServiceBinary[] = TOLLGATE_AUTH_SERVICE_BIN;
constexpr char kSumServiceBinary[] = TOLLGATE_SUM_SERVICE_BIN;
constexpr char kCliBinary[] = TOLLGATE_CLI_BIN;
constexpr char kSecret[] = "start-up-test-secret-0123456789abcdef";

using e2e::CheckHealth;
using e2e::JsonLogLines;
using e2e::Lines;
using e2e::ParseLogLine;
using e2e::StartMerged;
using e2e::WaitForExit;
using e2e::WaitForLogLine;

std::vector<std::string> AuthEnv(const std::string& listen, const std::string& database_url) {
  return {"AUTH_LISTEN=" + listen,           "AUTH_DATABASE_URL=" + database_url,
          std::string("JWT_SECRET_KEY=") + kSecret, "AUTH_ARGON2_MEMORY_KIB=8192",
          "AUTH_ARGON2_ITERATIONS=1",         "AUTH_SESSION_PURGE_INTERVAL=0"};
}

std::vector<std::string> SumEnv(const std::string& listen) {
  return {"SUM_LISTEN=" + listen, std::string("JWT_SECRET_KEY=") + kSecret};
}

// The log lines after "starting" and the "setting" lines: what start-up
// did. Fails the test (and returns none) when a line is not a JSON object.
std::vector<nlohmann::json> EventsAfterSettings(const std::string& output) {
  std::string bad_line;
  std::vector<nlohmann::json> events;
  const std::vector<nlohmann::json> lines = JsonLogLines(output, &bad_line);
  EXPECT_TRUE(bad_line.empty()) << "not a JSON object: " << bad_line;
  for (const nlohmann::json& line : lines) {
    const std::string message = line.value("msg", "");
    if (message != "starting" && message != "setting") events.push_back(line);
  }
  return events;
}

// `line` is the error "cannot start" of `service` with exactly `reason`.
void ExpectCannotStart(const nlohmann::json& line, const std::string& service,
                       const std::string& reason) {
  EXPECT_EQ(line.value("level", ""), "error") << line;
  EXPECT_EQ(line.value("service", ""), service) << line;
  EXPECT_EQ(line.value("msg", ""), "cannot start") << line;
  EXPECT_EQ(line.value("reason", ""), reason) << line;
}

// The only event of a start-up that failed is "cannot start" with `reason`.
void ExpectOnlyCannotStart(const std::string& output, const std::string& reason) {
  const std::vector<nlohmann::json> events = EventsAfterSettings(output);
  ASSERT_EQ(events.size(), 1u) << output;
  ExpectCannotStart(events[0], "auth", reason);
}

// A "listening" line for gRPC at `address`.
std::function<bool(const nlohmann::json&)> ListeningOn(const std::string& address) {
  return [address](const nlohmann::json& line) {
    return line.value("msg", "") == "listening" && line.value("protocol", "") == "grpc" &&
           line.value("address", "") == address;
  };
}

// One request on a ServerReflectionInfo stream of `method` (a full path),
// through the generic stub: the response's bytes, or the call's failure.
grpc::Status ReflectionCall(const std::string& target, const std::string& method,
                            const std::string& request_bytes, std::string* response_bytes) {
  grpc::GenericStub generic(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(10));
  grpc::CompletionQueue queue;
  auto stream = generic.PrepareCall(&context, method, &queue);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](auto&& start) {
    start();
    return queue.Next(&tag, &ok) && ok;
  };
  grpc::Slice request_slice(request_bytes);
  grpc::ByteBuffer request(&request_slice, 1);
  grpc::ByteBuffer response;
  const bool answered = step([&] { stream->StartCall(&queue); }) &&
                        step([&] { stream->Write(request, &queue); }) &&
                        step([&] { stream->Read(&response, &queue); });
  if (answered) {
    std::vector<grpc::Slice> slices;
    if (response.Dump(&slices).ok()) {
      for (const grpc::Slice& slice : slices) {
        response_bytes->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
    }
    context.TryCancel();
  }
  grpc::Status status;
  stream->Finish(&status, &queue);
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return answered ? grpc::Status::OK : status;
}

// The length-delimited top-level fields of a protobuf message, by number
// (varint fields are skipped). Enough for reflection responses.
std::multimap<int, std::string> LengthDelimitedFields(const std::string& bytes) {
  std::multimap<int, std::string> fields;
  size_t at = 0;
  auto varint = [&](uint64_t* value) {
    *value = 0;
    for (int shift = 0; at < bytes.size() && shift < 64; shift += 7) {
      const auto byte = static_cast<unsigned char>(bytes[at++]);
      *value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  };
  while (at < bytes.size()) {
    uint64_t key = 0, value = 0;
    if (!varint(&key)) break;
    if ((key & 7) == 0) {
      if (!varint(&value)) break;
    } else if ((key & 7) == 2) {
      if (!varint(&value) || at + value > bytes.size()) break;
      fields.emplace(static_cast<int>(key >> 3), bytes.substr(at, value));
      at += value;
    } else {
      break;
    }
  }
  return fields;
}

// ServerReflectionRequest{file_containing_symbol: symbol} (field 4).
std::string FileContainingSymbolRequest(const std::string& symbol) {
  return std::string(1, '\x22') + static_cast<char>(symbol.size()) + symbol;
}

constexpr char kReflectionV1Alpha[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
constexpr char kReflectionV1[] = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";

// `describe grpc.health.v1.Health`: reflection answers with the file that
// defines it (file_descriptor_response, field 4), not an error (field 7).
void ExpectReflectionDescribesHealth(const std::string& target) {
  std::string response;
  const grpc::Status status = ReflectionCall(
      target, kReflectionV1Alpha, FileContainingSymbolRequest("grpc.health.v1.Health"), &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  const auto fields = LengthDelimitedFields(response);
  EXPECT_EQ(fields.count(7), 0u) << "error_response: " << response;
  ASSERT_EQ(fields.count(4), 1u) << response;
  const std::string files = fields.find(4)->second;
  EXPECT_NE(files.find("grpc/health/v1/health.proto"), std::string::npos);
  EXPECT_NE(files.find("HealthCheckRequest"), std::string::npos);
}

// A fresh folder under /tmp for unix sockets, removed with its contents.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/tollgate-start-up-XXXXXX";
    const char* made = mkdtemp(pattern);
    path_ = made == nullptr ? "" : made;
  }
  ~TempDir() {
    if (path_.empty()) return;
    unlink((path_ + "/grpc.sock").c_str());
    rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class AuthServiceStartUp : public testing::PostgresSuite {
 protected:
  void SetUp() override { ASSERT_NE(cluster_, nullptr) << start_status_; }
};

// --- A port already in use ---------------------------------------------------

// Starts `binary` on 127.0.0.1:0, then a second one on the port the first
// bound: the second exits 1 with "cannot start", reason exactly "cannot
// listen on ADDRESS: address in use", as its last line, and the first keeps
// serving until it is stopped (exit 0). `env_for` gives the environment for
// a listen address.
void ExpectASecondProcessOnThePortIsRefused(
    const std::string& binary, const std::string& service,
    const std::function<std::vector<std::string>(const std::string& address)>& env_for,
    seconds wait) {
  auto first = StartMerged(binary, {}, env_for("127.0.0.1:0"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto port = (*first)->WaitForPort(wait);
  ASSERT_TRUE(port.ok()) << port.status();

  const std::string address = "127.0.0.1:" + std::to_string(*port);
  auto second = StartMerged(binary, {}, env_for(address));
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(WaitForExit(**second, wait), 1) << (*second)->Output();
  const std::vector<std::string> lines = Lines((*second)->Output());
  ASSERT_FALSE(lines.empty());
  ExpectCannotStart(ParseLogLine(lines.back()), service,
                    "cannot listen on " + address + ": address in use");
  EXPECT_TRUE((*first)->Running());
  EXPECT_TRUE((*first)->Terminate().ok());
  EXPECT_EQ((*first)->ExitCode(), 0);
}

TEST_F(AuthServiceStartUp, SecondProcessOnAPortInUseExits1NamingTheAddress) {
  ExpectASecondProcessOnThePortIsRefused(
      kAuthServiceBinary, "auth",
      [this](const std::string& address) { return AuthEnv(address, cluster_->url()); },
      seconds(60));
}

// --- The database at start-up ------------------------------------------------

// Nothing listens on the port: retried quietly for AUTH_DATABASE_WAIT (one
// "waiting" line), then "cannot start" with the count and libpq's cause,
// without the password.
TEST_F(AuthServiceStartUp, UnreachableDatabaseIsRetriedQuietlyThenEndsWithTheCause) {
  auto free_port = testing::PickFreePort();
  ASSERT_TRUE(free_port.ok()) << free_port.status();
  const std::string port = std::to_string(*free_port);
  std::vector<std::string> env =
      AuthEnv("127.0.0.1:0", "postgresql://postgres:hunter2secret@127.0.0.1:" + port + "/tollgate");
  env.push_back("AUTH_DATABASE_WAIT=2");
  const auto started = SteadyClock::now();
  auto child = StartMerged(kAuthServiceBinary, {}, env);
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_EQ(WaitForExit(**child, seconds(20)), 1) << (*child)->Output();
  const auto took = SteadyClock::now() - started;
  EXPECT_GE(took, milliseconds(1500));
  EXPECT_LT(took, seconds(10));

  const std::string cause = "connection to server at \"127.0.0.1\", port " + port +
                            " failed: Connection refused";
  const std::vector<nlohmann::json> events = EventsAfterSettings((*child)->Output());
  ASSERT_EQ(events.size(), 2u) << (*child)->Output();
  EXPECT_EQ(events[0].value("level", ""), "warn");
  EXPECT_EQ(events[0].value("msg", ""), "waiting for the database");
  EXPECT_EQ(events[0].value("wait_s", 0), 2);
  EXPECT_EQ(events[0].value("reason", ""), cause);
  EXPECT_EQ(events[1].value("level", ""), "error");
  EXPECT_EQ(events[1].value("msg", ""), "cannot start");
  const std::string reason = events[1].value("reason", "");
  const std::string prefix = "database migrations: database unreachable after ";
  ASSERT_EQ(reason.rfind(prefix, 0), 0u) << reason;
  const std::string rest = reason.substr(prefix.size());
  const size_t space = rest.find(' ');
  ASSERT_NE(space, std::string::npos) << reason;
  const int attempts = std::stoi(rest.substr(0, space));
  EXPECT_GE(attempts, 2);
  EXPECT_LE(attempts, 9);  // one every 250 ms
  EXPECT_EQ(rest.substr(space), " attempts in 2 s: " + cause);
  EXPECT_EQ((*child)->Output().find("hunter2secret"), std::string::npos);
}

// AUTH_DATABASE_WAIT=0: one attempt, no waiting line.
TEST_F(AuthServiceStartUp, ZeroDatabaseWaitTriesOnce) {
  auto free_port = testing::PickFreePort();
  ASSERT_TRUE(free_port.ok()) << free_port.status();
  const std::string port = std::to_string(*free_port);
  std::vector<std::string> env =
      AuthEnv("127.0.0.1:0", "postgresql://postgres@127.0.0.1:" + port + "/tollgate");
  env.push_back("AUTH_DATABASE_WAIT=0");
  auto child = StartMerged(kAuthServiceBinary, {}, env);
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_EQ(WaitForExit(**child, seconds(20)), 1) << (*child)->Output();
  ExpectOnlyCannotStart((*child)->Output(),
                        "database migrations: database unreachable after 1 attempt in 0 s: "
                        "connection to server at \"127.0.0.1\", port " +
                            port + " failed: Connection refused");
}

// A database that does not exist cannot appear by waiting: it fails at once
// (AUTH_DATABASE_WAIT keeps its default of 30 s).
TEST_F(AuthServiceStartUp, NonexistentDatabaseFailsAtOnceWithTheCause) {
  const auto started = SteadyClock::now();
  auto child = StartMerged(kAuthServiceBinary, {},
                           AuthEnv("127.0.0.1:0", cluster_->UrlFor("no_such_database")));
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_EQ(WaitForExit(**child, seconds(20)), 1) << (*child)->Output();
  EXPECT_LT(SteadyClock::now() - started, seconds(5));
  ExpectOnlyCannotStart((*child)->Output(),
                        "database migrations: database connection failed: "
                        "connection to server at \"127.0.0.1\", port " +
                            std::to_string(cluster_->port()) +
                            " failed: FATAL:  database \"no_such_database\" does not exist");
}

TEST_F(AuthServiceStartUp, MalformedUrlFailsAtOnceWithTheCause) {
  const auto started = SteadyClock::now();
  auto child = StartMerged(kAuthServiceBinary, {},
                           AuthEnv("127.0.0.1:0", "postgresql://postgres@127.0.0.1:notaport/x"));
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_EQ(WaitForExit(**child, seconds(20)), 1) << (*child)->Output();
  EXPECT_LT(SteadyClock::now() - started, seconds(5));
  ExpectOnlyCannotStart((*child)->Output(),
                        "database migrations: database connection failed: "
                        "invalid integer value \"notaport\" for connection option \"port\"");
}

// libpq quotes the whole URI in some parse errors: the password is masked.
TEST_F(AuthServiceStartUp, MalformedUrlErrorNeverShowsThePassword) {
  auto child = StartMerged(kAuthServiceBinary, {},
                           AuthEnv("127.0.0.1:0", "postgresql://postgres:s3cr%65tpw@[::1/x"));
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_EQ(WaitForExit(**child, seconds(20)), 1) << (*child)->Output();
  ExpectOnlyCannotStart((*child)->Output(),
                        "database migrations: database connection failed: "
                        "end of string reached when looking for matching \"]\" in IPv6 host "
                        "address in URI: \"postgresql://postgres:***@[::1/x?connect_timeout=5\"");
  EXPECT_EQ((*child)->Output().find("s3cr"), std::string::npos) << (*child)->Output();
}

// A database that comes up within the wait is used.
TEST_F(AuthServiceStartUp, DatabaseThatComesUpWithinTheWaitIsUsed) {
  ASSERT_TRUE(cluster_->Stop().ok());
  auto child = StartMerged(kAuthServiceBinary, {}, AuthEnv("127.0.0.1:0", cluster_->url()));
  ASSERT_TRUE(child.ok()) << child.status();
  std::this_thread::sleep_for(seconds(1));
  const absl::Status started_again = cluster_->StartAgain();
  ASSERT_TRUE(started_again.ok()) << started_again;
  auto port = (*child)->WaitForPort(seconds(30));
  ASSERT_TRUE(port.ok()) << port.status();
  const std::vector<nlohmann::json> events = EventsAfterSettings((*child)->Output());
  ASSERT_GE(events.size(), 2u) << (*child)->Output();
  EXPECT_EQ(events[0].value("msg", ""), "waiting for the database");
  EXPECT_EQ(events[0].value("wait_s", 0), 30);
  EXPECT_EQ(events[1].value("msg", ""), "database reachable");
  EXPECT_GE(events[1].value("attempts", 0), 2);
  EXPECT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);
}

// --- unix: listen addresses -------------------------------------------------

TEST_F(AuthServiceStartUp, UnixAddressIsNamedWhenListening) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string address = "unix:" + dir.path() + "/grpc.sock";
  auto child = StartMerged(kAuthServiceBinary, {}, AuthEnv(address, cluster_->url()));
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE(WaitForLogLine(**child, ListeningOn(address), seconds(60))) << (*child)->Output();
  EXPECT_EQ((*child)->Output().find("\"port\":"), std::string::npos);
  std::string error;
  EXPECT_EQ(CheckHealth(address, "", &error), 1) << error;  // SERVING
  EXPECT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);
}

TEST(SumServiceStartUp, UnixAddressIsNamedWhenListening) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string address = "unix:" + dir.path() + "/grpc.sock";
  auto child = StartMerged(kSumServiceBinary, {}, SumEnv(address));
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE(WaitForLogLine(**child, ListeningOn(address), seconds(30))) << (*child)->Output();
  EXPECT_EQ((*child)->Output().find("\"port\":"), std::string::npos);
  std::string error;
  EXPECT_EQ(CheckHealth(address, "", &error), 1) << error;  // SERVING
  EXPECT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);
}

// TCP: the address with the port actually bound, and the port on its own.
TEST(SumServiceStartUp, TcpAddressIsLoggedWithTheBoundPort) {
  auto child = StartMerged(kSumServiceBinary, {}, SumEnv("127.0.0.1:0"));
  ASSERT_TRUE(child.ok()) << child.status();
  auto port = (*child)->WaitForPort(seconds(30));
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string address = "127.0.0.1:" + std::to_string(*port);
  EXPECT_TRUE(WaitForLogLine(
      **child,
      [&](const nlohmann::json& line) {
        return ListeningOn(address)(line) && line.value("port", 0) == *port;
      },
      seconds(1)))
      << (*child)->Output();
  EXPECT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);
}

// --- Health for every service name, reflection ------------------------------

TEST_F(AuthServiceStartUp, HealthAnswersForTheServiceNameAndReflectionDescribesHealth) {
  auto child = StartMerged(kAuthServiceBinary, {}, AuthEnv("127.0.0.1:0", cluster_->url()));
  ASSERT_TRUE(child.ok()) << child.status();
  auto port = (*child)->WaitForPort(seconds(60));
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string target = "127.0.0.1:" + std::to_string(*port);
  std::string error;
  EXPECT_EQ(CheckHealth(target, "", &error), 1) << error;
  EXPECT_EQ(CheckHealth(target, "tollgate.auth.v1.AuthService", &error), 1) << error;
  EXPECT_EQ(CheckHealth(target, "liveness", &error), 1) << error;
  EXPECT_EQ(CheckHealth(target, "tollgate.sum.v1.SumService", &error), -1);
  EXPECT_EQ(error, "5 service name unknown");  // NOT_FOUND
  ExpectReflectionDescribesHealth(target);
  // v1 reflection is not served by gRPC 1.51, and no longer public.
  std::string ignored;
  const grpc::Status v1 = ReflectionCall(target, kReflectionV1,
                                         FileContainingSymbolRequest("grpc.health.v1.Health"),
                                         &ignored);
  EXPECT_EQ(v1.error_code(), grpc::StatusCode::PERMISSION_DENIED) << v1.error_message();
  EXPECT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);
}

TEST(SumServiceStartUp, HealthAnswersForTheServiceNameAndReflectionDescribesHealth) {
  auto child = StartMerged(kSumServiceBinary, {}, SumEnv("127.0.0.1:0"));
  ASSERT_TRUE(child.ok()) << child.status();
  auto port = (*child)->WaitForPort(seconds(30));
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string target = "127.0.0.1:" + std::to_string(*port);
  std::string error;
  EXPECT_EQ(CheckHealth(target, "", &error), 1) << error;
  EXPECT_EQ(CheckHealth(target, "tollgate.sum.v1.SumService", &error), 1) << error;
  EXPECT_EQ(CheckHealth(target, "liveness", &error), 1) << error;
  EXPECT_EQ(CheckHealth(target, "tollgate.auth.v1.AuthService", &error), -1);
  EXPECT_EQ(error, "5 service name unknown");  // NOT_FOUND
  ExpectReflectionDescribesHealth(target);
  EXPECT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);
}

// With the keys from AuthService that is not there yet, every service name
// says NOT_SERVING; "liveness" says SERVING (the process is fine: a
// liveness probe must not restart it for waiting).
TEST(SumServiceStartUp, EveryServiceNameIsNotServingUntilTheKeysArriveButLivenessIs) {
  auto free_port = testing::PickFreePort();
  ASSERT_TRUE(free_port.ok()) << free_port.status();
  auto child = StartMerged(
      kSumServiceBinary, {},
      {"SUM_LISTEN=127.0.0.1:0", "SUM_KEYS_SOURCE=grpc://127.0.0.1:" + std::to_string(*free_port)});
  ASSERT_TRUE(child.ok()) << child.status();
  auto port = (*child)->WaitForPort(seconds(30));
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string target = "127.0.0.1:" + std::to_string(*port);
  std::string error;
  EXPECT_EQ(CheckHealth(target, "", &error), 2) << error;
  EXPECT_EQ(CheckHealth(target, "tollgate.sum.v1.SumService", &error), 2) << error;
  EXPECT_EQ(CheckHealth(target, "liveness", &error), 1) << error;
  EXPECT_TRUE((*child)->Terminate().ok());
  EXPECT_EQ((*child)->ExitCode(), 0);
}

TEST(SumServiceStartUp, SecondProcessOnAPortInUseExits1NamingTheAddress) {
  ExpectASecondProcessOnThePortIsRefused(kSumServiceBinary, "sum", SumEnv, seconds(30));
}

// SUM_REUSEPORT=1 on both: the operator asked to share the port.
TEST(SumServiceStartUp, ReusePortSharesThePortWhenBothAskForIt) {
  auto picked = testing::PickFreePort();
  ASSERT_TRUE(picked.ok()) << picked.status();
  const std::string address = "127.0.0.1:" + std::to_string(*picked);
  std::vector<std::string> env = SumEnv(address);
  env.push_back("SUM_REUSEPORT=1");
  auto first = StartMerged(kSumServiceBinary, {}, env);
  ASSERT_TRUE(first.ok()) << first.status();
  auto first_port = (*first)->WaitForPort(seconds(30));
  ASSERT_TRUE(first_port.ok()) << first_port.status();
  auto second = StartMerged(kSumServiceBinary, {}, env);
  ASSERT_TRUE(second.ok()) << second.status();
  auto second_port = (*second)->WaitForPort(seconds(30));
  ASSERT_TRUE(second_port.ok()) << second_port.status();
  EXPECT_EQ(*first_port, *picked);
  EXPECT_EQ(*second_port, *picked);
  for (auto* child : {first->get(), second->get()}) {
    EXPECT_TRUE(child->Terminate().ok());
    EXPECT_EQ(child->ExitCode(), 0);
  }
}

TEST(SumServiceStartUp, ReusePortMustBe0Or1) {
  std::vector<std::string> env = SumEnv("127.0.0.1:0");
  env.push_back("SUM_REUSEPORT=yes");
  auto child = StartMerged(kSumServiceBinary, {}, env);
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_EQ(WaitForExit(**child, seconds(30)), 2) << (*child)->Output();
  EXPECT_EQ((*child)->Output(),
            "sum_service: invalid configuration: SUM_REUSEPORT (--reuseport): must be an "
            "integer in [0, 1], got 'yes'\n");
}

// --- --version ---------------------------------------------------------------

// "<binary> <version>" on stdout, exit 0, nothing else (no configuration
// is read: the environment is empty).
void ExpectVersion(const std::string& binary, const std::string& name) {
  auto child = StartMerged(binary, {"--version"}, {});
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_EQ(WaitForExit(**child, seconds(30)), 0) << (*child)->Output();
  EXPECT_EQ((*child)->Output(), name + " " + TOLLGATE_EXPECTED_VERSION + "\n");
}

TEST_F(AuthServiceStartUp, VersionPrintsTheBinaryAndVersion) {
  ExpectVersion(kAuthServiceBinary, "auth_service");
}

TEST(SumServiceStartUp, VersionPrintsTheBinaryAndVersion) {
  ExpectVersion(kSumServiceBinary, "sum_service");
}

TEST(StackBinaries, TollgateVersionPrintsTheBinaryAndVersion) {
  ExpectVersion(kCliBinary, "tollgate");
}

}  // namespace
}  // namespace tollgate
