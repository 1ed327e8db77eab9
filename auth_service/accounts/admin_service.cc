#include "auth_service/accounts/admin_service.h"

#include <algorithm>
#include <vector>

#include "auth_service/accounts/user_view.h"

namespace tollgate::auth {

absl::StatusOr<std::string> CanonicalUserId(std::string_view id) {
  std::string canonical(id);
  for (char& c : canonical) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!IsCanonicalUuid(canonical)) return absl::InvalidArgumentError("user_id: must be a UUID");
  return canonical;
}

AdminService::AdminService(Dependencies dependencies) : deps_(std::move(dependencies)) {}

absl::StatusOr<v1::ListUsersResponse> AdminService::ListUsers(
    const v1::ListUsersRequest& request) {
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError("page_size: must not be negative");
  }
  const int page_size = request.page_size() == 0
                            ? kDefaultUsersPageSize
                            : std::min(request.page_size(), kMaxUsersPageSize);
  std::optional<UserCursor> after;
  if (!request.page_token().empty()) {
    auto cursor = deps_.page_tokens->Decode(request.page_token());
    if (!cursor.ok()) return cursor.status();
    after = *std::move(cursor);
  }
  // One more than the page, to know whether another page follows.
  auto users = deps_.users->ListUsers(after, page_size + 1);
  if (!users.ok()) return users.status();
  v1::ListUsersResponse response;
  const bool more = static_cast<int>(users->size()) > page_size;
  if (more) users->resize(page_size);
  for (const UserRecord& user : *users) ToProto(user, response.add_users());
  if (more) {
    response.set_next_page_token(
        deps_.page_tokens->Encode(UserCursor{users->back().created_at, users->back().id}));
  }
  return response;
}

absl::StatusOr<v1::User> AdminService::SetUserRoles(const v1::SetUserRolesRequest& request) {
  auto user_id = CanonicalUserId(request.user_id());
  if (!user_id.ok()) return user_id.status();
  std::vector<std::string> roles;
  for (const std::string& role : request.roles()) {
    if (!deps_.grantable_roles.contains(role)) {
      std::string allowed;
      for (const std::string& grantable : deps_.grantable_roles) {
        allowed += (allowed.empty() ? "" : ", ") + grantable;
      }
      return absl::InvalidArgumentError("roles: unknown role (allowed: " + allowed + ")");
    }
    roles.push_back(role);
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  auto user = deps_.users->SetRoles(*user_id, roles, deps_.clock->NowUnixSeconds());
  if (!user.ok()) return user.status();
  return ToProto(*user);
}

absl::StatusOr<v1::User> AdminService::SetUserActive(const v1::SetUserActiveRequest& request) {
  auto user_id = CanonicalUserId(request.user_id());
  if (!user_id.ok()) return user_id.status();
  auto user = deps_.users->SetActive(*user_id, request.active(), deps_.clock->NowUnixSeconds());
  if (!user.ok()) return user.status();
  return ToProto(*user);
}

}  // namespace tollgate::auth
