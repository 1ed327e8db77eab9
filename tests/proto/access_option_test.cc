// The wire contract of SPEC section 2 as the generated descriptors see it:
// every RPC exists with the right types and access policy, and the field
// names clients rely on are exactly the spec's. The interceptor reads the
// same descriptor pool, so a method missing here would be denied at run time.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tollgate/access.pb.h"
#include "tollgate/auth/v1/auth.pb.h"
#include "tollgate/sum/v1/sum.pb.h"

namespace tollgate {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

constexpr char kAuthService[] = "tollgate.auth.v1.AuthService";
constexpr char kSumService[] = "tollgate.sum.v1.SumService";

struct ExpectedMethod {
  std::string full_name;
  std::string input;   // full name of the request message
  std::string output;  // full name of the response message
  bool is_public;
  std::string role;    // "" when public
  bool client_streaming = false;
};

// SPEC section 2, "caller needs": nothing -> public, role user/admin -> role.
const std::vector<ExpectedMethod>& ExpectedMethods() {
  static const auto* const kMethods = new std::vector<ExpectedMethod>{
      {"tollgate.auth.v1.AuthService.Register", "tollgate.auth.v1.RegisterRequest",
       "tollgate.auth.v1.AuthResponse", true, ""},
      {"tollgate.auth.v1.AuthService.Login", "tollgate.auth.v1.LoginRequest",
       "tollgate.auth.v1.AuthResponse", true, ""},
      {"tollgate.auth.v1.AuthService.Refresh", "tollgate.auth.v1.RefreshRequest",
       "tollgate.auth.v1.AuthResponse", true, ""},
      {"tollgate.auth.v1.AuthService.Logout", "tollgate.auth.v1.LogoutRequest",
       "tollgate.auth.v1.LogoutResponse", true, ""},
      {"tollgate.auth.v1.AuthService.GetJwks", "tollgate.auth.v1.GetJwksRequest",
       "tollgate.auth.v1.GetJwksResponse", true, ""},
      {"tollgate.auth.v1.AuthService.GetCurrentUser", "tollgate.auth.v1.GetCurrentUserRequest",
       "tollgate.auth.v1.User", false, "user"},
      {"tollgate.auth.v1.AuthService.UpdateProfile", "tollgate.auth.v1.UpdateProfileRequest",
       "tollgate.auth.v1.User", false, "user"},
      {"tollgate.auth.v1.AuthService.ChangePassword", "tollgate.auth.v1.ChangePasswordRequest",
       "tollgate.auth.v1.AuthResponse", false, "user"},
      {"tollgate.auth.v1.AuthService.RequestPasswordReset",
       "tollgate.auth.v1.RequestPasswordResetRequest",
       "tollgate.auth.v1.RequestPasswordResetResponse", true, ""},
      {"tollgate.auth.v1.AuthService.ResetPassword", "tollgate.auth.v1.ResetPasswordRequest",
       "tollgate.auth.v1.ResetPasswordResponse", true, ""},
      {"tollgate.auth.v1.AuthService.RequestEmailVerification",
       "tollgate.auth.v1.RequestEmailVerificationRequest",
       "tollgate.auth.v1.RequestEmailVerificationResponse", false, "user"},
      {"tollgate.auth.v1.AuthService.VerifyEmail", "tollgate.auth.v1.VerifyEmailRequest",
       "tollgate.auth.v1.User", true, ""},
      {"tollgate.auth.v1.AuthService.ListUsers", "tollgate.auth.v1.ListUsersRequest",
       "tollgate.auth.v1.ListUsersResponse", false, "admin"},
      {"tollgate.auth.v1.AuthService.SetUserRoles", "tollgate.auth.v1.SetUserRolesRequest",
       "tollgate.auth.v1.User", false, "admin"},
      {"tollgate.auth.v1.AuthService.SetUserActive", "tollgate.auth.v1.SetUserActiveRequest",
       "tollgate.auth.v1.User", false, "admin"},
      {"tollgate.sum.v1.SumService.Sum", "tollgate.sum.v1.SumRequest",
       "tollgate.sum.v1.SumResponse", false, "user"},
      {"tollgate.sum.v1.SumService.SumStream", "tollgate.sum.v1.SumStreamRequest",
       "tollgate.sum.v1.SumResponse", false, "user", /*client_streaming=*/true},
      {"tollgate.sum.v1.SumService.GetUsage", "tollgate.sum.v1.GetUsageRequest",
       "tollgate.sum.v1.GetUsageResponse", false, "admin"},
  };
  return *kMethods;
}

enum class Kind { kString, kBool, kInt32, kInt64, kTimestamp, kUser, kUsage };

struct ExpectedField {
  std::string name;
  Kind kind;
  bool repeated = false;
  bool explicit_presence = false;  // proto3 `optional`
};

// Every message of SPEC section 2 with exactly its fields, in any order.
const std::map<std::string, std::vector<ExpectedField>>& ExpectedMessages() {
  static const auto* const kMessages = new std::map<std::string, std::vector<ExpectedField>>{
      {"tollgate.auth.v1.User",
       {{"id", Kind::kString},
        {"email", Kind::kString},
        {"first_name", Kind::kString},
        {"last_name", Kind::kString},
        {"roles", Kind::kString, /*repeated=*/true},
        {"is_active", Kind::kBool},
        {"is_verified", Kind::kBool},
        {"created_at", Kind::kTimestamp},
        {"updated_at", Kind::kTimestamp}}},
      {"tollgate.auth.v1.AuthResponse",
       {{"access_token", Kind::kString},
        {"token_type", Kind::kString},
        {"expires_in", Kind::kInt64},
        {"refresh_token", Kind::kString},
        {"refresh_expires_in", Kind::kInt64},
        {"user", Kind::kUser}}},
      {"tollgate.auth.v1.RegisterRequest",
       {{"email", Kind::kString},
        {"password", Kind::kString},
        {"first_name", Kind::kString},
        {"last_name", Kind::kString}}},
      {"tollgate.auth.v1.LoginRequest", {{"email", Kind::kString}, {"password", Kind::kString}}},
      {"tollgate.auth.v1.RefreshRequest", {{"refresh_token", Kind::kString}}},
      {"tollgate.auth.v1.LogoutRequest",
       {{"refresh_token", Kind::kString}, {"all_sessions", Kind::kBool}}},
      {"tollgate.auth.v1.LogoutResponse", {}},
      {"tollgate.auth.v1.GetJwksRequest", {}},
      {"tollgate.auth.v1.GetJwksResponse", {{"jwks_json", Kind::kString}}},
      {"tollgate.auth.v1.GetCurrentUserRequest", {}},
      {"tollgate.auth.v1.UpdateProfileRequest",
       {{"first_name", Kind::kString, false, /*explicit_presence=*/true},
        {"last_name", Kind::kString, false, /*explicit_presence=*/true},
        {"email", Kind::kString, false, /*explicit_presence=*/true}}},
      {"tollgate.auth.v1.ChangePasswordRequest",
       {{"current_password", Kind::kString}, {"new_password", Kind::kString}}},
      {"tollgate.auth.v1.RequestPasswordResetRequest", {{"email", Kind::kString}}},
      {"tollgate.auth.v1.RequestPasswordResetResponse", {}},
      {"tollgate.auth.v1.ResetPasswordRequest",
       {{"token", Kind::kString}, {"new_password", Kind::kString}}},
      {"tollgate.auth.v1.ResetPasswordResponse", {}},
      {"tollgate.auth.v1.RequestEmailVerificationRequest", {}},
      {"tollgate.auth.v1.RequestEmailVerificationResponse", {}},
      {"tollgate.auth.v1.VerifyEmailRequest", {{"token", Kind::kString}}},
      {"tollgate.auth.v1.ListUsersRequest",
       {{"page_size", Kind::kInt32}, {"page_token", Kind::kString}}},
      {"tollgate.auth.v1.ListUsersResponse",
       {{"users", Kind::kUser, /*repeated=*/true}, {"next_page_token", Kind::kString}}},
      {"tollgate.auth.v1.SetUserRolesRequest",
       {{"user_id", Kind::kString}, {"roles", Kind::kString, /*repeated=*/true}}},
      {"tollgate.auth.v1.SetUserActiveRequest",
       {{"user_id", Kind::kString}, {"active", Kind::kBool}}},
      {"tollgate.sum.v1.SumRequest", {{"a", Kind::kInt64}, {"b", Kind::kInt64}}},
      {"tollgate.sum.v1.SumResponse", {{"result", Kind::kInt64}}},
      {"tollgate.sum.v1.SumStreamRequest", {{"value", Kind::kInt64}}},
      {"tollgate.sum.v1.GetUsageRequest", {}},
      {"tollgate.sum.v1.GetUsageResponse", {{"usage", Kind::kUsage, /*repeated=*/true}}},
      {"tollgate.sum.v1.Usage", {{"subject", Kind::kString}, {"calls", Kind::kInt64}}},
  };
  return *kMessages;
}

bool HasKind(const FieldDescriptor& field, Kind kind) {
  auto is_message = [&](const char* full_name) {
    return field.type() == FieldDescriptor::TYPE_MESSAGE &&
           field.message_type()->full_name() == full_name;
  };
  switch (kind) {
    case Kind::kString: return field.type() == FieldDescriptor::TYPE_STRING;
    case Kind::kBool: return field.type() == FieldDescriptor::TYPE_BOOL;
    case Kind::kInt32: return field.type() == FieldDescriptor::TYPE_INT32;
    case Kind::kInt64: return field.type() == FieldDescriptor::TYPE_INT64;
    case Kind::kTimestamp: return is_message("google.protobuf.Timestamp");
    case Kind::kUser: return is_message("tollgate.auth.v1.User");
    case Kind::kUsage: return is_message("tollgate.sum.v1.Usage");
  }
  return false;
}

class AccessOptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Referencing a generated message links its file into the binary, which
    // registers the file with the generated pool (as the servers do).
    ASSERT_NE(auth::v1::User::descriptor(), nullptr);
    ASSERT_NE(sum::v1::SumRequest::descriptor(), nullptr);
  }

  static const DescriptorPool& Pool() { return *DescriptorPool::generated_pool(); }

  static std::vector<const MethodDescriptor*> AllMethods() {
    std::vector<const MethodDescriptor*> methods;
    for (const char* service_name : {kAuthService, kSumService}) {
      const ServiceDescriptor* service = Pool().FindServiceByName(service_name);
      if (service == nullptr) {
        ADD_FAILURE() << "service " << service_name << " is not in the generated pool";
        continue;
      }
      for (int i = 0; i < service->method_count(); ++i) methods.push_back(service->method(i));
    }
    return methods;
  }
};

