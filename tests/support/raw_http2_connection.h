#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tollgate::testing {

// One HTTP/2 client connection to 127.0.0.1 driven by hand, for tests that
// must behave as no gRPC client would: stop after the preface, ping in a
// loop, open more streams than the server allows. Frames are written and
// read one at a time on the caller's thread; nothing runs in the background.
//
// ReadFrame answers the server's SETTINGS with an ACK and its PINGs with a
// PING ACK, as every client must (gRPC's graceful GOAWAY waits for that
// ACK), and still returns those frames.
class RawHttp2Connection final {
 public:
  enum FrameType : uint8_t {
    kData = 0x0,
    kHeaders = 0x1,
    kRstStream = 0x3,
    kSettings = 0x4,
    kPing = 0x6,
    kGoAway = 0x7,
    kWindowUpdate = 0x8,
  };
  // RFC 9113 section 7.
  enum ErrorCode : uint32_t {
    kNoError = 0x0,
    kProtocolError = 0x1,
    kInternalError = 0x2,
    kRefusedStream = 0x7,
    kCancel = 0x8,
    kEnhanceYourCalm = 0xb,
  };
  static constexpr uint8_t kFlagAck = 0x1;         // SETTINGS, PING
  static constexpr uint8_t kFlagEndStream = 0x1;   // DATA, HEADERS
  static constexpr uint8_t kFlagEndHeaders = 0x4;  // HEADERS
  static constexpr uint16_t kSettingsMaxConcurrentStreams = 0x3;

  struct Frame {
    uint8_t type = 0;
    uint8_t flags = 0;
    uint32_t stream_id = 0;
    std::string payload;

    // GOAWAY: the last stream the server will process, the error code and
    // the debug data after it.
    uint32_t GoAwayLastStreamId() const;
    uint32_t GoAwayErrorCode() const;
    std::string GoAwayDebugData() const;
    // RST_STREAM: the error code.
    uint32_t RstStreamErrorCode() const;
    // SETTINGS: parameter id -> value.
    std::map<uint16_t, uint32_t> SettingsValues() const;
  };

  // A TCP connection to 127.0.0.1:`port`; nothing is sent yet.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RawHttp2Connection>> Connect(int port);
  ~RawHttp2Connection();  // closes the socket
  RawHttp2Connection(const RawHttp2Connection&) = delete;
  RawHttp2Connection& operator=(const RawHttp2Connection&) = delete;

  // The client connection preface and an empty SETTINGS frame: all an
  // HTTP/2 connection needs to be up.
  absl::Status SendPrefaceAndSettings();
  absl::Status SendPing(uint64_t opaque);
  // HEADERS (END_HEADERS, not END_STREAM) that start a gRPC call to `path`
  // ("/package.Service/Method") on `stream_id` (odd, increasing).
  absl::Status SendCallHeaders(uint32_t stream_id, const std::string& path);

  // The next frame. DEADLINE_EXCEEDED when none came within `timeout`,
  // UNAVAILABLE when the server closed the connection.
  [[nodiscard]] absl::StatusOr<Frame> ReadFrame(std::chrono::milliseconds timeout);
  // Reads frames until one of `type` and returns it; the same errors.
  [[nodiscard]] absl::StatusOr<Frame> ReadUntil(uint8_t type, std::chrono::milliseconds timeout);
  // Reads (and drops) frames until the server closes the connection: OK, or
  // DEADLINE_EXCEEDED if it is still open after `timeout`.
  absl::Status WaitForClose(std::chrono::milliseconds timeout);

 private:
  explicit RawHttp2Connection(int fd) : fd_(fd) {}
  absl::Status SendFrame(uint8_t type, uint8_t flags, uint32_t stream_id,
                         const std::string& payload);
  absl::Status SendBytes(const std::string& bytes);
  // Fills buffer_ until it holds `size` bytes or the deadline passes.
  absl::Status ReadAtLeast(size_t size, std::chrono::steady_clock::time_point deadline);

  const int fd_;
  std::string buffer_;  // received, not yet returned as frames
};

}  // namespace tollgate::testing
