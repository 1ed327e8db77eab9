#include "sum_service/sum_service_impl.h"

#include <string>
#include <string_view>
#include <utility>

namespace tollgate::sum {
namespace {

grpc::Status Unimplemented(std::string_view method) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "tollgate.sum.v1.SumService/" + std::string(method) +
                          " is not implemented yet");
}

// Ends a client-streaming call with `status` without reading a message.
class FinishOnlyReadReactor final
    : public grpc::ServerReadReactor<v1::SumStreamRequest> {
 public:
  explicit FinishOnlyReadReactor(grpc::Status status) {
    Finish(std::move(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerUnaryReactor* SumServiceImpl::Sum(
    grpc::CallbackServerContext* context, const v1::SumRequest*,
    v1::SumResponse*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(Unimplemented("Sum"));
  return reactor;
}

grpc::ServerReadReactor<v1::SumStreamRequest>* SumServiceImpl::SumStream(
    grpc::CallbackServerContext*, v1::SumResponse*) {
  return new FinishOnlyReadReactor(Unimplemented("SumStream"));
}

grpc::ServerUnaryReactor* SumServiceImpl::GetUsage(
    grpc::CallbackServerContext* context, const v1::GetUsageRequest*,
    v1::GetUsageResponse*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(Unimplemented("GetUsage"));
  return reactor;
}

}  // namespace tollgate::sum
