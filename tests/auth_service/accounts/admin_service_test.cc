#include "auth_service/accounts/admin_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "common/token/base64url.h"
#include "tests/auth_service/accounts/account_services.h"

namespace tollgate::auth {
namespace {

using ::tollgate::testing::AccountServices;
using ::tollgate::testing::HasStatus;

constexpr char kNotOurs[] = "page_token: not a token from this API";

class AdminServiceTest : public ::testing::Test {
 protected:
  // `count` accounts stored directly (no hashing: ListUsers never reads
  // the hash), `per_second` of them created in the same second so that
  // the (created_at, id) order has ties to break.
  std::vector<std::string> AddUsers(int count, int per_second = 7) {
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i) {
      if (i % per_second == 0) env_.clock().Advance(1);
      const std::string email = "user" + std::to_string(i) + "@example.com";
      ids.push_back(env_.db()
                        .AddUser(NewUser{email, email, "User", std::to_string(i), "x", {"user"}},
                                 env_.clock().NowUnixSeconds())
                        .id);
    }
    return ids;
  }
  absl::StatusOr<v1::ListUsersResponse> List(int page_size, const std::string& page_token = "") {
    v1::ListUsersRequest request;
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    return env_.admin().ListUsers(request);
  }
  absl::StatusOr<v1::User> SetRoles(const std::string& user_id,
                                    const std::vector<std::string>& roles) {
    v1::SetUserRolesRequest request;
    request.set_user_id(user_id);
    for (const std::string& role : roles) request.add_roles(role);
    return env_.admin().SetUserRoles(request);
  }
  absl::StatusOr<v1::User> SetActive(const std::string& user_id, bool active) {
    v1::SetUserActiveRequest request;
    request.set_user_id(user_id);
    request.set_active(active);
    return env_.admin().SetUserActive(request);
  }
  static std::vector<std::string> Roles(const v1::User& user) {
    return {user.roles().begin(), user.roles().end()};
  }

  AccountServices env_;
};

// ---- ListUsers ----

TEST_F(AdminServiceTest, ListUsersDefaultsToPagesOfFifty) {
  AddUsers(60);
  auto page = List(0);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->users_size(), 50);
  EXPECT_FALSE(page->next_page_token().empty());
}

TEST_F(AdminServiceTest, ListUsersCapsThePageAtFiveHundred) {
  AddUsers(501);
  auto page = List(100000);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->users_size(), 500);
  EXPECT_FALSE(page->next_page_token().empty());
}

TEST_F(AdminServiceTest, ListUsersRejectsANegativePageSize) {
  EXPECT_TRUE(HasStatus(List(-1).status(), absl::StatusCode::kInvalidArgument,
                        "page_size: must not be negative"));
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(AdminServiceTest, ListUsersPagesThroughEveryUserOnceInCreationOrder) {
  const std::vector<std::string> created = AddUsers(120);
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = List(50, token);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    for (const v1::User& user : page->users()) seen.push_back(user.id());
    token = page->next_page_token();
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, created);  // ids grow with creation, so this is the order too
}

TEST_F(AdminServiceTest, ListUsersWithExactlyOneFullPageHasNoNextToken) {
  AddUsers(50);
  auto page = List(50);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->users_size(), 50);
  EXPECT_EQ(page->next_page_token(), "");
}

TEST_F(AdminServiceTest, ListUsersRejectsPageTokensNotFromThisApi) {
  AddUsers(3);
  auto first = List(1);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string real = first->next_page_token();
  ASSERT_FALSE(real.empty());
  const size_t dot = real.find('.');
  ASSERT_NE(dot, std::string::npos);

  const PageTokenCodec other_key(std::string(32, 'q'));
  const std::string forged_payload =
      Base64UrlEncode("v1|0|00000000-0000-4000-8000-000000000001") + real.substr(dot);
  std::string flipped_mac = real;
  flipped_mac[dot + 1] = flipped_mac[dot + 1] == 'A' ? 'B' : 'A';
  const std::vector<std::string> refused = {
      "garbage",
      "no-dot-at-all",
      ".",
      "a.b.c",                                 // shaped like a JWT
      "tgr_" + std::string(43, 'A'),           // a refresh token
      real.substr(0, dot),                     // payload without a MAC
      forged_payload,                          // another cursor under the real MAC
      flipped_mac,                             // the real cursor with a wrong MAC
      other_key.Encode(UserCursor{0, "00000000-0000-4000-8000-000000000001"}),  // other key
      real + std::string(300, 'A'),            // oversized
  };
  for (const std::string& token : refused) {
    EXPECT_TRUE(HasStatus(List(1, token).status(), absl::StatusCode::kInvalidArgument, kNotOurs))
        << token;
  }
}

TEST_F(AdminServiceTest, ListUsersDuringDatabaseOutageAnswersUnavailable) {
  env_.db().FailNextCall();
  EXPECT_TRUE(HasStatus(List(0).status(), absl::StatusCode::kUnavailable, "database unavailable"));
}

