// AccessPolicy reads `(tollgate.access)` from the generated descriptor pool:
// the tables of the real services must be exactly what their .proto files
// declare, a method without the option must be denied, and a broken option
// must fail start-up instead of opening a method.
#include "common/auth/access_policy.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "tollgate/auth/v1/auth.pb.h"
#include "tollgate/sum/v1/sum.pb.h"
#include "tollgate/testing/policy_test.pb.h"

namespace tollgate {
namespace {

constexpr char kSumService[] = "tollgate.sum.v1.SumService";
constexpr char kAuthService[] = "tollgate.auth.v1.AuthService";
constexpr char kPolicyTestService[] = "tollgate.testing.PolicyTestService";
constexpr char kBrokenPolicyService[] = "tollgate.testing.BrokenPolicyService";

// The rule of one method as a comparable string: "public", "role 'x'" or
// "DENIED" (no entry).
std::string RuleOf(const AccessPolicy& policy, const std::string& path) {
  const MethodAccess* access = policy.Find(path);
  if (access == nullptr) return "DENIED";
  if (access->is_public) return access->role.empty() ? "public" : "public AND role (broken)";
  return "role '" + access->role + "'";
}

class AccessPolicyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The generated pool only knows files whose code is linked in. Touching
    // one message of each file keeps the linker from dropping them, as a
    // real server does by registering the service.
    (void)sum::v1::SumRequest::descriptor();
    (void)auth::v1::LoginRequest::descriptor();
    (void)tollgate::testing::OpenRequest::descriptor();
  }

  static AccessPolicy PolicyFor(const std::vector<std::string>& services) {
    absl::StatusOr<AccessPolicy> policy = AccessPolicy::FromServices(services);
    EXPECT_TRUE(policy.ok()) << policy.status();
    return policy.ok() ? *std::move(policy) : *AccessPolicy::FromServices({});
  }
};

TEST_F(AccessPolicyTest, SumServiceTableMatchesSumProto) {
  const AccessPolicy policy = PolicyFor({kSumService});
  EXPECT_EQ(RuleOf(policy, "/tollgate.sum.v1.SumService/Sum"), "role 'user'");
  EXPECT_EQ(RuleOf(policy, "/tollgate.sum.v1.SumService/SumStream"), "role 'user'");
  EXPECT_EQ(RuleOf(policy, "/tollgate.sum.v1.SumService/GetUsage"), "role 'admin'");
}

TEST_F(AccessPolicyTest, AuthServiceTableMatchesAuthProto) {
  const AccessPolicy policy = PolicyFor({kAuthService});
  const std::map<std::string, std::string> expected = {
      {"Register", "public"},
      {"Login", "public"},
      {"Refresh", "public"},
      {"Logout", "public"},
      {"GetJwks", "public"},
      {"RequestPasswordReset", "public"},
      {"ResetPassword", "public"},
      {"VerifyEmail", "public"},
      {"GetCurrentUser", "role 'user'"},
      {"UpdateProfile", "role 'user'"},
      {"ChangePassword", "role 'user'"},
      {"RequestEmailVerification", "role 'user'"},
      {"ListUsers", "role 'admin'"},
      {"SetUserRoles", "role 'admin'"},
      {"SetUserActive", "role 'admin'"},
  };
  for (const auto& [method, rule] : expected) {
    EXPECT_EQ(RuleOf(policy, "/tollgate.auth.v1.AuthService/" + method), rule) << method;
  }
  // And nothing else: every method auth.proto declares is in the list above,
  // so a new RPC forces a decision here.
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(kAuthService);
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->method_count(), static_cast<int>(expected.size()));
  for (int i = 0; i < service->method_count(); ++i) {
    EXPECT_EQ(expected.count(service->method(i)->name()), 1u) << service->method(i)->name();
  }
}

