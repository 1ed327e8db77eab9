#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "common/auth/admission.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::sum {

// tollgate.sum.v1.SumService on gRPC's callback API: the model of a business
// service behind the call pipeline. Every handler begins with the guard
// (AdmissionOf) and returns at once for a call the pipeline refused; the
// access rule of each method lives in sum.proto, not here.
//
// Sum and SumStream answer OUT_OF_RANGE when the result leaves int64, and
// count one call for the caller's subject; GetUsage lists those counts. A
// SumStream message that does not decode ends the call with INVALID_ARGUMENT
// "request could not be decoded" (request_decoding.h), not counted as usage.
class SumServiceImpl final : public v1::SumService::CallbackService {
 public:
  using AdmissionLookup = std::function<Admission(const grpc::ServerContextBase*)>;

  // `admission_of` is the guard's lookup; only tests and the no-interceptor
  // benchmark replace it.
  explicit SumServiceImpl(AdmissionLookup admission_of = AdmissionOf);
  SumServiceImpl(const SumServiceImpl&) = delete;
  SumServiceImpl& operator=(const SumServiceImpl&) = delete;

  grpc::ServerUnaryReactor* Sum(grpc::CallbackServerContext* context,
                                const v1::SumRequest* request,
                                v1::SumResponse* response) override;
  grpc::ServerReadReactor<v1::SumStreamRequest>* SumStream(
      grpc::CallbackServerContext* context, v1::SumResponse* response) override;
  grpc::ServerUnaryReactor* GetUsage(grpc::CallbackServerContext* context,
                                     const v1::GetUsageRequest* request,
                                     v1::GetUsageResponse* response) override;

  // How many calls got past the guard into business logic: tests use it to
  // prove that a refused call never runs a handler.
  int64_t admitted_calls() const { return admitted_calls_.load(std::memory_order_relaxed); }

  // Counts one Sum or SumStream call of `subject`.
  void CountCall(const std::string& subject);

 private:
  // The guard's verdict on the call, counted in admitted_calls() when
  // admitted. Every handler begins with it.
  Admission Admit(grpc::CallbackServerContext* context);

  const AdmissionLookup admission_of_;
  std::atomic<int64_t> admitted_calls_{0};
  std::mutex usage_mutex_;
  absl::flat_hash_map<std::string, int64_t> usage_;  // guarded by usage_mutex_
};

// a + b, or false when the sum leaves int64.
bool AddChecked(int64_t a, int64_t b, int64_t* sum);

}  // namespace tollgate::sum
