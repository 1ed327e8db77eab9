#include "auth_service/store/server_secret_store.h"

#include <pqxx/pqxx>

namespace tollgate::auth {

std::vector<std::pair<std::string, std::string>> ServerSecretStore::PreparedStatements() {
  return {
      {"insert_shared_secret",
       "INSERT INTO server_secrets (name, value) VALUES ($1, decode($2, 'hex')) "
       "ON CONFLICT (name) DO NOTHING"},
      {"select_shared_secret",
       "SELECT encode(value, 'hex') AS value FROM server_secrets WHERE name = $1"},
  };
}

ServerSecretStore::ServerSecretStore(PostgresPool& pool) : pool_(pool) {}

absl::StatusOr<std::string> ServerSecretStore::SharedSecret(const std::string& name,
                                                            const std::string& candidate_hex) {
  return pool_.Run<std::string>([&](pqxx::connection& conn) -> absl::StatusOr<std::string> {
    pqxx::work txn(conn);
    txn.exec_prepared("insert_shared_secret", name, candidate_hex);
    const pqxx::row row = txn.exec_prepared1("select_shared_secret", name);
    txn.commit();
    return row["value"].as<std::string>();
  });
}

}  // namespace tollgate::auth
