#include "auth_service/store/janitor_batches.h"

#include <pqxx/pqxx>

#include <algorithm>

namespace tollgate::auth {

absl::StatusOr<int64_t> PurgeInBatches(
    PostgresPool& pool, int batch_size, const std::function<bool()>& keep_going,
    const std::function<int64_t(pqxx::transaction_base& txn, int batch_size)>& delete_batch) {
  batch_size = std::max(batch_size, 1);
  constexpr int64_t kLockHeldElsewhere = -1;
  int64_t purged = 0;
  while (keep_going()) {
    // One short transaction per batch: it locks only the batch's rows.
    absl::StatusOr<int64_t> batch =
        pool.Run<int64_t>([&](pqxx::connection& conn) -> absl::StatusOr<int64_t> {
          pqxx::work txn(conn);
          if (!txn.exec_params1("SELECT pg_try_advisory_xact_lock($1::bigint)", kJanitorLockKey)[0]
                   .as<bool>()) {
            return kLockHeldElsewhere;
          }
          const int64_t deleted = delete_batch(txn, batch_size);
          txn.commit();
          return deleted;
        });
    if (!batch.ok()) return batch.status();
    if (*batch == kLockHeldElsewhere) break;  // another replica is purging
    purged += *batch;
    if (*batch < batch_size) break;
  }
  return purged;
}

}  // namespace tollgate::auth
