#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "auth_service/db/postgres_pool.h"

namespace tollgate::auth {

// Secrets shared by every replica (table server_secrets): the refresh
// successor key, the ListUsers page-token key.
class ServerSecretStore final {
 public:
  explicit ServerSecretStore(PostgresPool& pool);

  static std::vector<std::pair<std::string, std::string>> PreparedStatements();

  // The secret called `name`: created once with `candidate_hex` (the first
  // writer wins), then read back by everybody. Hex in, hex out.
  [[nodiscard]] absl::StatusOr<std::string> SharedSecret(const std::string& name,
                                                         const std::string& candidate_hex);

 private:
  PostgresPool& pool_;
};

}  // namespace tollgate::auth
