#include "tests/support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "nlohmann/json.hpp"

namespace tollgate::testing {
namespace {

// A plain tool's line (the SMTP sink): "listening on port N".
constexpr std::string_view kPortMarker = "listening on port ";
// A service's text log line: "... INFO sum: listening protocol=grpc address=... port=N".
constexpr std::string_view kTextLogMarker = ": listening protocol=grpc ";
constexpr std::string_view kTextLogPort = " port=";

// The decimal number at `text[at]`, or 0 unless it is a port.
int PortAt(std::string_view text, size_t at) {
  int port = 0;
  for (size_t i = at; i < text.size() && text[i] >= '0' && text[i] <= '9' && port <= 65535; ++i) {
    port = port * 10 + (text[i] - '0');
  }
  return port <= 65535 ? port : 0;
}

// The gRPC port a line announces, or 0.
int PortOfLine(std::string_view line) {
  if (!line.empty() && line.front() == '{') {
    // A service's JSON log line: {"msg":"listening","protocol":"grpc","port":N,...}.
    const nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.value("msg", "") == "listening" &&
        parsed.value("protocol", "") == "grpc" && parsed.contains("port") &&
        parsed["port"].is_number_integer()) {
      const int64_t port = parsed["port"].get<int64_t>();
      return port > 0 && port <= 65535 ? static_cast<int>(port) : 0;
    }
    return 0;
  }
  if (const size_t at = line.find(kTextLogMarker); at != std::string_view::npos) {
    const size_t port = line.find(kTextLogPort, at);
    return port == std::string_view::npos ? 0 : PortAt(line, port + kTextLogPort.size());
  }
  if (const size_t at = line.find(kPortMarker); at != std::string_view::npos) {
    return PortAt(line, at + kPortMarker.size());
  }
  return 0;
}

// The port from the first complete line that announces one, or 0.
int FindPort(const std::string& output) {
  size_t line_start = 0;
  while (line_start < output.size()) {
    const size_t line_end = output.find('\n', line_start);
    if (line_end == std::string::npos) break;  // a line still being written
    const std::string_view line(output.data() + line_start, line_end - line_start);
    if (const int port = PortOfLine(line); port > 0) return port;
    line_start = line_end + 1;
  }
  return 0;
}

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::string& binary, const std::vector<std::string>& args,
    const std::vector<std::string>& environment) {
  // Everything the child needs is built before fork: between fork and exec
  // of a multi-threaded parent only async-signal-safe calls are allowed.
  std::vector<std::string> env = environment;
  bool has_path = false;
  for (const auto& entry : env) has_path = has_path || entry.rfind("PATH=", 0) == 0;
  if (!has_path) {
    const char* path = std::getenv("PATH");
    env.push_back(std::string("PATH=") + (path ? path : "/usr/bin:/bin"));
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  const std::string exec_failed = "child_process: cannot execute " + binary + "\n";

  // O_CLOEXEC: a sibling child started concurrently must not inherit this
  // pipe, or our reader would not see EOF when our child exits.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(std::string("pipe2: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return absl::InternalError(std::string("fork: ") + std::strerror(error));
  }
  if (pid == 0) {
    // Child: no service outlives a crashed test.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(pipe_fds[1], STDOUT_FILENO) < 0) ::_exit(127);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::execve(binary.c_str(), argv.data(), envp.data());
    [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, exec_failed.data(), exec_failed.size());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, pipe_fds[0]));
}

ChildProcess::ChildProcess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {
  reader_ = std::thread([this] { ReadStdout(); });
}

ChildProcess::~ChildProcess() {
  {
    std::lock_guard<std::mutex> lock(reap_mutex_);
    // Only our own PID, and only while it is still ours (not yet reaped, so
    // the kernel cannot have recycled it).
    if (!ReapLocked(/*block=*/false)) {
      ::kill(pid_, SIGKILL);
      ReapLocked(/*block=*/true);
    }
  }
  stop_reading_ = true;
  if (reader_.joinable()) reader_.join();
  ::close(stdout_fd_);
}

void ChildProcess::ReadStdout() {
  char buffer[4096];
  while (!stop_reading_.load()) {
    pollfd poll_fd{stdout_fd_, POLLIN, 0};
    const int ready = ::poll(&poll_fd, 1, /*timeout_ms=*/100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = ::read(stdout_fd_, buffer, sizeof(buffer));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    std::lock_guard<std::mutex> lock(output_mutex_);
    if (n <= 0) {
      stdout_closed_ = true;
      output_changed_.notify_all();
      return;
    }
    output_.append(buffer, static_cast<size_t>(n));
    output_changed_.notify_all();
  }
}

absl::StatusOr<int> ChildProcess::WaitForPort(std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool closed = false;
  {
    std::unique_lock<std::mutex> lock(output_mutex_);
    while (true) {
      if (const int port = FindPort(output_); port > 0) return port;
      if (stdout_closed_) {
        closed = true;
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      output_changed_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() +
                                                              std::chrono::milliseconds(100)));
      if (stdout_closed_ || FindPort(output_) > 0) continue;
      // The child may have exited while a grandchild keeps stdout open.
      lock.unlock();
      const bool running = Running();
      lock.lock();
      if (!running) {
        closed = true;
        break;
      }
    }
  }
  if (closed) {
    // Give the exit status a moment to become visible after stdout closed.
    for (int i = 0; i < 50 && Running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::FailedPreconditionError("pid " + std::to_string(pid_) +
                                         " stopped before it listened: " + Describe());
  }
  return absl::DeadlineExceededError("pid " + std::to_string(pid_) + " did not listen within " +
                                     std::to_string(timeout.count()) + " s: " + Describe());
}

absl::Status ChildProcess::Terminate(std::chrono::seconds timeout) {
  std::lock_guard<std::mutex> lock(reap_mutex_);
  if (ReapLocked(/*block=*/false)) return absl::OkStatus();
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReapLocked(/*block=*/false)) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ReapLocked(/*block=*/true);
  return absl::DeadlineExceededError("pid " + std::to_string(pid_) + " did not exit within " +
                                     std::to_string(timeout.count()) +
                                     " s of SIGTERM; killed it");
}

bool ChildProcess::Running() {
  std::lock_guard<std::mutex> lock(reap_mutex_);
  return !ReapLocked(/*block=*/false);
}

int ChildProcess::ExitCode() {
  std::lock_guard<std::mutex> lock(reap_mutex_);
  ReapLocked(/*block=*/false);
  return exit_code_;
}

std::string ChildProcess::Output() const {
  std::lock_guard<std::mutex> lock(output_mutex_);
  return output_;
}

bool ChildProcess::ReapLocked(bool block) {
  if (reaped_) return true;
  int status = 0;
  pid_t result;
  do {
    result = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == pid_) {
    reaped_ = true;
    exit_code_ = DecodeWaitStatus(status);
  } else if (result < 0) {
    // ECHILD: not ours to wait for any more; treat it as gone, never kill it.
    reaped_ = true;
  }
  return reaped_;
}

std::string ChildProcess::Describe() {
  const int code = ExitCode();
  std::string text = code < 0 ? std::string("still running")
                              : "exit status " + std::to_string(code);
  text += "; stdout: [" + Output() + "]";
  return text;
}

}  // namespace tollgate::testing
