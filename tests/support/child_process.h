#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tollgate::testing {

// One child process started by a test (a service binary under test).
//
// The child gets exactly the environment it is given (plus the test's own
// PATH when `environment` sets none), so a developer's AUTH_* variables never
// leak into a test. Its stdout, where the services log, is read by a
// background thread into a buffer (so a chatty child never blocks on a full
// pipe) and is part of every failure this class reports; its stderr is the
// test's stderr. stdin is /dev/null.
//
// The child is sent SIGKILL if the thread that started it exits (Linux
// PR_SET_PDEATHSIG), so a crashed test leaves no service behind: start
// children from the test's main thread. The destructor kills and reaps
// this object's own child only (by its PID), if it still runs.
class ChildProcess final {
 public:
  // fork/exec `binary` with `args` (argv[1..]) and `environment` ("K=V"
  // entries). Fails (INTERNAL) only if pipe or fork fails; a binary that
  // cannot be executed exits with status 127 and says so on stderr.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      const std::vector<std::string>& environment);

  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits until the child announces its gRPC port and returns it: a
  // service's "listening" log line with protocol grpc (JSON or text), or a
  // plain tool's line containing `listening on port N`. DEADLINE_EXCEEDED
  // after `timeout`, FAILED_PRECONDITION if the child exits or closes stdout
  // first; both messages carry the exit status (if any) and everything the
  // child printed on stdout.
  [[nodiscard]] absl::StatusOr<int> WaitForPort(std::chrono::seconds timeout);

  // SIGTERM, then waits up to `timeout` for the child to exit. If it does
  // not, SIGKILL, and DEADLINE_EXCEEDED. OK if the child exited by itself
  // in time (or had exited before); ExitCode() then says how.
  absl::Status Terminate(std::chrono::seconds timeout = std::chrono::seconds(10));

  // Non-blocking: has the child not exited yet?
  bool Running();

  // The exit status once the child has exited: its exit code, or 128 + the
  // signal number if a signal ended it. -1 while it still runs.
  int ExitCode();

  pid_t pid() const { return pid_; }
  // Everything the child printed on stdout so far.
  std::string Output() const;

 private:
  ChildProcess(pid_t pid, int stdout_fd);
  void ReadStdout();
  // Reaps the child if it has exited (or waits for it when `block`).
  // Returns true once it has been reaped. Caller holds reap_mutex_.
  bool ReapLocked(bool block);
  std::string Describe();

  const pid_t pid_;
  const int stdout_fd_;

  mutable std::mutex output_mutex_;
  std::condition_variable output_changed_;
  std::string output_;          // guarded by output_mutex_
  bool stdout_closed_ = false;  // guarded by output_mutex_

  std::mutex reap_mutex_;
  bool reaped_ = false;  // guarded by reap_mutex_
  int exit_code_ = -1;   // guarded by reap_mutex_

  std::atomic<bool> stop_reading_{false};
  std::thread reader_;
};

}  // namespace tollgate::testing