TEST_F(AccessPolicyTest, HealthAndReflectionArePublicWithoutBeingListed) {
  const AccessPolicy policy = PolicyFor({kSumService});
  EXPECT_EQ(RuleOf(policy, "/grpc.health.v1.Health/Check"), "public");
  EXPECT_EQ(RuleOf(policy, "/grpc.health.v1.Health/Watch"), "public");
  EXPECT_EQ(RuleOf(policy, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"),
            "public");
  // gRPC 1.51 serves only v1alpha reflection: v1 is not public.
  EXPECT_EQ(RuleOf(policy, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"), "DENIED");
}

TEST_F(AccessPolicyTest, HealthIsPublicEvenWithNoServiceListed) {
  const AccessPolicy policy = PolicyFor({});
  EXPECT_EQ(RuleOf(policy, "/grpc.health.v1.Health/Check"), "public");
  EXPECT_EQ(RuleOf(policy, "/tollgate.sum.v1.SumService/Sum"), "DENIED");
}

TEST_F(AccessPolicyTest, UnknownPathsAreDenied) {
  const AccessPolicy policy = PolicyFor({kSumService});
  EXPECT_EQ(policy.Find("/tollgate.sum.v1.SumService/Nope"), nullptr);
  EXPECT_EQ(policy.Find("/tollgate.sum.v1.SumService/sum"), nullptr);  // case matters
  EXPECT_EQ(policy.Find("tollgate.sum.v1.SumService/Sum"), nullptr);   // no leading '/'
  EXPECT_EQ(policy.Find("/tollgate.sum.v1.SumService.Sum"), nullptr);  // proto spelling
  EXPECT_EQ(policy.Find("/tollgate.sum.v1.SumService/Sum/"), nullptr);
  EXPECT_EQ(policy.Find(""), nullptr);
  EXPECT_EQ(policy.Find("/"), nullptr);
  // A service that exists but was not listed is not in the table.
  EXPECT_EQ(policy.Find("/tollgate.auth.v1.AuthService/Login"), nullptr);
}

TEST_F(AccessPolicyTest, MethodWithoutOptionIsDenied) {
  const AccessPolicy policy = PolicyFor({kPolicyTestService});
  EXPECT_EQ(RuleOf(policy, "/tollgate.testing.PolicyTestService/Open"), "public");
  EXPECT_EQ(RuleOf(policy, "/tollgate.testing.PolicyTestService/Guarded"), "role 'user'");
  EXPECT_EQ(policy.Find("/tollgate.testing.PolicyTestService/Unannotated"), nullptr);
}

TEST_F(AccessPolicyTest, OptionWithBothPublicAndRoleFailsStartUp) {
  absl::StatusOr<AccessPolicy> policy =
      AccessPolicy::FromServices({kPolicyTestService, kBrokenPolicyService});
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.status().message(),
            "access policy: tollgate.testing.BrokenPolicyService.Both must set exactly one of "
            "(tollgate.access).public and (tollgate.access).role");
}

TEST_F(AccessPolicyTest, UnknownServiceFailsStartUp) {
  absl::StatusOr<AccessPolicy> policy =
      AccessPolicy::FromServices({kSumService, "tollgate.sum.v1.SumServce"});
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.status().message(),
            "access policy: service 'tollgate.sum.v1.SumServce' is not in the descriptor pool");
}

TEST_F(AccessPolicyTest, DescribeListsEveryMethodWithItsRule) {
  const AccessPolicy policy = PolicyFor({kPolicyTestService});
  // Paths padded to the longest one (the v1alpha reflection path, 62
  // characters) plus two spaces.
  EXPECT_EQ(policy.Describe(),
            "/tollgate.testing.PolicyTestService/Open                        public\n"
            "/tollgate.testing.PolicyTestService/Guarded                     role 'user'\n"
            "/tollgate.testing.PolicyTestService/Unannotated                 DENIED (no tollgate.access option)\n"
            "/grpc.health.v1.Health/Check                                    public\n"
            "/grpc.health.v1.Health/Watch                                    public\n"
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo  public\n");
}

TEST_F(AccessPolicyTest, DescribeHasOneLinePerMethodOfEveryListedService) {
  const AccessPolicy policy = PolicyFor({kAuthService, kSumService});
  const std::string table = policy.Describe();
  std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  size_t methods = 0;
  for (const char* name : {kAuthService, kSumService}) {
    const auto* service = pool->FindServiceByName(name);
    ASSERT_NE(service, nullptr);
    for (int i = 0; i < service->method_count(); ++i, ++methods) {
      const std::string path = "/" + service->full_name() + "/" + service->method(i)->name();
      const std::string rule = RuleOf(policy, path);
      int found = 0;
      for (const std::string& line : lines) {
        if (line.rfind(path + " ", 0) != 0) continue;
        ++found;
        EXPECT_EQ(absl::StripLeadingAsciiWhitespace(line.substr(path.size())), rule) << line;
      }
      EXPECT_EQ(found, 1) << path;
    }
  }
  // Plus the three always-public infrastructure methods (health Check and
  // Watch, v1alpha reflection).
  EXPECT_EQ(lines.size(), methods + 3);
}

}  // namespace
}  // namespace tollgate
