#include "common/server/call_pipeline.h"

#include <grpc/grpc.h>
#include <grpc/support/alloc.h>
#include <grpcpp/generic/async_generic_service.h>

#include <random>

#include "common/auth/access_denial.h"

namespace tollgate {
namespace {

using grpc::experimental::InterceptionHookPoints;
using ClientMetadata = std::multimap<grpc::string_ref, grpc::string_ref>;

constexpr char kRequestIdKey[] = "x-request-id";
constexpr size_t kMaxRequestIdBytes = 128;

// ServerContextBase::c_call() is protected; a member pointer taken through a
// derived class is the sanctioned way for framework code to reach it.
struct ContextCallAccess : grpc::ServerContextBase {
  static grpc_call* Of(grpc::ServerContextBase* context) {
    grpc_call* (grpc::ServerContextBase::*c_call)() = &ContextCallAccess::c_call;
    return (context->*c_call)();
  }
};

AuthorizationMetadata ReadAuthorization(const ClientMetadata* metadata) {
  AuthorizationMetadata authorization;
  if (metadata == nullptr) return authorization;
  auto [begin, end] = metadata->equal_range("authorization");
  for (auto it = begin; it != end; ++it) {
    if (authorization.count++ == 0) {
      authorization.value = std::string_view(it->second.data(), it->second.size());
    }
  }
  return authorization;
}

// A client's request id is kept when it cannot break a log line or a
// header: 1 to 128 visible ASCII characters.
bool SaneRequestId(grpc::string_ref id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// 60 random bits as 15 hex digits, from a per-thread generator (request ids
// are for correlation, not secrets). 15 characters fit std::string's inline
// buffer, so neither the record's copy nor the echo in the response's
// metadata allocates: two allocations a call fewer than 16 digits.
constexpr size_t kGeneratedRequestIdDigits = 15;
static_assert(kGeneratedRequestIdDigits <= std::string().capacity(),
              "a generated request id must fit std::string's inline buffer");

std::string NewRequestId() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t bits = generator();
  std::string id(kGeneratedRequestIdDigits, '0');
  for (char& c : id) {
    c = kHex[bits & 0xf];
    bits >>= 4;
  }
  return id;
}

std::string RequestIdFrom(const ClientMetadata* metadata) {
  if (metadata != nullptr) {
    auto it = metadata->find(kRequestIdKey);
    if (it != metadata->end() && SaneRequestId(it->second)) {
      return std::string(it->second.data(), it->second.size());
    }
  }
  return NewRequestId();
}

std::string_view FullServiceOfMethod(std::string_view method) {
  // "/pkg.Service/Method" -> "/pkg.Service/"
  const size_t slash = method.find('/', 1);
  return slash == std::string_view::npos ? method : method.substr(0, slash + 1);
}

}  // namespace

// Every callback-API call of the server gets a ServerCallContext. Generic
// callback calls (gRPC serves unknown methods through one) get a plain
// GenericCallbackServerContext, allocated here too: gRPC hands every context
// of the server back to this allocator, sometimes through the
// CallbackServerContext overload, so each one must be ours to delete. The
// release is the end of the call: a fast-path call's layers end here.
class PipelineContextAllocator final : public grpc::ContextAllocator {
 public:
  grpc::CallbackServerContext* NewCallbackServerContext() override {
    return new ServerCallContext();
  }
  grpc::GenericCallbackServerContext* NewGenericCallbackServerContext() override {
    return new grpc::GenericCallbackServerContext();
  }
  void Release(grpc::CallbackServerContext* context) override {
    if (auto* own = ServerCallContext::Of(context); own && own->pipeline_) {
      // The C core's copy, read in place (ServerContextBase::peer() would
      // copy it once more).
      char* peer = grpc_call_get_peer(ContextCallAccess::Of(own));
      own->record_.peer = peer;
      own->pipeline_->EndCall(own->record_, own->layers_started_, own->IsCancelled());
      own->record_.peer = {};
      gpr_free(peer);
    }
    delete context;  // through ServerContextBase's virtual destructor
  }
  void Release(grpc::GenericCallbackServerContext* context) override { delete context; }
};

const grpc::Status& ReportCallStatus(grpc::ServerContextBase* context, const grpc::Status& status) {
  if (auto* own = ServerCallContext::Of(context)) {
    own->record_.code = static_cast<int>(status.error_code());
  }
  return status;
}

// ---- CallPipeline ----

CallPipeline::CallPipeline(CallPipelineOptions options)
    : authenticator_(*options.authenticator), layers_(std::move(options.layers)) {
  for (const std::string& service : options.reporting_services) {
    reporting_prefixes_.push_back("/" + service + "/");
  }
}

bool CallPipeline::Reports(const char* method) const {
  const std::string_view prefix = FullServiceOfMethod(method);
  for (const std::string& reporting : reporting_prefixes_) {
    if (prefix == reporting) return true;
  }
  return false;
}

void CallPipeline::BeginRecord(CallRecord& record, const grpc::experimental::ServerRpcInfo& info,
                               const ClientMetadata* metadata) const {
  record.start = std::chrono::steady_clock::now();
  record.method = info.method();
  record.type = info.type();
  record.request_id = RequestIdFrom(metadata);
}

std::optional<grpc::Status> CallPipeline::StartLayers(CallRecord& record, size_t* started) const {
  *started = 0;
  for (CallLayer* layer : layers_) {
    if (std::optional<grpc::Status> refusal = layer->OnCallStart(record)) return refusal;
    ++*started;
  }
  return std::nullopt;
}

void CallPipeline::EndCall(CallRecord& record, size_t started, bool cancelled) const {
  record.end = std::chrono::steady_clock::now();
  if (cancelled && (record.code == CallRecord::kCodeUnknown ||
                    record.code == static_cast<int>(grpc::StatusCode::OK))) {
    record.code = static_cast<int>(grpc::StatusCode::CANCELLED);
  }
  for (size_t i = started; i > 0; --i) layers_[i - 1]->OnCallEnd(record);
}

grpc::experimental::Interceptor* CallPipeline::NewInterceptor(
    grpc::experimental::ServerRpcInfo* info, ServerCallContext* context,
    std::optional<AuthDecision> decided) {
  interceptors_created_.fetch_add(1, std::memory_order_relaxed);
  return new CallInterceptor(*this, info, context, std::move(decided));
}

grpc::experimental::Interceptor* CallPipeline::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  auto* context = ServerCallContext::Of(info->server_context());
  if (context == nullptr) return NewInterceptor(info, nullptr, std::nullopt);

