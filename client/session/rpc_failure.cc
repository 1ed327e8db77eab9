#include "client/session/rpc_failure.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace tollgate::client {

absl::Status RpcFailure(absl::string_view rpc, const grpc::Status& status) {
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = status.error_message();
  std::replace(message.begin(), message.end(), '\n', ' ');
  std::replace(message.begin(), message.end(), '\r', ' ');
  std::string text = absl::StrCat(rpc, ": ", absl::StatusCodeToString(code));
  if (!message.empty()) absl::StrAppend(&text, ": ", message);
  return absl::Status(code, text);
}

}  // namespace tollgate::client