TEST_F(AccessOptionTest, BothServicesAreInTheGeneratedPool) {
  EXPECT_NE(Pool().FindServiceByName(kAuthService), nullptr);
  EXPECT_NE(Pool().FindServiceByName(kSumService), nullptr);
}

TEST_F(AccessOptionTest, EveryMethodDeclaresExactlyOneOfPublicOrRole) {
  std::vector<const MethodDescriptor*> methods = AllMethods();
  ASSERT_FALSE(methods.empty());
  for (const MethodDescriptor* method : methods) {
    SCOPED_TRACE(method->full_name());
    ASSERT_TRUE(method->options().HasExtension(tollgate::access))
        << "a method without (tollgate.access) is denied to everyone";
    const Access& access = method->options().GetExtension(tollgate::access);
    EXPECT_NE(access.public_(), !access.role().empty())
        << "set exactly one of public and role: " << access.ShortDebugString();
  }
}

TEST_F(AccessOptionTest, MethodsMatchTheSpecTableExactly) {
  std::map<std::string, const ExpectedMethod*> expected;
  for (const ExpectedMethod& method : ExpectedMethods()) expected[method.full_name] = &method;

  std::set<std::string> seen;
  for (const MethodDescriptor* method : AllMethods()) {
    SCOPED_TRACE(method->full_name());
    seen.insert(method->full_name());
    auto found = expected.find(method->full_name());
    if (found == expected.end()) {
      ADD_FAILURE() << "method not in SPEC section 2; add it to the table with its access";
      continue;
    }
    const ExpectedMethod& want = *found->second;
    const Access& access = method->options().GetExtension(tollgate::access);
    EXPECT_EQ(access.public_(), want.is_public);
    EXPECT_EQ(access.role(), want.role);
    EXPECT_EQ(method->input_type()->full_name(), want.input);
    EXPECT_EQ(method->output_type()->full_name(), want.output);
    EXPECT_EQ(method->client_streaming(), want.client_streaming);
    EXPECT_FALSE(method->server_streaming());
  }
  for (const auto& [name, method] : expected) {
    EXPECT_TRUE(seen.contains(name)) << name << " is missing from the .proto files";
  }
}

