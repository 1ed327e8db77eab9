#pragma once

#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include <string>

namespace tollgate::testing {

// Whether a call ended because a server's stop ended it: UNAVAILABLE,
// "Cancelling all calls" when gRPC's cancel at the end of the grace reaches
// the client before the server's connection closes, else the connection's
// end as the transport names it ("Broken pipe", "Socket closed"): which one
// comes first is a race inside gRPC. Anything else (a call refused at
// connect, a status of the handler) is not the stop.
inline bool IsStopStatus(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  const std::string& message = status.error_message();
  return message == "Cancelling all calls" || message == "Broken pipe" ||
         message == "Socket closed";
}

inline ::testing::AssertionResult EndedByTheStop(const grpc::Status& status) {
  if (IsStopStatus(status)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "ended with code " << status.error_code() << ": "
                                       << status.error_message();
}

}  // namespace tollgate::testing
