#include "tests/support/smtp_sink.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/free_port.h"

#ifndef TOLLGATE_SMTP_SINK_SCRIPT
#error "TOLLGATE_SMTP_SINK_SCRIPT must name tests/support/smtp_sink.py"
#endif

namespace tollgate::testing {
namespace {

constexpr char kPython[] = "/usr/bin/python3";  // the Debian one, with python3-aiosmtpd

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SmtpSink>> SmtpSink::Start(const Options& options) {
  char dir_template[] = "/tmp/tollgate-smtp-sink-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    return absl::InternalError(std::string("mkdtemp: ") + std::strerror(errno));
  }
  const std::string dir = dir_template;
  std::vector<std::string> args = {TOLLGATE_SMTP_SINK_SCRIPT, "--dir", dir, "--port",
                                   std::to_string(options.port), "--max-lifetime",
                                   std::to_string(options.max_lifetime_seconds)};
  if (options.rcpt_code != 0) {
    args.insert(args.end(), {"--rcpt-code", std::to_string(options.rcpt_code)});
  }
  if (options.data_code != 0) {
    args.insert(args.end(), {"--data-code", std::to_string(options.data_code)});
  }
  if (!options.user.empty()) {
    args.insert(args.end(), {"--user", options.user, "--password", options.password});
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Start(kPython, args, {"PYTHONDONTWRITEBYTECODE=1"});
  if (!process.ok()) {
    std::filesystem::remove_all(dir);
    return process.status();
  }
  absl::StatusOr<int> port = (*process)->WaitForPort(std::chrono::seconds(15));
  if (!port.ok()) {
    std::filesystem::remove_all(dir);
    return absl::Status(port.status().code(), "smtp sink: " + std::string(port.status().message()));
  }
  return std::unique_ptr<SmtpSink>(new SmtpSink(dir, *std::move(process), *port));
}

SmtpSink::~SmtpSink() {
  (void)Stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status SmtpSink::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  return process_->Terminate(std::chrono::seconds(5));
}

std::vector<SinkMessage> SmtpSink::Messages() const {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<SinkMessage> messages;
  for (const auto& file : files) {
    SinkMessage message;
    message.raw = ReadFile(file);
    std::istringstream envelope(ReadFile(std::filesystem::path(file).replace_extension(".envelope")));
    std::getline(envelope, message.mail_from);
    for (std::string line; std::getline(envelope, line);) message.rcpt_to.push_back(line);
    messages.push_back(std::move(message));
  }
  return messages;
}

std::vector<SinkMessage> SmtpSink::WaitForMessages(size_t count,
                                                   std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::vector<SinkMessage> messages = Messages();
    if (messages.size() >= count || std::chrono::steady_clock::now() >= deadline) return messages;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

absl::StatusOr<int> SmtpSink::UnusedPort() { return PickFreePort(); }

std::string CodeOnItsOwnLine(std::string_view message, std::string_view prefix) {
  size_t at = 0;
  while ((at = message.find(prefix, at)) != std::string_view::npos) {
    const bool line_start = at == 0 || message[at - 1] == '\n';
    const size_t end = message.find_first_of("\r\n", at);
    if (line_start) {
      return std::string(message.substr(at, end == std::string_view::npos ? end : end - at));
    }
    at += prefix.size();
  }
  return "";
}

}  // namespace tollgate::testing
