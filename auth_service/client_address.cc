#include "auth_service/client_address.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace tollgate::auth {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Parses an IPv4 or IPv6 address into `bytes`; returns its family, 0 if none.
int ParseIp(std::string_view text, unsigned char bytes[16]) {
  if (text.size() >= INET6_ADDRSTRLEN) return 0;
  char buffer[INET6_ADDRSTRLEN] = {};
  std::memcpy(buffer, text.data(), text.size());
  if (inet_pton(AF_INET, buffer, bytes) == 1) return AF_INET;
  if (inet_pton(AF_INET6, buffer, bytes) == 1) return AF_INET6;
  return 0;
}

// "ipv4:1.2.3.4:5678" -> "1.2.3.4"; "ipv6:[::1]:5678" -> "::1"; else "".
std::string_view PeerIp(std::string_view peer) {
  if (peer.starts_with("ipv4:")) {
    peer.remove_prefix(5);
    return peer.substr(0, peer.rfind(':'));
  }
  if (peer.starts_with("ipv6:")) {
    peer.remove_prefix(5);
    if (!peer.starts_with('[')) return {};
    const size_t close = peer.find(']');
    if (close == std::string_view::npos) return {};
    // gRPC percent-encodes a zone id ("fe80::1%25eth0"): drop the zone.
    std::string_view ip = peer.substr(1, close - 1);
    return ip.substr(0, ip.find('%'));
  }
  return {};
}

}  // namespace

absl::StatusOr<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies proxies;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view entry = Trim(list.substr(0, comma));
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    if (entry.empty()) continue;
    const auto bad = [&] {
      return absl::InvalidArgumentError("AUTH_TRUSTED_PROXIES: '" + std::string(entry) +
                                        "' is not an address or CIDR range");
    };
    Range range;
    const size_t slash = entry.find('/');
    range.family = ParseIp(entry.substr(0, slash), range.bytes);
    if (range.family == 0) return bad();
    const int max_bits = range.family == AF_INET ? 32 : 128;
    range.prefix_bits = max_bits;
    if (slash != std::string_view::npos) {
      const std::string_view bits = entry.substr(slash + 1);
      const auto [end, error] =
          std::from_chars(bits.data(), bits.data() + bits.size(), range.prefix_bits);
      if (error != std::errc() || end != bits.data() + bits.size() || range.prefix_bits < 0 ||
          range.prefix_bits > max_bits) {
        return bad();
      }
    }
    proxies.ranges_.push_back(range);
  }
  return proxies;
}

bool TrustedProxies::Contains(std::string_view address) const {
  unsigned char bytes[16] = {};
  const int family = ParseIp(address, bytes);
  if (family == 0) return false;
  for (const Range& range : ranges_) {
    if (range.family != family) continue;
    const int full = range.prefix_bits / 8;
    const int rest = range.prefix_bits % 8;
    if (std::memcmp(bytes, range.bytes, full) != 0) continue;
    if (rest != 0) {
      const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
      if ((bytes[full] & mask) != (range.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

std::string ClientAddress(std::string_view peer,
                          const std::vector<std::string_view>& forwarded_for,
                          const TrustedProxies& trusted) {
  const std::string_view peer_ip = PeerIp(peer);
  if (peer_ip.empty()) return std::string(peer);
  if (!trusted.Contains(peer_ip)) return std::string(peer_ip);
  // Walk x-forwarded-for from the right (the hop nearest to us) past our
  // own proxies; the first other address is the client. Everything left of
  // it was written by the client and proves nothing.
  std::string_view client = peer_ip;
  for (auto header = forwarded_for.rbegin(); header != forwarded_for.rend(); ++header) {
    std::string_view list = *header;
    while (!list.empty()) {
      const size_t comma = list.rfind(',');
      const std::string_view hop =
          Trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(0, comma);
      unsigned char bytes[16];
      if (ParseIp(hop, bytes) == 0) return std::string(client);  // garbage: stop at the last good hop
      client = hop;
      if (!trusted.Contains(hop)) return std::string(hop);
    }
  }
  return std::string(client);
}

}  // namespace tollgate::auth
