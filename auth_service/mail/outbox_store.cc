#include "auth_service/mail/outbox_store.h"

#include <pqxx/pqxx>

#include <algorithm>

namespace tollgate::auth {
namespace {

constexpr size_t kMaxErrorBytes = 200;

bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7f;
  });
}

absl::Status ValidateMail(const OutgoingMail& mail) {
  const bool bad_address =
      mail.to.find('@') == std::string::npos ||
      std::any_of(mail.to.begin(), mail.to.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte <= 0x20 || byte == 0x7f || c == '<' || c == '>' || c == ',';
      });
  if (bad_address) return absl::InvalidArgumentError("mail: bad recipient address");
  if (HasControl(mail.subject)) {
    return absl::InvalidArgumentError("mail: CR, LF or another control character in the subject");
  }
  return absl::OkStatus();
}

// At most kMaxErrorBytes, cut between UTF-8 characters, one line.
std::string ShortError(std::string_view error) {
  std::string text(error.substr(0, std::min(error.size(), kMaxErrorBytes)));
  if (text.size() < error.size()) {
    while (!text.empty() && (static_cast<unsigned char>(error[text.size()]) & 0xC0) == 0x80) {
      text.pop_back();
    }
  }
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return text;
}

absl::Status RowUpdated(const pqxx::result& result) {
  if (result.affected_rows() == 0) return absl::NotFoundError("outbox row not found");
  return absl::OkStatus();
}

