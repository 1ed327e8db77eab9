#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tollgate::auth {

// The proxies whose `x-forwarded-for` is believed (AUTH_TRUSTED_PROXIES):
// IPv4 or IPv6 addresses or CIDR ranges, comma-separated.
class TrustedProxies final {
 public:
  TrustedProxies() = default;
  // INVALID_ARGUMENT "AUTH_TRUSTED_PROXIES: '<entry>' is not an address or
  // CIDR range" for a bad entry.
  [[nodiscard]] static absl::StatusOr<TrustedProxies> Parse(std::string_view list);

  bool Contains(std::string_view address) const;
  bool empty() const { return ranges_.empty(); }

 private:
  struct Range {
    int family = 0;               // AF_INET or AF_INET6
    unsigned char bytes[16] = {};
    int prefix_bits = 0;
  };
  std::vector<Range> ranges_;
};

// The address of the client a call comes from, for login throttling: the
// IP of gRPC's `peer` ("ipv4:1.2.3.4:5678", "ipv6:[::1]:5678"), or, when
// that peer is a trusted proxy, the right-most address in `x-forwarded-for`
// that is not itself a trusted proxy (the left-most ones are whatever the
// client claimed). A peer that is not IP (unix:) is returned as is.
std::string ClientAddress(std::string_view peer,
                          const std::vector<std::string_view>& forwarded_for,
                          const TrustedProxies& trusted);

}  // namespace tollgate::auth
