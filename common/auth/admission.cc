#include "common/auth/admission.h"

#include <array>
#include <functional>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "common/server/call_pipeline.h"

namespace tollgate {
namespace {

// Fail closed: a call that no CallPipeline decided.
Admission NotAdmitted() {
  return Admission::Reject(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                        "call was not admitted by the auth interceptor"));
}

// Verdicts of the calls in flight, by ServerContext address. Sharded so that
// concurrent calls rarely share a lock.
class AdmissionRegistry {
 public:
  static AdmissionRegistry& Instance() {
    static AdmissionRegistry* registry = new AdmissionRegistry();  // never destroyed
    return *registry;
  }

  void Record(const void* context, const void* owner, Admission admission) {
    Shard& shard = ShardFor(context);
    std::lock_guard<std::mutex> lock(shard.mutex);
    shard.entries.insert_or_assign(context, Entry{owner, std::move(admission)});
  }

  void Forget(const void* context, const void* owner) {
    Shard& shard = ShardFor(context);
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.entries.find(context);
    if (it != shard.entries.end() && it->second.owner == owner) shard.entries.erase(it);
  }

  Admission Find(const void* context) {
    Shard& shard = ShardFor(context);
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.entries.find(context);
    if (it == shard.entries.end()) return NotAdmitted();
    return it->second.admission;
  }

 private:
  static constexpr size_t kShards = 32;
  struct Entry {
    const void* owner;
    Admission admission;
  };
  struct Shard {
    std::mutex mutex;
    absl::flat_hash_map<const void*, Entry> entries;
  };
  Shard& ShardFor(const void* context) {
    // Contexts are heap objects: drop the alignment bits before picking.
    return shards_[(reinterpret_cast<uintptr_t>(context) >> 6) % kShards];
  }
  std::array<Shard, kShards> shards_;
};

}  // namespace

Admission AdmissionOf(const grpc::ServerContextBase* context) {
  if (const auto* own = ServerCallContext::Of(context)) {
    if (own->admission_.has_value()) return *own->admission_;
    return NotAdmitted();
  }
  return AdmissionRegistry::Instance().Find(context);
}

namespace internal {
void RecordAdmission(const grpc::ServerContextBase* context, const void* owner, Admission admission) {
  AdmissionRegistry::Instance().Record(context, owner, std::move(admission));
}
void ForgetAdmission(const grpc::ServerContextBase* context, const void* owner) {
  AdmissionRegistry::Instance().Forget(context, owner);
}
}  // namespace internal

}  // namespace tollgate
