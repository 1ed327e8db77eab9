#include "tests/support/raw_http2_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tollgate::testing {
namespace {

constexpr char kClientPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

uint32_t BigEndian32(const std::string& bytes, size_t at) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[at + i]);
  return value;
}

// HPACK integer with an N-bit prefix (RFC 7541 section 5.1); `first` holds
// the bits above the prefix.
void AppendHpackInteger(std::string& out, uint8_t first, int prefix_bits, size_t value) {
  const size_t limit = (1u << prefix_bits) - 1;
  if (value < limit) {
    out.push_back(static_cast<char>(first | value));
    return;
  }
  out.push_back(static_cast<char>(first | limit));
  value -= limit;
  while (value >= 128) {
    out.push_back(static_cast<char>((value % 128) + 128));
    value /= 128;
  }
  out.push_back(static_cast<char>(value));
}

// "Literal Header Field without Indexing -- New Name", no Huffman coding:
// no dynamic table state, so every block decodes on its own.
void AppendLiteralHeader(std::string& out, const std::string& name, const std::string& value) {
  out.push_back('\0');
  AppendHpackInteger(out, 0, 7, name.size());
  out += name;
  AppendHpackInteger(out, 0, 7, value.size());
  out += value;
}

}  // namespace

uint32_t RawHttp2Connection::Frame::GoAwayLastStreamId() const {
  return payload.size() >= 4 ? BigEndian32(payload, 0) & 0x7fffffff : UINT32_MAX;
}

uint32_t RawHttp2Connection::Frame::GoAwayErrorCode() const {
  return payload.size() >= 8 ? BigEndian32(payload, 4) : UINT32_MAX;
}

std::string RawHttp2Connection::Frame::GoAwayDebugData() const {
  return payload.size() > 8 ? payload.substr(8) : "";
}

uint32_t RawHttp2Connection::Frame::RstStreamErrorCode() const {
  return payload.size() >= 4 ? BigEndian32(payload, 0) : UINT32_MAX;
}

std::map<uint16_t, uint32_t> RawHttp2Connection::Frame::SettingsValues() const {
  std::map<uint16_t, uint32_t> values;
  for (size_t at = 0; at + 6 <= payload.size(); at += 6) {
    const auto id = static_cast<uint16_t>((static_cast<uint8_t>(payload[at]) << 8) |
                                          static_cast<uint8_t>(payload[at + 1]));
    values[id] = BigEndian32(payload, at + 2);
  }
  return values;
}

absl::StatusOr<std::unique_ptr<RawHttp2Connection>> RawHttp2Connection::Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    ::close(fd);
    return absl::UnavailableError("connect 127.0.0.1:" + std::to_string(port) + ": " +
                                  std::strerror(error));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<RawHttp2Connection>(new RawHttp2Connection(fd));
}

RawHttp2Connection::~RawHttp2Connection() { ::close(fd_); }

absl::Status RawHttp2Connection::SendBytes(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError(std::string("send: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status RawHttp2Connection::SendFrame(uint8_t type, uint8_t flags, uint32_t stream_id,
                                           const std::string& payload) {
  std::string frame;
  const size_t length = payload.size();
  frame.push_back(static_cast<char>((length >> 16) & 0xff));
  frame.push_back(static_cast<char>((length >> 8) & 0xff));
  frame.push_back(static_cast<char>(length & 0xff));
  frame.push_back(static_cast<char>(type));
  frame.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) {
    frame.push_back(static_cast<char>((stream_id >> shift) & (shift == 24 ? 0x7f : 0xff)));
  }
  return SendBytes(frame + payload);
}

absl::Status RawHttp2Connection::SendPrefaceAndSettings() {
  if (absl::Status status = SendBytes(kClientPreface); !status.ok()) return status;
  return SendFrame(kSettings, 0, 0, "");
}

absl::Status RawHttp2Connection::SendPing(uint64_t opaque) {
  std::string payload;
  for (int shift = 56; shift >= 0; shift -= 8) {
    payload.push_back(static_cast<char>((opaque >> shift) & 0xff));
  }
  return SendFrame(kPing, 0, 0, payload);
}

absl::Status RawHttp2Connection::SendCallHeaders(uint32_t stream_id, const std::string& path) {
  std::string block;
  AppendLiteralHeader(block, ":method", "POST");
  AppendLiteralHeader(block, ":scheme", "http");
  AppendLiteralHeader(block, ":path", path);
  AppendLiteralHeader(block, ":authority", "127.0.0.1");
  AppendLiteralHeader(block, "content-type", "application/grpc");
  AppendLiteralHeader(block, "te", "trailers");
  return SendFrame(kHeaders, kFlagEndHeaders, stream_id, block);
}

absl::Status RawHttp2Connection::ReadAtLeast(size_t size,
                                             std::chrono::steady_clock::time_point deadline) {
  while (buffer_.size() < size) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return absl::DeadlineExceededError("no frame in time");
    pollfd ready{fd_, POLLIN, 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno == EINTR) continue;
    if (polled == 0) return absl::DeadlineExceededError("no frame in time");
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return absl::UnavailableError("connection closed by the server");
    if (n < 0) return absl::UnavailableError(std::string("recv: ") + std::strerror(errno));
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<RawHttp2Connection::Frame> RawHttp2Connection::ReadFrame(
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (absl::Status status = ReadAtLeast(9, deadline); !status.ok()) return status;
  const size_t length = (static_cast<size_t>(static_cast<uint8_t>(buffer_[0])) << 16) |
                        (static_cast<size_t>(static_cast<uint8_t>(buffer_[1])) << 8) |
                        static_cast<uint8_t>(buffer_[2]);
  if (absl::Status status = ReadAtLeast(9 + length, deadline); !status.ok()) return status;
  Frame frame;
  frame.type = static_cast<uint8_t>(buffer_[3]);
  frame.flags = static_cast<uint8_t>(buffer_[4]);
  frame.stream_id = BigEndian32(buffer_, 5) & 0x7fffffff;
  frame.payload = buffer_.substr(9, length);
  buffer_.erase(0, 9 + length);

  absl::Status answered = absl::OkStatus();
  if (frame.type == kSettings && (frame.flags & kFlagAck) == 0) {
    answered = SendFrame(kSettings, kFlagAck, 0, "");
  } else if (frame.type == kPing && (frame.flags & kFlagAck) == 0) {
    answered = SendFrame(kPing, kFlagAck, 0, frame.payload);
  }
  // The server may already have closed its side; the frame still counts.
  (void)answered;
  return frame;
}

absl::StatusOr<RawHttp2Connection::Frame> RawHttp2Connection::ReadUntil(
    uint8_t type, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    absl::StatusOr<Frame> frame = ReadFrame(std::max(left, std::chrono::milliseconds(0)));
    if (!frame.ok() || frame->type == type) return frame;
  }
}

absl::Status RawHttp2Connection::WaitForClose(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    absl::StatusOr<Frame> frame = ReadFrame(std::max(left, std::chrono::milliseconds(0)));
    if (frame.ok()) continue;
    if (absl::IsUnavailable(frame.status())) return absl::OkStatus();
    return frame.status();
  }
}

}  // namespace tollgate::testing
