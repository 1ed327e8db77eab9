#include "auth_service/db/migrations.h"

#include <map>
#include <string>
#include <vector>

#include <pqxx/result>
#include <pqxx/transaction>

#include "common/logging/logger.h"

namespace tollgate::auth {
namespace {

constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version int PRIMARY KEY,"
    "  name text NOT NULL,"
    "  applied_at timestamptz NOT NULL DEFAULT now())";

std::string Describe(const Migration& migration) {
  return std::to_string(migration.version) + " (" + std::string(migration.name) + ")";
}

}  // namespace

absl::Status ApplyMigrations(pqxx::connection& connection) {
  return ApplyMigrations(connection, EmbeddedMigrations());
}

absl::Status ApplyMigrations(pqxx::connection& connection,
                             std::span<const Migration> migrations) {
  const Migration* current = nullptr;
  try {
    pqxx::work txn(connection);
    // Each statement must see what a replica that held the lock before us
    // committed; under REPEATABLE READ or SERIALIZABLE (a database default
    // someone might set) the snapshot would predate that commit.
    txn.exec("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
    // First, before touching any table: replicas starting together queue
    // here instead of racing on CREATE TABLE or on the version rows.
    txn.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
    txn.exec(kCreateMigrationsTable);

    std::map<int, std::string> recorded;
    for (const auto& row : txn.exec("SELECT version, name FROM schema_migrations")) {
      recorded.emplace(row[0].as<int>(), row[1].as<std::string>());
    }

    std::vector<const Migration*> applied;
    for (const Migration& migration : migrations) {
      if (auto it = recorded.find(migration.version); it != recorded.end()) {
        if (it->second != migration.name) {
          return absl::FailedPreconditionError(
              "schema migration " + std::to_string(migration.version) + " is recorded as '" +
              it->second + "' but this build calls it '" + std::string(migration.name) + "'");
        }
        continue;
      }
      current = &migration;
      txn.exec(std::string(migration.sql));
      txn.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                      migration.version, std::string(migration.name));
      applied.push_back(&migration);
    }
    current = nullptr;
    txn.commit();
    for (const Migration* migration : applied) {
      logging::Info("schema migration applied",
                    {{"version", migration->version}, {"name", migration->name}});
    }
    return absl::OkStatus();
  } catch (...) {
    const absl::Status status = StatusFromDatabaseException(std::current_exception());
    if (current == nullptr) return status;
    return absl::Status(status.code(), "schema migration " + Describe(*current) +
                                           " failed: " + std::string(status.message()));
  }
}

absl::Status ApplyMigrations(PostgresPool& pool) {
  return pool
      .Run<bool>([](pqxx::connection& connection) -> absl::StatusOr<bool> {
        if (absl::Status status = ApplyMigrations(connection); !status.ok()) return status;
        return true;
      })
      .status();
}

}  // namespace tollgate::auth
