#include "common/request_decoding.h"

#include <google/protobuf/stubs/logging.h>
#include <grpc/grpc.h>
#include <grpcpp/impl/call.h>
#include <grpcpp/impl/rpc_service_method.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/auth/admission.h"

namespace tollgate {
namespace {

using grpc::internal::MethodHandler;
using grpc::internal::RpcMethod;
using grpc::internal::RpcServiceMethod;

std::atomic<uint64_t> undecodable_requests{0};
std::atomic<uint64_t> dropped_utf8_logs{0};

// ---- grpc::Service::methods_ ----
//
// grpc::Service keeps its methods in a private vector that only grpc::Server
// reads. Naming a private member in an explicit instantiation is allowed
// ([temp.spec.general]/6), and the friend defined by that instantiation
// hands the member pointer out.
using ServiceMethods = std::vector<std::unique_ptr<RpcServiceMethod>>;

struct ServiceMethodsTag {
  using Member = ServiceMethods grpc::Service::*;
  friend Member MemberOf(ServiceMethodsTag);
};

template <typename Tag, typename Tag::Member kMember>
struct MemberAccess {
  friend typename Tag::Member MemberOf(Tag) { return kMember; }
};

template struct MemberAccess<ServiceMethodsTag, &grpc::Service::methods_>;

ServiceMethods& MethodsOf(grpc::Service& service) { return service.*MemberOf(ServiceMethodsTag{}); }

// ---- The handler wrapper ----

// Runs gRPC's own handler of one method, owning it (with the
// RpcServiceMethod it came in). Deserialization is gRPC's; only the answer
// to a request that failed it changes.
class DecodeCheckingHandler final : public MethodHandler {
 public:
  explicit DecodeCheckingHandler(std::unique_ptr<RpcServiceMethod> original)
      : original_(std::move(original)) {}

  void RunHandler(const HandlerParameter& param) override {
    // param.status is the deserialization's: gRPC's handler will not call
    // the method and finishes the call with UNIMPLEMENTED "". Cancelling
    // first makes INVALID_ARGUMENT the status the client gets; the finish
    // that follows completes on the cancelled call. A refused call is left
    // to the call pipeline, which replaces that status with its refusal.
    if (!param.status.ok() && AdmissionOf(param.server_context).admitted()) {
      undecodable_requests.fetch_add(1, std::memory_order_relaxed);
      ReportCallStatus(param.server_context,
                       grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, kUndecodableRequestMessage));
      grpc_call_cancel_with_status(param.call->call(), GRPC_STATUS_INVALID_ARGUMENT,
                                   kUndecodableRequestMessage, nullptr);
    }
    original_->handler()->RunHandler(param);
  }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* request, grpc::Status* status,
                    void** handler_data) override {
    return original_->handler()->Deserialize(call, request, status, handler_data);
  }

 private:
  const std::unique_ptr<RpcServiceMethod> original_;
};

bool TakesRequestMessage(const RpcServiceMethod& method) {
  return method.method_type() == RpcMethod::NORMAL_RPC ||
         method.method_type() == RpcMethod::SERVER_STREAMING;
}

// ---- The read mark ----

// One unknown fixed64 field, number 2^29 - 1 (the largest), whose value is
// drawn once per process: a client cannot guess it, so no message it sends
// can leave a failed decode looking like the mark. Proto3 and proto2
// messages keep unknown fields, and serialize them back byte for byte.
const std::string& ReadMark() {
  static const std::string* const mark = [] {
    std::random_device random;
    uint64_t value = (uint64_t{random()} << 32) | random();
    auto* bytes = new std::string("\xf9\xff\xff\xff\x0f", 5);  // tag: field 2^29-1, fixed64
    for (int i = 0; i < 8; ++i) bytes->push_back(static_cast<char>(value >> (8 * i)));
    return bytes;
  }();
  return *mark;
}

// ---- The protobuf log filter ----

constexpr char kUtf8ParseError[] = "contains invalid UTF-8 data when parsing a protocol buffer";

std::atomic<google::protobuf::LogHandler*> previous_log_handler{nullptr};

void FilterProtobufLog(google::protobuf::LogLevel level, const char* filename, int line,
                       const std::string& message) {
  if (message.find(kUtf8ParseError) != std::string::npos) {
    dropped_utf8_logs.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // nullptr: logging had been silenced (SetLogHandler(nullptr)); keep it so.
  if (google::protobuf::LogHandler* previous = previous_log_handler.load()) {
    previous(level, filename, line, message);
  }
}

}  // namespace

void AnswerUndecodableRequests(grpc::Service& service) {
  InstallProtobufLogFilter();
  for (std::unique_ptr<RpcServiceMethod>& slot : MethodsOf(service)) {
    if (slot == nullptr || slot->handler() == nullptr) continue;  // generic or async
    if (slot->api_type() != RpcServiceMethod::ApiType::CALL_BACK) continue;
    if (!TakesRequestMessage(*slot)) continue;
    if (dynamic_cast<DecodeCheckingHandler*>(slot->handler()) != nullptr) continue;  // done
    std::unique_ptr<RpcServiceMethod> original = std::move(slot);
    const char* name = original->name();  // the generated code's static string
    const RpcMethod::RpcType type = original->method_type();
    slot = std::make_unique<RpcServiceMethod>(name, type,
                                              new DecodeCheckingHandler(std::move(original)));
    slot->SetServerApiType(RpcServiceMethod::ApiType::CALL_BACK);
  }
}

uint64_t UndecodableRequestsTotal() { return undecodable_requests.load(std::memory_order_relaxed); }

void MarkUnread(google::protobuf::MessageLite& request) {
  request.ParsePartialFromString(ReadMark());  // clears, then holds the mark alone
}

bool ReadFailedToDecode(const google::protobuf::MessageLite& request) {
  // A decode attempt cleared the message first; no attempt left the mark.
  return request.SerializePartialAsString() != ReadMark();
}

grpc::Status CountUndecodableRequest() {
  undecodable_requests.fetch_add(1, std::memory_order_relaxed);
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, kUndecodableRequestMessage);
}

void InstallProtobufLogFilter() {
  static std::once_flag once;
  std::call_once(once, [] {
    previous_log_handler.store(google::protobuf::SetLogHandler(&FilterProtobufLog));
  });
}

uint64_t DroppedProtobufUtf8ParseLogsTotal() {
  return dropped_utf8_logs.load(std::memory_order_relaxed);
}

}  // namespace tollgate
