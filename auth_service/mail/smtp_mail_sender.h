#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth_service/mail/mail_message.h"
#include "auth_service/mail/mail_sender.h"

namespace tollgate::auth {

// Where and how SmtpMailSender talks SMTP (AUTH_SMTP_URL and friends).
struct SmtpSettings {
  bool implicit_tls = false;      // smtps://: TLS from the first byte
  bool require_starttls = false;  // smtp://...?starttls=required: STARTTLS or no mail
  std::string host;               // as written in the URL (an IPv6 address in brackets)
  int port = 0;
  std::string user;      // empty: no AUTH
  std::string password;  // never logged, never in a status
  // A PEM CA bundle that verifies the server's certificate (smtps:// or
  // STARTTLS); empty: the system's. Not part of the URL.
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{30000};  // the whole SMTP session

  // Parses AUTH_SMTP_URL:
  //   smtp://[user:password@]host[:port][/][?starttls=required]
  //   smtps://[user:password@]host[:port][/]
  // The port defaults to 25 (smtp) or 465 (smtps). smtp:// without
  // starttls=required is plain text (a local relay). user and password in
  // the URL are percent-decoded. `user` and `password` are
  // AUTH_SMTP_USER / AUTH_SMTP_PASSWORD (empty when unset); the credentials
  // come from the URL or from those, never both (refused: no guessing which
  // one the operator meant), and a user needs a password and vice versa.
  // INVALID_ARGUMENT with one line naming the variable and never quoting
  // the URL or a password:
  //   "AUTH_SMTP_URL is empty"
  //   "AUTH_SMTP_URL must start with smtp:// or smtps://"
  //   "AUTH_SMTP_URL has no host"
  //   "AUTH_SMTP_URL has a bad host"
  //   "AUTH_SMTP_URL has a bad port (want 1-65535)"
  //   "AUTH_SMTP_URL must have no path"
  //   "AUTH_SMTP_URL: the only query option is starttls=required"
  //   "AUTH_SMTP_URL: starttls=required is for smtp:// (smtps:// is TLS from the start)"
  //   "AUTH_SMTP_URL has a bad percent-escape in its user or password"
  //   "AUTH_SMTP_URL has a user but no password"
  //   "AUTH_SMTP_URL carries credentials and AUTH_SMTP_USER or AUTH_SMTP_PASSWORD is set too; give them in one place"
  //   "AUTH_SMTP_USER is set without AUTH_SMTP_PASSWORD"
  //   "AUTH_SMTP_PASSWORD is set without AUTH_SMTP_USER"
  [[nodiscard]] static absl::StatusOr<SmtpSettings> Parse(std::string_view url, std::string user,
                                                          std::string password);

  // scheme://host:port, without credentials: what libcurl connects to.
  std::string CurlUrl() const;
};

// A MailSender that speaks SMTP through libcurl: one connection (one easy
// handle) per Send, so it is thread-safe and holds nothing between sends.
//
// The message is RFC 5322 with CRLF line ends: Date (UTC), From, To,
// Subject (RFC 2047 base64 encoded-words when not plain ASCII), Message-ID,
// MIME-Version 1.0, Content-Type text/plain; charset=UTF-8,
// Content-Transfer-Encoding 8bit, a blank line, the body (its line ends
// made CRLF; libcurl does the dot-stuffing).
//
// Codes of Send are those of MailSender, mapped from libcurl's result and
// the last SMTP reply code (CURLINFO_RESPONSE_CODE): a 5xx reply ->
// FAILED_PRECONDITION "smtp: server refused the message (550)"; a 4xx reply
// -> UNAVAILABLE "smtp: server deferred the message (451)"; a refused
// login -> UNAVAILABLE "smtp: login refused"; anything else that failed
// (connect, timeout, TLS) -> UNAVAILABLE "smtp: <libcurl's error>". CR or
// LF (or another control character) in from, to or the subject, or an
// address without '@' or with spaces or angle brackets, or a body line
// over 998 bytes -> INVALID_ARGUMENT before anything is sent.
class SmtpMailSender final : public MailSender {
 public:
  explicit SmtpMailSender(SmtpSettings settings);

  [[nodiscard]] absl::Status Send(const MailMessage& message) override;

  // The RFC 5322 text Send uploads, or INVALID_ARGUMENT as above.
  [[nodiscard]] static absl::StatusOr<std::string> FormatMessage(const MailMessage& message);

 private:
  const SmtpSettings settings_;
};

}  // namespace tollgate::auth
