#pragma once

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "auth_service/accounts/page_token.h"
#include "auth_service/store/user_store.h"
#include "common/clock.h"
#include "tollgate/auth/v1/auth.pb.h"

namespace tollgate::auth {

inline constexpr int kDefaultUsersPageSize = 50;
inline constexpr int kMaxUsersPageSize = 500;

// Administration of accounts (role `admin`, enforced by the interceptor):
// ListUsers, SetUserRoles, SetUserActive. Codes: INVALID_ARGUMENT naming
// the field (a user_id that is not a UUID, a negative page_size, a
// page_token not from this API, a role outside AUTH_ROLES); NOT_FOUND "user
// not found"; FAILED_PRECONDITION when the change would leave no active
// admin; UNAVAILABLE (database).
class AdminService final {
 public:
  struct Dependencies {
    UserStore* users;
    const PageTokenCodec* page_tokens;
    const Clock* clock;
    std::set<std::string> grantable_roles;  // AUTH_ROLES
  };
  explicit AdminService(Dependencies dependencies);

  // Users ordered by creation, then id. page_size 0 means 50; above 500
  // counts as 500. An empty next_page_token marks the last page.
  [[nodiscard]] absl::StatusOr<v1::ListUsersResponse> ListUsers(
      const v1::ListUsersRequest& request);
  // Replaces the roles (duplicates dropped, sorted).
  [[nodiscard]] absl::StatusOr<v1::User> SetUserRoles(const v1::SetUserRolesRequest& request);
  // Deactivating revokes every login session: Login then answers
  // PERMISSION_DENIED "account is deactivated" and Refresh UNAUTHENTICATED.
  [[nodiscard]] absl::StatusOr<v1::User> SetUserActive(const v1::SetUserActiveRequest& request);

 private:
  Dependencies deps_;
};

// `id` as the canonical lower-case UUID, or INVALID_ARGUMENT "user_id: must
// be a UUID".
[[nodiscard]] absl::StatusOr<std::string> CanonicalUserId(std::string_view id);

}  // namespace tollgate::auth
