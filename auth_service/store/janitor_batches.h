#pragma once

#include <pqxx/transaction_base>

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "auth_service/db/postgres_pool.h"

namespace tollgate::auth {

// The advisory lock that lets one janitor purge at a time across replicas
// (two would contend for the same rows): "tgjanitr" in ASCII, apart from
// the migrations' lock.
inline constexpr int64_t kJanitorLockKey = 0x74676a616e697472;

// Runs `delete_batch` (which deletes at most `batch_size` rows in the
// transaction it is given and returns how many) in one short transaction
// per batch, while `keep_going()` says so and a batch came back full.
// Each batch first tries the janitor lock; while another replica holds it,
// this returns at once. Returns the rows deleted. `batch_size` below 1
// counts as 1.
[[nodiscard]] absl::StatusOr<int64_t> PurgeInBatches(
    PostgresPool& pool, int batch_size, const std::function<bool()>& keep_going,
    const std::function<int64_t(pqxx::transaction_base& txn, int batch_size)>& delete_batch);

}  // namespace tollgate::auth