// ---- SetUserRoles ----

TEST_F(AdminServiceTest, SetUserRolesRefusesAnUnknownRoleNamingTheAllowedOnes) {
  const UserRecord user = env_.AddUser("ada@example.com");
  EXPECT_TRUE(HasStatus(SetRoles(user.id, {"user", "root"}).status(),
                        absl::StatusCode::kInvalidArgument,
                        "roles: unknown role (allowed: admin, user)"));
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(AdminServiceTest, SetUserRolesDropsDuplicatesAndSorts) {
  const UserRecord user = env_.AddUser("ada@example.com");
  auto updated = SetRoles(user.id, {"user", "admin", "user", "admin"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(Roles(*updated), (std::vector<std::string>{"admin", "user"}));
  EXPECT_EQ(env_.db().User(user.id)->roles, (std::vector<std::string>{"admin", "user"}));
}

TEST_F(AdminServiceTest, SetUserRolesRejectsAMalformedUserId) {
  for (const std::string id : {"", "42", "not-a-uuid", "00000000-0000-4000-8000-00000000000g",
                               "00000000+0000-4000-8000-000000000001",
                               "{00000000-0000-4000-8000-000000000001}"}) {
    EXPECT_TRUE(HasStatus(SetRoles(id, {"user"}).status(), absl::StatusCode::kInvalidArgument,
                          "user_id: must be a UUID"))
        << id;
  }
  EXPECT_EQ(env_.db().calls(), 0);
}

TEST_F(AdminServiceTest, SetUserRolesAcceptsAnUpperCaseUuidAsItsCanonicalForm) {
  env_.AddUser("admin@example.com", {"admin", "user"});
  const UserRecord user = env_.AddUser("ada@example.com");
  const std::string upper = absl::AsciiStrToUpper(user.id);
  ASSERT_NE(upper, user.id);  // the fake's ids have letters
  auto updated = SetRoles(upper, {"admin", "user"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->id(), user.id);
  EXPECT_EQ(env_.db().User(user.id)->roles, (std::vector<std::string>{"admin", "user"}));
  auto deactivated = SetActive(upper, false);
  ASSERT_TRUE(deactivated.ok()) << deactivated.status();
  EXPECT_FALSE(env_.db().User(user.id)->is_active);
}

TEST_F(AdminServiceTest, SetUserRolesOfAnUnknownUserIsNotFound) {
  EXPECT_TRUE(HasStatus(SetRoles("00000000-0000-4000-8000-00000000beef", {"user"}).status(),
                        absl::StatusCode::kNotFound, "user not found"));
}

TEST_F(AdminServiceTest, SetUserRolesCannotDemoteTheLastActiveAdmin) {
  const UserRecord admin = env_.AddUser("admin@example.com", {"admin", "user"});
  EXPECT_TRUE(HasStatus(SetRoles(admin.id, {"user"}).status(),
                        absl::StatusCode::kFailedPrecondition,
                        "roles: cannot remove the admin role from the last active admin"));
  const UserRecord second = env_.AddUser("second@example.com", {"admin", "user"});
  EXPECT_TRUE(SetRoles(admin.id, {"user"}).ok());
  EXPECT_TRUE(HasStatus(SetRoles(second.id, {}).status(), absl::StatusCode::kFailedPrecondition,
                        "roles: cannot remove the admin role from the last active admin"));
}

// ---- SetUserActive ----

TEST_F(AdminServiceTest, SetUserActiveDeactivatesAndRevokesEverySession) {
  const UserRecord user = env_.AddUser("ada@example.com");
  auto updated = SetActive(user.id, false);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_FALSE(updated->is_active());
  EXPECT_EQ(env_.db().sessions_revoked_for(), std::vector<std::string>{user.id});
  auto again = SetActive(user.id, true);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->is_active());
}

TEST_F(AdminServiceTest, SetUserActiveCannotDeactivateTheLastActiveAdmin) {
  const UserRecord admin = env_.AddUser("admin@example.com", {"admin", "user"});
  EXPECT_TRUE(HasStatus(SetActive(admin.id, false).status(), absl::StatusCode::kFailedPrecondition,
                        "active: cannot deactivate the last active admin"));
  EXPECT_TRUE(env_.db().User(admin.id)->is_active);
}

TEST_F(AdminServiceTest, SetUserActiveRejectsAMalformedUserIdAndAnswersNotFoundForAnUnknownOne) {
  EXPECT_TRUE(HasStatus(SetActive("nope", false).status(), absl::StatusCode::kInvalidArgument,
                        "user_id: must be a UUID"));
  EXPECT_TRUE(HasStatus(SetActive("00000000-0000-4000-8000-00000000beef", false).status(),
                        absl::StatusCode::kNotFound, "user not found"));
}

}  // namespace
}  // namespace tollgate::auth
