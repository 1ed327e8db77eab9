#include "common/connection_limits.h"

#include <grpc/grpc.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <climits>

namespace tollgate {
namespace {

// gRPC takes milliseconds as an int.
int Milliseconds(std::chrono::milliseconds duration) {
  return static_cast<int>(std::clamp<int64_t>(duration.count(), 0, INT_MAX));
}

// For max_idle and max_age, where gRPC reads INT_MAX as "no limit".
int LimitMilliseconds(std::chrono::milliseconds duration) {
  return duration.count() <= 0 ? INT_MAX : Milliseconds(duration);
}

}  // namespace

void ApplyConnectionLimits(grpc::ServerBuilder& builder, const ConnectionLimits& limits) {
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, LimitMilliseconds(limits.max_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, LimitMilliseconds(limits.max_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             Milliseconds(limits.max_age_grace));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             Milliseconds(limits.min_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, limits.max_ping_strikes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                             limits.permit_pings_without_calls ? 1 : 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams);
}

}  // namespace tollgate