// Runs the prepared UPDATE `statement` ($1 = id, then `params`) in one
// transaction. NOT_FOUND only when row `id` does not exist: an update that
// the row's state made a no-op is not an error.
template <typename... Params>
absl::Status UpdateExistingRow(PostgresPool& pool, const char* statement, int64_t id,
                               const Params&... params) {
  return pool
      .Run<bool>([&](pqxx::connection& conn) -> absl::StatusOr<bool> {
        pqxx::work txn(conn);
        const pqxx::result result = txn.exec_prepared(statement, id, params...);
        const bool exists =
            result.affected_rows() > 0 || !txn.exec_prepared("outbox_exists", id).empty();
        txn.commit();
        if (!exists) return absl::NotFoundError("outbox row not found");
        return true;
      })
      .status();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> OutboxStore::PreparedStatements() {
  return {
      {"outbox_enqueue",
       "INSERT INTO mail_outbox (recipient, subject, body, created_at, next_attempt_at) "
       "VALUES ($1, $2, $3, $4, $4) RETURNING id"},
      // $1 now, $2 limit, $3 lease seconds. The inner SELECT locks the rows
      // it picks and skips the ones another claim holds, so concurrent
      // claims never share a row; the lease then keeps the row from being
      // claimed again after this transaction commits.
      {"outbox_claim",
       "UPDATE mail_outbox SET claimed_until = $1::bigint + $3::bigint, attempts = attempts + 1 "
       "WHERE id IN ("
       "  SELECT id FROM mail_outbox "
       "  WHERE sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $1 "
       "    AND claimed_until <= $1 "
       "  ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) "
       "RETURNING id, recipient, subject, body, created_at, attempts, claimed_until"},
      {"outbox_mark_sent",
       "UPDATE mail_outbox SET sent_at = $2, last_attempt_at = $2, body = NULL, claimed_until = 0, "
       "  last_error = NULL "
       "WHERE id = $1"},
      {"outbox_mark_failed",
       "UPDATE mail_outbox SET next_attempt_at = $3, last_attempt_at = $2, claimed_until = 0, "
       "  last_error = $4 "
       "WHERE id = $1 AND sent_at IS NULL"},
      {"outbox_mark_abandoned",
       "UPDATE mail_outbox SET abandoned_at = $2, last_attempt_at = $2, body = NULL, "
       "  claimed_until = 0, last_error = $3 "
       "WHERE id = $1 AND sent_at IS NULL"},
      {"outbox_exists", "SELECT 1 FROM mail_outbox WHERE id = $1"},
      {"outbox_count_pending",
       "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND abandoned_at IS NULL"},
      // $1 finished before, $2 batch. The expression matches the index
      // mail_outbox_finished.
      {"outbox_purge",
       "DELETE FROM mail_outbox WHERE id IN ("
       "  SELECT id FROM mail_outbox "
       "  WHERE (sent_at IS NOT NULL OR abandoned_at IS NOT NULL) "
       "    AND COALESCE(sent_at, abandoned_at) < $1 "
       "  LIMIT $2)"},
  };
}

OutboxStore::OutboxStore(PostgresPool& pool) : pool_(pool) {}

absl::StatusOr<int64_t> OutboxStore::Enqueue(pqxx::transaction_base& txn, const OutgoingMail& mail,
                                             int64_t now) {
  if (absl::Status valid = ValidateMail(mail); !valid.ok()) return valid;
  return txn.exec_prepared1("outbox_enqueue", mail.to, mail.subject, mail.body, now)["id"]
      .as<int64_t>();
}

absl::StatusOr<int64_t> OutboxStore::Enqueue(const OutgoingMail& mail, int64_t now) {
  if (absl::Status valid = ValidateMail(mail); !valid.ok()) return valid;
  return pool_.Run<int64_t>([&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
    pqxx::work txn(conn);
    absl::StatusOr<int64_t> id = Enqueue(txn, mail, now);
    if (!id.ok()) return id;
    txn.commit();
    return id;
  });
}

absl::StatusOr<std::vector<ClaimedMail>> OutboxStore::Claim(int64_t now, int limit,
                                                            int64_t lease_seconds) {
  using Rows = std::vector<ClaimedMail>;
  limit = std::max(limit, 1);
  return pool_.Run<Rows>([&](pqxx::connection& conn) -> absl::StatusOr<Rows> {
    pqxx::work txn(conn);
    const pqxx::result result = txn.exec_prepared("outbox_claim", now, limit, lease_seconds);
    txn.commit();
    Rows rows;
    rows.reserve(result.size());
    for (const pqxx::row& row : result) {
      ClaimedMail mail;
      mail.id = row["id"].as<int64_t>();
      mail.recipient = row["recipient"].as<std::string>();
      mail.subject = row["subject"].as<std::string>();
      mail.body = row["body"].as<std::string>("");
      mail.created_at = row["created_at"].as<int64_t>();
      mail.attempts = row["attempts"].as<int>();
      mail.claimed_until = row["claimed_until"].as<int64_t>();
      rows.push_back(std::move(mail));
    }
    std::sort(rows.begin(), rows.end(),
              [](const ClaimedMail& a, const ClaimedMail& b) { return a.id < b.id; });
    return rows;
  });
}

absl::Status OutboxStore::MarkSent(int64_t id, int64_t now) {
  return pool_
      .Run<bool>([&](pqxx::connection& conn) -> absl::StatusOr<bool> {
        pqxx::work txn(conn);
        const pqxx::result result = txn.exec_prepared("outbox_mark_sent", id, now);
        txn.commit();
        if (absl::Status found = RowUpdated(result); !found.ok()) return found;
        return true;
      })
      .status();
}

absl::Status OutboxStore::MarkFailed(int64_t id, int64_t now, int64_t next_attempt_at,
                                     std::string_view error) {
  return UpdateExistingRow(pool_, "outbox_mark_failed", id, now, next_attempt_at,
                           ShortError(error));
}

absl::Status OutboxStore::MarkAbandoned(int64_t id, int64_t now, std::string_view error) {
  return UpdateExistingRow(pool_, "outbox_mark_abandoned", id, now, ShortError(error));
}

absl::StatusOr<int64_t> OutboxStore::CountPending() {
  return pool_.Run<int64_t>(
      [&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
        pqxx::read_transaction txn(conn);
        const int64_t count = txn.exec_prepared1("outbox_count_pending")[0].as<int64_t>();
        txn.commit();
        return count;
      },
      PostgresPool::Use::kMonitoring);  // read for the gauge and a start-up line, not a call
}

absl::StatusOr<int64_t> OutboxStore::PurgeSent(int64_t finished_before, int batch) {
  batch = std::max(batch, 1);
  return pool_.Run<int64_t>([&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
    pqxx::work txn(conn);
    const int64_t deleted = static_cast<int64_t>(
        txn.exec_prepared("outbox_purge", finished_before, batch).affected_rows());
    txn.commit();
    return deleted;
  });
}

}  // namespace tollgate::auth
