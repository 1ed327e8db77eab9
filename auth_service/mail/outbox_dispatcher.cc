#include "auth_service/mail/outbox_dispatcher.h"

#include <algorithm>
#include <utility>

#include "common/logging/logger.h"

namespace tollgate::auth {
namespace {

std::string Outcome(const absl::Status& status) {
  return std::string(absl::StatusCodeToString(status.code())) + ": " +
         std::string(status.message());
}

// Options that cannot work, made workable: a lease no longer than the send
// budget would leave every claimed row unsent (and claimed again forever).
OutboxDispatcherOptions Normalized(OutboxDispatcherOptions options) {
  options.batch = std::max(options.batch, 1);
  options.send_budget_seconds = std::max<int64_t>(options.send_budget_seconds, 0);
  options.lease_seconds = std::max(options.lease_seconds, options.send_budget_seconds + 1);
  options.initial_backoff_seconds = std::max<int64_t>(options.initial_backoff_seconds, 1);
  options.max_backoff_seconds =
      std::max(options.max_backoff_seconds, options.initial_backoff_seconds);
  options.max_attempts = std::max(options.max_attempts, 1);
  return options;
}

}  // namespace

OutboxDispatcher::OutboxDispatcher(OutboxStore& store, MailSender& sender, const Clock& clock,
                                   Options options)
    : store_(store), sender_(sender), clock_(clock), options_(Normalized(std::move(options))) {}

std::string OutboxDispatcher::MessageId(int64_t id, int64_t created_at, std::string_view from) {
  const size_t at = from.rfind('@');
  const std::string_view domain =
      at == std::string_view::npos || at + 1 == from.size() ? "tollgate.invalid"
                                                            : from.substr(at + 1);
  return "<outbox-" + std::to_string(id) + "." + std::to_string(created_at) + "@" +
         std::string(domain) + ">";
}

int64_t OutboxDispatcher::BackoffSeconds(int attempts) const {
  int64_t wait = options_.initial_backoff_seconds;
  for (int i = 1; i < attempts && wait < options_.max_backoff_seconds; ++i) wait *= 2;
  return std::min(wait, options_.max_backoff_seconds);
}

absl::StatusOr<DrainResult> OutboxDispatcher::DrainOnce() {
  DrainResult result;
  absl::StatusOr<std::vector<ClaimedMail>> rows =
      store_.Claim(clock_.NowUnixSeconds(), options_.batch, options_.lease_seconds);
  if (!rows.ok()) return rows.status();
  result.claimed = static_cast<int>(rows->size());

  for (ClaimedMail& row : *rows) {
    if (clock_.NowUnixSeconds() + options_.send_budget_seconds >= row.claimed_until) {
      ++result.skipped;  // the lease ends before a send could be marked
      continue;
    }
    MailMessage message;
    message.message_id = MessageId(row.id, row.created_at, options_.from);
    message.from = options_.from;
    message.to = std::move(row.recipient);
    message.subject = std::move(row.subject);
    message.body = std::move(row.body);
    message.date_unix_seconds = row.created_at;
    const absl::Status sent = sender_.Send(message);

    const int64_t now = clock_.NowUnixSeconds();
    absl::Status marked;
    if (sent.ok()) {
      marked = store_.MarkSent(row.id, now);
      if (marked.ok()) ++result.sent;
    } else if (sent.code() == absl::StatusCode::kFailedPrecondition ||
               sent.code() == absl::StatusCode::kInvalidArgument ||
               row.attempts >= options_.max_attempts) {
      logging::Warn("mail abandoned", {{"outbox_id", row.id},
                                       {"attempts", row.attempts},
                                       {"reason", Outcome(sent)}});
      marked = store_.MarkAbandoned(row.id, now, Outcome(sent));
      if (marked.ok()) ++result.abandoned;
    } else {
      const int64_t wait = BackoffSeconds(row.attempts);
      logging::Warn("mail attempt failed", {{"outbox_id", row.id},
                                            {"attempts", row.attempts},
                                            {"retry_in_s", wait},
                                            {"reason", Outcome(sent)}});
      marked = store_.MarkFailed(row.id, now, now + wait, Outcome(sent));
      if (marked.ok()) ++result.retried;
    }
    if (!marked.ok()) return marked;
  }
  return result;
}

absl::StatusOr<DrainResult> OutboxDispatcher::Drain(const std::function<bool()>& keep_going) {
  DrainResult total;
  while (keep_going()) {
    absl::StatusOr<DrainResult> round = DrainOnce();
    if (!round.ok()) return round.status();
    total.claimed += round->claimed;
    total.sent += round->sent;
    total.retried += round->retried;
    total.abandoned += round->abandoned;
    total.skipped += round->skipped;
    if (round->claimed < options_.batch) break;
  }
  return total;
}

}  // namespace tollgate::auth
