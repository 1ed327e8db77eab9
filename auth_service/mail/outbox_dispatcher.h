#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auth_service/mail/mail_sender.h"
#include "auth_service/mail/outbox_store.h"
#include "common/clock.h"

namespace tollgate::auth {

struct OutboxDispatcherOptions {
  std::string from;        // AUTH_MAIL_FROM: one bare address, no-reply@example.com
  int batch = 20;          // rows claimed per DrainOnce (at least 1)
  // How long a claim holds its rows. Must exceed a whole batch of sends
  // (batch x the sender's 30 s timeout in the worst case); rows whose lease
  // is within send_budget_seconds of its end are not started but left to
  // expire and be claimed again.
  int64_t lease_seconds = 900;
  int64_t send_budget_seconds = 60;
  // After the n-th failed attempt the row is due again after
  // initial_backoff_seconds * 2^(n-1), at most max_backoff_seconds.
  int64_t initial_backoff_seconds = 30;
  int64_t max_backoff_seconds = 3600;
  // After this many attempts a row that still fails is abandoned (with the
  // defaults: about a day of retries).
  int max_attempts = 30;
  // The constructor makes impossible values workable: batch, max_attempts
  // and initial_backoff_seconds at least 1, max_backoff_seconds at least
  // initial_backoff_seconds, lease_seconds above send_budget_seconds.
};

// What one DrainOnce did.
struct DrainResult {
  int claimed = 0;    // rows claimed
  int sent = 0;       // accepted by the server, marked sent
  int retried = 0;    // failed for now (UNAVAILABLE), due again after a backoff
  int abandoned = 0;  // refused for good (FAILED_PRECONDITION, INVALID_ARGUMENT) or out of attempts
  int skipped = 0;    // not started: the lease was about to end (claimed again later)
};

// Moves mail from the outbox to a MailSender. Has no thread of its own: a
// PeriodicTask (or a test) calls DrainOnce; several replicas may drain the
// same outbox at once (OutboxStore's claims never overlap).
//
// DrainOnce claims one batch (a short committed transaction), then for
// each row in id order builds the MailMessage (Message-ID from MessageId,
// From `from`, Date = the row's created_at, so every attempt is the same
// message) and sends it:
//   OK                                   -> MarkSent (the body is dropped);
//   UNAVAILABLE (or any other code)      -> MarkFailed, due after the backoff,
//                                           unless max_attempts is reached:
//                                           then MarkAbandoned;
//   FAILED_PRECONDITION, INVALID_ARGUMENT-> MarkAbandoned (no retry).
// The outcome's status message (no body) is the row's last_error and is
// logged with the row id (never the body or the subject). A database error
// stops the round and is returned; rows not yet marked keep their lease
// and go again when it ends (a sent one is then sent again, with the same
// Message-ID: the at-least-once window of OutboxStore).
class OutboxDispatcher final {
 public:
  using Options = OutboxDispatcherOptions;

  // All three must outlive the dispatcher.
  OutboxDispatcher(OutboxStore& store, MailSender& sender, const Clock& clock, Options options);

  [[nodiscard]] absl::StatusOr<DrainResult> DrainOnce();

  // DrainOnce again and again while it claims full batches and
  // keep_going() says so (for a PeriodicTask round); the sum of the rounds.
  [[nodiscard]] absl::StatusOr<DrainResult> Drain(const std::function<bool()>& keep_going);

  // "<outbox-ID.CREATED_AT@DOMAIN>", DOMAIN being the part of `from` after
  // its last '@' (tollgate.invalid when it has none): the same for every
  // attempt of a row, on every replica, across restarts.
  static std::string MessageId(int64_t id, int64_t created_at, std::string_view from);

  // The wait before the attempt after `attempts` failed ones.
  int64_t BackoffSeconds(int attempts) const;

 private:
  OutboxStore& store_;
  MailSender& sender_;
  const Clock& clock_;
  const Options options_;
};

}  // namespace tollgate::auth
