#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <pqxx/connection>

#include "absl/status/status.h"
#include "auth_service/db/postgres_pool.h"

namespace tollgate::auth {

// One versioned schema change: auth_service/db/migrations/NNNN_name.sql.
struct Migration {
  int version;            // NNNN, unique and increasing
  std::string_view name;  // the file name's rest, without .sql
  std::string_view sql;   // the whole file; may hold several statements
};

// Every migration compiled into this binary (the build embeds the .sql
// files), ordered by version.
std::span<const Migration> EmbeddedMigrations();

// Brings the schema up to date, safely when several replicas start at once.
//
// One transaction (READ COMMITTED), in this order: take the transaction
// advisory lock kMigrationLockKey, so concurrent callers queue here and each
// sees what the previous one committed; create schema_migrations(version,
// name, applied_at) if missing; run every migration whose version is not
// recorded, in version order, recording each; commit. A failure rolls all of
// it back.
//
// Codes: OK (also when nothing was missing); FAILED_PRECONDITION when a
// recorded version carries a different name than the embedded one (the
// database was migrated by a different build: refuse rather than guess);
// otherwise the codes of StatusFromDatabaseException (UNAVAILABLE when the
// database is unreachable, INTERNAL when a migration's SQL fails, naming the
// migration). Versions recorded in the database but unknown to this build
// (a newer replica got there first) are left alone.
[[nodiscard]] absl::Status ApplyMigrations(pqxx::connection& connection);
// The same with an explicit list (tests).
[[nodiscard]] absl::Status ApplyMigrations(pqxx::connection& connection,
                                           std::span<const Migration> migrations);
// The same on a pooled connection.
[[nodiscard]] absl::Status ApplyMigrations(PostgresPool& pool);

// The key of pg_advisory_xact_lock that serializes migrations: "tollgate" in
// ASCII, so it is easy to spot in pg_locks.
inline constexpr int64_t kMigrationLockKey = 0x746f6c6c67617465;

}  // namespace tollgate::auth
