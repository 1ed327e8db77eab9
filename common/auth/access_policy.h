#pragma once

#include <string>
#include <string_view>
#include <utility>
#include "absl/container/flat_hash_map.h"
#include <vector>

#include "absl/status/statusor.h"

namespace tollgate {

// Who may call one method, as declared by `option (tollgate.access)`.
struct MethodAccess {
  bool is_public = false;  // no token needed
  std::string role;        // else: a verified token whose roles contain this
};

// The access table of a server, read once from the `(tollgate.access)` method
// options in the generated descriptor pool (proto/tollgate/access.proto).
//
// Deny by default: a method that is not in the table (no option, or a service
// the server did not list) has no entry, and the interceptor answers
// PERMISSION_DENIED. grpc.health.v1.Health and the reflection services are
// always public, so probes and grpcurl work without a token.
class AccessPolicy final {
 public:
  // Reads every method of the named services (full names, e.g.
  // "tollgate.sum.v1.SumService"). INVALID_ARGUMENT for a service that is not
  // in the generated pool, or an option that sets both or neither of
  // `public` and `role` (a typo must fail start-up, not open a method).
  [[nodiscard]] static absl::StatusOr<AccessPolicy> FromServices(
      const std::vector<std::string>& service_names);

  // FOR TESTS ONLY: a policy with exactly `rules`, keyed by
  // "/package.Service/Method" (plus the always-public health and reflection
  // methods, as FromServices adds them), ignoring the descriptors' options.
  // For tests that need a policy auth.proto does not declare, such as one
  // that refuses every method to every caller. Servers build their policy
  // with FromServices only.
  static AccessPolicy FromRulesForTesting(
      const std::vector<std::pair<std::string, MethodAccess>>& rules);

  // The rule for "/package.Service/Method" (the form gRPC hands to server
  // interceptors), or nullptr when the method is denied to everyone.
  const MethodAccess* Find(std::string_view grpc_method_path) const;

  // One line per method: "/pkg.Service/Method  public|role 'x'|DENIED", for
  // people.
  std::string Describe() const;

  // The start-up log of the table: one info line "access policy" per
  // method, with `method` and `access` ("public", "role" with `role`, or
  // "denied" for a method without the option), in declaration order.
  void LogTable() const;

 private:
  struct Entry {
    std::string path;
    MethodAccess access;
    bool denied = false;  // listed only so Describe() and LogTable() show it
  };
  void AddAlwaysPublicMethods();

  std::vector<Entry> entries_;  // in declaration order, for Describe()
  absl::flat_hash_map<std::string, MethodAccess> by_path_;
};

}  // namespace tollgate