TEST_F(AccessOptionTest, MessageFieldsMatchTheSpecExactly) {
  for (const auto& [message_name, fields] : ExpectedMessages()) {
    SCOPED_TRACE(message_name);
    const Descriptor* message = Pool().FindMessageTypeByName(message_name);
    ASSERT_NE(message, nullptr) << "message missing";
    EXPECT_EQ(message->field_count(), static_cast<int>(fields.size()))
        << "unexpected extra fields in " << message->DebugString();
    for (const ExpectedField& want : fields) {
      SCOPED_TRACE(want.name);
      const FieldDescriptor* field = message->FindFieldByName(want.name);
      ASSERT_NE(field, nullptr) << "field missing";
      EXPECT_TRUE(HasKind(*field, want.kind)) << "wrong type " << field->type_name();
      EXPECT_EQ(field->is_repeated(), want.repeated);
      if (!want.repeated && field->type() != FieldDescriptor::TYPE_MESSAGE) {
        EXPECT_EQ(field->has_presence(), want.explicit_presence);
      }
    }
  }
}

TEST_F(AccessOptionTest, AccessOptionUsesAnOrganisationRangeFieldNumber) {
  // 50000-99999 is reserved for an organisation's own options; anything else
  // may collide with a future protobuf or third-party option.
  EXPECT_GE(tollgate::access.number(), 50000);
  EXPECT_LE(tollgate::access.number(), 99999);
}

}  // namespace
}  // namespace tollgate
