#pragma once

// Running a service binary the way an operator does and reading what it
// writes, shared by the start-up suites (start_up_test, start_up_log_test).

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/support/child_process.h"

namespace tollgate::e2e {

// `binary args...` with stderr merged into stdout (through /bin/sh, which
// execs the binary: the child's PID is the service's).
inline absl::StatusOr<std::unique_ptr<testing::ChildProcess>> StartMerged(
    const std::string& binary, const std::vector<std::string>& args,
    const std::vector<std::string>& env) {
  std::vector<std::string> sh_args = {"-c", "exec \"$0\" \"$@\" 2>&1", binary};
  sh_args.insert(sh_args.end(), args.begin(), args.end());
  return testing::ChildProcess::Start("/bin/sh", sh_args, env);
}

// Waits up to `timeout` for the child to exit by itself; its exit code, or
// -1 if it still runs.
inline int WaitForExit(testing::ChildProcess& child, std::chrono::seconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  while (child.Running() && std::chrono::steady_clock::now() - start < timeout) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return child.ExitCode();
}

// The lines of `output`, without the empty last one.
inline std::vector<std::string> Lines(const std::string& output) {
  std::vector<std::string> lines = absl::StrSplit(output, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// One log line parsed as JSON; a discarded value (is_discarded()) when it is
// not JSON, a non-object JSON value when it is not an object.
inline nlohmann::json ParseLogLine(const std::string& line) {
  return nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
}

// Every line of `output` parsed; an empty list and `*bad_line` set to the
// first line that is not a JSON object.
inline std::vector<nlohmann::json> JsonLogLines(const std::string& output,
                                                std::string* bad_line) {
  std::vector<nlohmann::json> parsed;
  for (const std::string& line : Lines(output)) {
    nlohmann::json object = ParseLogLine(line);
    if (!object.is_object()) {
      *bad_line = line;
      return {};
    }
    parsed.push_back(std::move(object));
  }
  return parsed;
}

// The parsed lines whose "msg" is `message`.
inline std::vector<nlohmann::json> WithMessage(const std::vector<nlohmann::json>& lines,
                                               const std::string& message) {
  std::vector<nlohmann::json> found;
  for (const nlohmann::json& line : lines) {
    if (line.value("msg", "") == message) found.push_back(line);
  }
  return found;
}

// Waits up to `timeout` for a line of the child's output that `matches`
// (given the raw line); false when the child exits first.
inline bool WaitForLine(testing::ChildProcess& child,
                        const std::function<bool(const std::string&)>& matches,
                        std::chrono::seconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < timeout) {
    for (const std::string& seen : Lines(child.Output())) {
      if (matches(seen)) return true;
    }
    if (!child.Running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The same for a JSON log line.
inline bool WaitForLogLine(testing::ChildProcess& child,
                           const std::function<bool(const nlohmann::json&)>& matches,
                           std::chrono::seconds timeout) {
  return WaitForLine(
      child,
      [&](const std::string& line) {
        const nlohmann::json parsed = ParseLogLine(line);
        return parsed.is_object() && matches(parsed);
      },
      timeout);
}

// grpc.health.v1.Health/Check for `service` on `target`; the ServingStatus,
// or -1 with the failure in `error`.
inline int CheckHealth(const std::string& target, const std::string& service,
                       std::string* error) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    *error = std::to_string(status.error_code()) + " " + status.error_message();
    return -1;
  }
  return static_cast<int>(response.status());
}

}  // namespace tollgate::e2e
