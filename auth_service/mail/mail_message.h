#pragma once

#include <cstdint>
#include <string>

namespace tollgate::auth {

// A mail as a flow (password reset, email verification) hands it to the
// outbox: who gets it and what it says. The body is plain text (UTF-8, any
// line ends) and usually carries a one-time code: it is never logged, and
// the outbox forgets it once the mail is sent.
struct OutgoingMail {
  std::string to;       // one bare address: user@example.com
  std::string subject;  // one line, UTF-8
  std::string body;     // plain text, UTF-8
};

// A mail as a MailSender sends it: the outbox row plus what makes it a
// message (sender, a Message-ID that stays the same for every attempt of
// the same row, and its date).
struct MailMessage {
  std::string message_id;  // with the angle brackets: <outbox-42.1733212345@tollgate.invalid>
  std::string from;        // one bare address: no-reply@example.com
  std::string to;          // one bare address
  std::string subject;
  std::string body;
  int64_t date_unix_seconds = 0;  // the Date header (UTC)
};

}  // namespace tollgate::auth
