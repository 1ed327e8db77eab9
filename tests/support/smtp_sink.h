#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/child_process.h"

namespace tollgate::testing {

// One message the sink accepted.
struct SinkMessage {
  std::string mail_from;               // the envelope's MAIL FROM
  std::vector<std::string> rcpt_to;    // the envelope's RCPT TO, in order
  std::string raw;                     // the message as received (CRLF line ends)
};

// A real SMTP server for a test: tests/support/smtp_sink.py (aiosmtpd, run by
// /usr/bin/python3) on 127.0.0.1, saving what it accepts in its own folder
// under /tmp. It dies with the test (parent-death signal, and it exits by
// itself after max_lifetime). Start from the test's main thread.
// The first line of `message` (a raw mail with CRLF or LF line ends, or a
// body) that starts with `prefix` ("tgp_", "tge_"): the one-time code, which
// the account mails put on a line of its own. "" when there is none.
std::string CodeOnItsOwnLine(std::string_view message, std::string_view prefix);

class SmtpSink final {
 public:
  struct Options {
    int port = 0;        // 0: any free port
    int rcpt_code = 0;   // 451 or 550: refuse every RCPT TO with that code
    int data_code = 0;   // 451 or 550: refuse every DATA with that code
    std::string user;    // non-empty: AUTH PLAIN/LOGIN required with these
    std::string password;
    int max_lifetime_seconds = 300;
  };

  // Starts the sink and waits (up to 15 s) until it listens. Every failure
  // is a status that says why (the sink's output included).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SmtpSink>> Start(const Options& options);
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SmtpSink>> Start() { return Start(Options()); }

  // Stops the sink (if it runs) and removes its folder.
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  int port() const { return port_; }
  // smtp://127.0.0.1:PORT
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }

  // Every message accepted so far, in the order of acceptance.
  std::vector<SinkMessage> Messages() const;
  // Waits until at least `count` messages arrived or `timeout` passed;
  // returns what arrived.
  std::vector<SinkMessage> WaitForMessages(size_t count, std::chrono::milliseconds timeout) const;

  // Stops the server now (SIGTERM); the saved messages stay readable.
  absl::Status Stop();

  // A port on 127.0.0.1 that nothing listens on at the moment of the call.
  [[nodiscard]] static absl::StatusOr<int> UnusedPort();

 private:
  SmtpSink(std::string dir, std::unique_ptr<ChildProcess> process, int port)
      : dir_(std::move(dir)), process_(std::move(process)), port_(port) {}

  const std::string dir_;
  std::unique_ptr<ChildProcess> process_;
  const int port_;
};

}  // namespace tollgate::testing
