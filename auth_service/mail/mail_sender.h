#pragma once

#include "absl/status/status.h"
#include "auth_service/mail/mail_message.h"

namespace tollgate::auth {

// Hands one message to a mail server.
//
// Contract of Send:
//   OK                   the server accepted the message (250 after DATA);
//   UNAVAILABLE          worth retrying later: connect failure, timeout, a
//                        4xx reply, a TLS or login failure (configuration
//                        the operator can fix without losing the mail);
//   FAILED_PRECONDITION  a permanent refusal of this message: a 5xx reply
//                        (e.g. the recipient was rejected); do not retry;
//   INVALID_ARGUMENT     the message cannot be sent as given (CR or LF in
//                        an address or the subject, an address without @);
//                        nothing was sent; do not retry.
// The status message is one line for logs and the outbox's last_error: it
// never contains the body (which carries one-time codes) or a password.
// Implementations are thread-safe.
class MailSender {
 public:
  virtual ~MailSender() = default;
  [[nodiscard]] virtual absl::Status Send(const MailMessage& message) = 0;
};

}  // namespace tollgate::auth
