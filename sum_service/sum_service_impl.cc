#include "sum_service/sum_service_impl.h"

#include <algorithm>
#include <vector>

#include "common/request_decoding.h"
#include "common/server/call_pipeline.h"

namespace tollgate::sum {
namespace {

grpc::Status OutOfRange() {
  return grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "the sum does not fit in int64");
}

// Client streaming: the guard runs before the first read, so a refused call
// never consumes the client's stream. A message that does not decode ends
// the call with INVALID_ARGUMENT in DecodeCheckingReadReactor, before this
// reactor could take it for the end of the stream: no partial sum, no usage.
class SumStreamReactor final : public DecodeCheckingReadReactor<v1::SumStreamRequest> {
 public:
  SumStreamReactor(grpc::CallbackServerContext* context, SumServiceImpl& service,
                   const Admission& admission, v1::SumResponse* response)
      : DecodeCheckingReadReactor(context), service_(service), response_(response) {
    if (!admission.admitted()) {
      Finish(admission.rejection());
      return;
    }
    subject_ = admission.caller()->subject();
    StartRead(&request_);
  }

  void OnCheckedReadDone(bool ok) override {
    if (!ok) {  // the client half-closed: the sum is complete
      service_.CountCall(subject_);
      response_->set_result(sum_);
      Finish(grpc::Status::OK);
      return;
    }
    if (!AddChecked(sum_, request_.value(), &sum_)) {
      Finish(OutOfRange());
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  SumServiceImpl& service_;
  v1::SumResponse* const response_;
  std::string subject_;
  v1::SumStreamRequest request_;
  int64_t sum_ = 0;
};

}  // namespace

bool AddChecked(int64_t a, int64_t b, int64_t* sum) { return !__builtin_add_overflow(a, b, sum); }

SumServiceImpl::SumServiceImpl(AdmissionLookup admission_of) : admission_of_(std::move(admission_of)) {}

Admission SumServiceImpl::Admit(grpc::CallbackServerContext* context) {
  Admission admission = admission_of_(context);
  if (admission.admitted()) admitted_calls_.fetch_add(1, std::memory_order_relaxed);
  return admission;
}

void SumServiceImpl::CountCall(const std::string& subject) {
  std::lock_guard<std::mutex> lock(usage_mutex_);
  ++usage_[subject];
}

grpc::ServerUnaryReactor* SumServiceImpl::Sum(grpc::CallbackServerContext* context,
                                              const v1::SumRequest* request,
                                              v1::SumResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const Admission admission = Admit(context);
  if (!admission.admitted()) {
    reactor->Finish(ReportCallStatus(context, admission.rejection()));
    return reactor;
  }
  int64_t result = 0;
  if (!AddChecked(request->a(), request->b(), &result)) {
    reactor->Finish(ReportCallStatus(context, OutOfRange()));
    return reactor;
  }
  CountCall(admission.caller()->subject());
  response->set_result(result);
  reactor->Finish(ReportCallStatus(context, grpc::Status::OK));
  return reactor;
}

grpc::ServerReadReactor<v1::SumStreamRequest>* SumServiceImpl::SumStream(
    grpc::CallbackServerContext* context, v1::SumResponse* response) {
  return new SumStreamReactor(context, *this, Admit(context), response);
}

grpc::ServerUnaryReactor* SumServiceImpl::GetUsage(grpc::CallbackServerContext* context,
                                                   const v1::GetUsageRequest*,
                                                   v1::GetUsageResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const Admission admission = Admit(context);
  if (!admission.admitted()) {
    reactor->Finish(ReportCallStatus(context, admission.rejection()));
    return reactor;
  }
  std::vector<std::pair<std::string, int64_t>> rows;
  {
    std::lock_guard<std::mutex> lock(usage_mutex_);
    rows.assign(usage_.begin(), usage_.end());
  }
  std::sort(rows.begin(), rows.end());  // stable output for people and tests
  for (const auto& [subject, calls] : rows) {
    v1::Usage* usage = response->add_usage();
    usage->set_subject(subject);
    usage->set_calls(calls);
  }
  reactor->Finish(ReportCallStatus(context, grpc::Status::OK));
  return reactor;
}

}  // namespace tollgate::sum