  // gRPC 1.51 binds the received initial metadata to the context before it
  // creates the call's interceptors.
  const ClientMetadata& metadata = context->client_metadata();
  CallRecord& record = context->record_;
  BeginRecord(record, *info, &metadata);
  context->AddInitialMetadata(kRequestIdKey, record.request_id);
  context->pipeline_ = this;
  if (std::optional<grpc::Status> refusal = StartLayers(record, &context->layers_started_)) {
    interceptors_created_.fetch_add(1, std::memory_order_relaxed);
    auto* interceptor = new CallInterceptor(*this, info, context, std::nullopt);
    interceptor->Refuse(*std::move(refusal), "");
    return interceptor;
  }

  const AuthorizationMetadata authorization = ReadAuthorization(&metadata);
  if (authorization.count == 0) {
    // Only a call that shows a token, or one to a public method, is decided
    // here (each call is decided, and counted, once): so if gRPC ever
    // stopped binding the metadata first, a call would merely be decided at
    // POST_RECV_INITIAL_METADATA, never misjudged.
    const MethodAccess* access = authenticator_.policy().Find(info->method());
    if (access == nullptr || !access->is_public) return NewInterceptor(info, context, std::nullopt);
  }
  AuthDecision decision =
      authenticator_.Decide(info->method(), authorization, /*keys_refreshed=*/false);
  switch (decision.outcome) {
    case AuthDecision::Outcome::kAdmit:
      if (Reports(info->method())) {
        record.caller = decision.caller;
        context->admission_ = Admission::Admit(std::move(decision.caller));
        return nullptr;  // the fast path: no interceptor
      }
      return NewInterceptor(info, context, std::move(decision));
    case AuthDecision::Outcome::kReject:
      return NewInterceptor(info, context, std::move(decision));
    case AuthDecision::Outcome::kRetryWithNewKeys:
      // Decided again at POST_RECV_INITIAL_METADATA, where the call can wait
      // for new keys.
      return NewInterceptor(info, context, std::nullopt);
  }
  return NewInterceptor(info, context, std::nullopt);
}

const CallPipeline& InstallCallPipeline(grpc::ServerBuilder& builder, CallPipelineOptions options) {
  constexpr int kMaxMetadataBytes = 16 * 1024;
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, kMaxMetadataBytes);
  builder.SetContextAllocator(std::make_unique<PipelineContextAllocator>());
  auto pipeline = std::make_unique<CallPipeline>(std::move(options));
  const CallPipeline& installed = *pipeline;
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::move(pipeline));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  return installed;
}

