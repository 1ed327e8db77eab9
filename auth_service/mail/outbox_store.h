#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/transaction_base>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth_service/db/postgres_pool.h"
#include "auth_service/mail/mail_message.h"

namespace tollgate::auth {

// One outbox row a Claim handed to this caller, with its lease.
struct ClaimedMail {
  int64_t id = 0;
  std::string recipient;
  std::string subject;
  std::string body;
  int64_t created_at = 0;
  int attempts = 0;            // counting this claim
  int64_t claimed_until = 0;   // the lease ends then; after it another caller may claim the row
};

// The mail_outbox table (migration 0004): mail waiting to be sent, written
// in the same transaction as whatever it tells about, and drained by
// OutboxDispatcher on any replica.
//
// Delivery is at least once. A row is claimed (a lease: claimed_until) in
// one short transaction that commits before the mail is sent, so no
// transaction stays open during SMTP, and FOR UPDATE SKIP LOCKED lets
// replicas claim concurrently without ever getting the same row. If a
// sender dies after the SMTP server accepted the mail but before MarkSent,
// the lease runs out and the row is sent again: SMTP has no way to make
// accept-and-mark atomic. Every attempt carries the same Message-ID
// (OutboxDispatcher::MessageId, from the row's id and created_at), so
// receiving systems can recognise the duplicate.
//
// The body, which carries one-time codes, is set to NULL once the row is
// sent or abandoned. Time always comes from the caller (the service's
// Clock). Codes: those of PostgresPool::Run (UNAVAILABLE when the database
// is unreachable, RESOURCE_EXHAUSTED when the pool is busy, INTERNAL),
// plus the ones named below. Thread-safe.
class OutboxStore final {
 public:
  explicit OutboxStore(PostgresPool& pool);

  // The statements to prepare on every pooled connection (append them to
  // PostgresPoolOptions::prepared_statements): outbox_enqueue, outbox_claim,
  // outbox_mark_sent, outbox_mark_failed, outbox_mark_abandoned,
  // outbox_exists, outbox_count_pending, outbox_purge.
  static std::vector<std::pair<std::string, std::string>> PreparedStatements();

  // Adds the mail inside the caller's transaction `txn` (on a pooled
  // connection, so "outbox_enqueue" is prepared): it is sent only if that
  // transaction commits. Due at once. Returns the row's id, or
  // INVALID_ARGUMENT "mail: bad recipient address" (empty, no '@', control
  // characters, spaces or angle brackets) or "mail: CR, LF or another
  // control character in the subject" without touching the database.
  // Throws what libpqxx throws: call it inside PostgresPool::Run work, which
  // maps that to a status.
  [[nodiscard]] static absl::StatusOr<int64_t> Enqueue(pqxx::transaction_base& txn,
                                                       const OutgoingMail& mail, int64_t now);
  // The same in a transaction of its own.
  [[nodiscard]] absl::StatusOr<int64_t> Enqueue(const OutgoingMail& mail, int64_t now);

  // Claims up to `limit` (at least 1) due rows (not sent, not abandoned,
  // next_attempt_at <= now, no live lease: claimed_until <= now), oldest id
  // first, skipping rows another transaction has locked: sets claimed_until
  // = now + lease_seconds and counts an attempt. One statement, committed
  // before it returns. The rows come back ordered by id.
  [[nodiscard]] absl::StatusOr<std::vector<ClaimedMail>> Claim(int64_t now, int limit,
                                                               int64_t lease_seconds);

  // The server accepted the mail: sets sent_at, clears the body, the lease
  // and last_error. NOT_FOUND "outbox row not found" if no such row.
  [[nodiscard]] absl::Status MarkSent(int64_t id, int64_t now);
  // The attempt failed but may work later: releases the lease, due again at
  // `next_attempt_at`, records `error` (cut to 200 bytes; never pass the
  // body). NOT_FOUND as above. A row already sent is left alone.
  [[nodiscard]] absl::Status MarkFailed(int64_t id, int64_t now, int64_t next_attempt_at,
                                        std::string_view error);
  // The mail will never go (a permanent refusal, or out of attempts): sets
  // abandoned_at, clears the body and the lease, records `error`. NOT_FOUND
  // as above. A row already sent is left alone.
  [[nodiscard]] absl::Status MarkAbandoned(int64_t id, int64_t now, std::string_view error);

  // Rows neither sent nor abandoned (due or not, claimed or not). Read as
  // monitoring (the outbox gauge, a start-up line): not counted as a pool wait.
  [[nodiscard]] absl::StatusOr<int64_t> CountPending();

  // Deletes up to `batch` (at least 1) rows sent or abandoned before
  // `finished_before` (the janitor passes now minus a week), in one
  // transaction; returns how many went. Call again while it returns `batch`.
  [[nodiscard]] absl::StatusOr<int64_t> PurgeSent(int64_t finished_before, int batch);

 private:
  PostgresPool& pool_;
};

}  // namespace tollgate::auth
