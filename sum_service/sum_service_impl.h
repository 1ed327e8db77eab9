#pragma once

#include <grpcpp/grpcpp.h>

#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::sum {

// tollgate.sum.v1.SumService on gRPC's callback API.
//
// Skeleton: every method answers UNIMPLEMENTED ("<method> is not implemented
// yet"); SumStream answers before reading any message. Later issues fill the
// handlers; the access policy of each method lives in sum.proto, not here.
class SumServiceImpl final : public v1::SumService::CallbackService {
 public:
  SumServiceImpl() = default;
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
};

}  // namespace tollgate::sum