// ---- CallInterceptor ----

CallInterceptor::CallInterceptor(const CallPipeline& pipeline,
                                 grpc::experimental::ServerRpcInfo* info,
                                 ServerCallContext* context, std::optional<AuthDecision> decided)
    : pipeline_(pipeline),
      context_(info->server_context()),
      own_context_(context),
      info_(info),
      record_(context != nullptr ? context->record_ : own_record_) {
  if (decided.has_value()) {
    Apply(*decided);
    decided_ = true;
  }
}

CallInterceptor::~CallInterceptor() {
  if (own_context_ != nullptr) return;  // the context's release ends the call
  internal::ForgetAdmission(context_, this);
  if (record_.start != std::chrono::steady_clock::time_point{}) {
    pipeline_.EndCall(record_, layers_started_, /*cancelled=*/false);
  }
}

void CallInterceptor::Record(Admission admission) {
  if (own_context_ != nullptr) {
    own_context_->admission_ = std::move(admission);
  } else {
    internal::RecordAdmission(context_, this, std::move(admission));
  }
}

void CallInterceptor::Refuse(grpc::Status status, std::string challenge) {
  rejection_ = std::move(status);
  challenge_ = std::move(challenge);
  decided_ = true;
  Record(Admission::Reject(*rejection_));
}

void CallInterceptor::Apply(const AuthDecision& decision) {
  if (decision.outcome == AuthDecision::Outcome::kAdmit) {
    record_.caller = decision.caller;
    Record(Admission::Admit(decision.caller));
    return;
  }
  // kReject, or kRetryWithNewKeys decided a second time (cannot happen: the
  // authenticator only asks once): refuse.
  record_.denial = DenialReasonName(decision.denial);
  Refuse(ToGrpcStatus(decision.denial), WwwAuthenticate(decision.denial));
}

void CallInterceptor::Intercept(grpc::experimental::InterceptorBatchMethods* methods) {
  if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
    const ClientMetadata* metadata = methods->GetRecvInitialMetadata();
    if (own_context_ == nullptr) {
      // A context that is not ours: the call begins here, where its
      // metadata is known.
      pipeline_.BeginRecord(record_, *info_, metadata);
      if (std::optional<grpc::Status> refusal = pipeline_.StartLayers(record_, &layers_started_)) {
        Refuse(*std::move(refusal), "");
      }
    }
    if (!decided_) {
      decided_ = true;
      const AuthorizationMetadata authorization = ReadAuthorization(metadata);
      AuthDecision decision =
          pipeline_.authenticator_.Decide(record_.method, authorization, /*keys_refreshed=*/false);
      if (decision.outcome == AuthDecision::Outcome::kRetryWithNewKeys) {
        parked_authorization_.assign(authorization.value);
        const int count = authorization.count;
        pipeline_.authenticator_.keys().RefreshForUnknownKid([this, methods, count] {
          Apply(pipeline_.authenticator_.Decide(
              record_.method, AuthorizationMetadata{count, parked_authorization_},
              /*keys_refreshed=*/true));
          methods->Proceed();
        });
        return;  // Proceed() runs in the callback above
      }
      Apply(decision);
    }
  }
  if (own_context_ == nullptr &&
      methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
    methods->GetSendInitialMetadata()->emplace(kRequestIdKey, record_.request_id);
  }
  if (rejection_.has_value() &&
      methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
    // A handler without its guard tried to answer a refused call: the
    // message must not leave. Cancelling drops the trailer but keeps the
    // exact status.
    grpc_call_cancel_with_status(ContextCallAccess::Of(context_),
                                 static_cast<grpc_status_code>(rejection_->error_code()),
                                 rejection_->error_message().c_str(), nullptr);
  }
  if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
    if (rejection_.has_value()) {
      methods->ModifySendStatus(*rejection_);
      if (!challenge_.empty()) {
        methods->GetSendTrailingMetadata()->emplace("www-authenticate", challenge_);
      }
      record_.code = static_cast<int>(rejection_->error_code());
    } else {
      record_.code = static_cast<int>(methods->GetSendStatus().error_code());
    }
    if (own_context_ == nullptr) {
      peer_ = context_->peer();
      record_.peer = peer_;
    }
  }
  methods->Proceed();
}

}  // namespace tollgate
