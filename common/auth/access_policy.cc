#include "common/auth/access_policy.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging/logger.h"
#include "tollgate/access.pb.h"

namespace tollgate {
namespace {

// Infrastructure services that must answer without a token: load balancers
// probe health, and grpcurl lists services through reflection. gRPC 1.51
// (Debian 12) serves reflection as v1alpha only, so grpc.reflection.v1 is
// not listed: a path nobody serves has no business being public.
constexpr const char* kAlwaysPublicMethods[][2] = {
    {"grpc.health.v1.Health", "Check"},
    {"grpc.health.v1.Health", "Watch"},
    {"grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo"},
};

}  // namespace

absl::StatusOr<AccessPolicy> AccessPolicy::FromServices(
    const std::vector<std::string>& service_names) {
  AccessPolicy policy;
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& service_name : service_names) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(service_name);
    if (service == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("access policy: service '", service_name, "' is not in the descriptor pool"));
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      Entry entry;
      entry.path = absl::StrCat("/", service->full_name(), "/", method->name());
      if (!method->options().HasExtension(tollgate::access)) {
        entry.denied = true;
        policy.entries_.push_back(std::move(entry));
        continue;
      }
      const tollgate::Access& access = method->options().GetExtension(tollgate::access);
      if (access.public_() == !access.role().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "access policy: ", method->full_name(),
            " must set exactly one of (tollgate.access).public and (tollgate.access).role"));
      }
      entry.access.is_public = access.public_();
      entry.access.role = access.role();
      policy.by_path_.emplace(entry.path, entry.access);
      policy.entries_.push_back(std::move(entry));
    }
  }
  policy.AddAlwaysPublicMethods();
  return policy;
}

AccessPolicy AccessPolicy::FromRulesForTesting(
    const std::vector<std::pair<std::string, MethodAccess>>& rules) {
  AccessPolicy policy;
  for (const auto& [path, access] : rules) {
    policy.by_path_.emplace(path, access);
    policy.entries_.push_back(Entry{path, access, false});
  }
  policy.AddAlwaysPublicMethods();
  return policy;
}

void AccessPolicy::AddAlwaysPublicMethods() {
  for (const auto& [service, method] : kAlwaysPublicMethods) {
    Entry entry;
    entry.path = absl::StrCat("/", service, "/", method);
    entry.access.is_public = true;
    by_path_.emplace(entry.path, entry.access);
    entries_.push_back(std::move(entry));
  }
}

const MethodAccess* AccessPolicy::Find(std::string_view grpc_method_path) const {
  auto it = by_path_.find(absl::string_view(grpc_method_path.data(), grpc_method_path.size()));
  return it == by_path_.end() ? nullptr : &it->second;
}

std::string AccessPolicy::Describe() const {
  size_t width = 0;
  for (const Entry& entry : entries_) width = std::max(width, entry.path.size());
  std::string out;
  for (const Entry& entry : entries_) {
    absl::StrAppend(&out, entry.path, std::string(width + 2 - entry.path.size(), ' '));
    if (entry.denied) {
      absl::StrAppend(&out, "DENIED (no tollgate.access option)\n");
    } else if (entry.access.is_public) {
      absl::StrAppend(&out, "public\n");
    } else {
      absl::StrAppend(&out, "role '", entry.access.role, "'\n");
    }
  }
  return out;
}

void AccessPolicy::LogTable() const {
  for (const Entry& entry : entries_) {
    if (entry.denied) {
      logging::Info("access policy", {{"method", entry.path}, {"access", "denied"}});
    } else if (entry.access.is_public) {
      logging::Info("access policy", {{"method", entry.path}, {"access", "public"}});
    } else {
      logging::Info("access policy",
                    {{"method", entry.path}, {"access", "role"}, {"role", entry.access.role}});
    }
  }
}

}  // namespace tollgate
