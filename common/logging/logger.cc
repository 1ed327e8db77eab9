#include "common/logging/logger.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <vector>


namespace tollgate::logging {
namespace {

constexpr size_t kDeferredFlushBytes = 64 * 1024;
constexpr std::chrono::milliseconds kDeferredFlushInterval(100);

// The most bytes WriteTimestamp writes.
constexpr size_t kMaxTimestampBytes = 64 + 5;

// RFC 3339 in UTC with milliseconds: 2026-12-03T09:10:11.123Z. The text up
// to the seconds is kept per thread and made again only when the second
// changes. Returns the end.
char* WriteTimestamp(char* out) {
  const auto now = std::chrono::system_clock::now();
  const int64_t millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t seconds = millis / 1000;
  thread_local int64_t cached_second = -1;
  thread_local char cached[64];  // "2026-12-03T09:10:11" (room for any int year)
  thread_local size_t cached_size = 0;
  if (seconds != cached_second) {
    const std::time_t time = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&time, &utc);
    const int written =
        std::snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d", utc.tm_year + 1900,
                      utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    cached_size = std::min(static_cast<size_t>(written), sizeof(cached) - 1);
    cached_second = seconds;
  }
  std::memcpy(out, cached, cached_size);
  out += cached_size;
  const int ms = static_cast<int>(millis % 1000);
  const char fraction[] = {'.', static_cast<char>('0' + ms / 100),
                           static_cast<char>('0' + ms / 10 % 10), static_cast<char>('0' + ms % 10),
                           'Z'};
  std::memcpy(out, fraction, sizeof(fraction));
  return out + sizeof(fraction);
}

void AppendTimestamp(std::string& out) {
  const size_t size = out.size();
  out.resize(size + kMaxTimestampBytes);
  char* end = WriteTimestamp(out.data() + size);
  out.resize(static_cast<size_t>(end - out.data()));
}

// The length of the valid UTF-8 sequence at text[i], or 0 when it is not
// one (overlong forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  uint32_t min = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, min = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, min = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  uint32_t code_point = lead & (0x7f >> length);
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3f);
  }
  if (code_point < min || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return 0;
  }
  return length;
}

// A JSON string literal. Invalid UTF-8 is replaced (U+FFFD) rather than
// refused: a client-sent value must never take the logger down, nor forge a
// field or a line.
// Bytes a JSON string cannot hold as they are: controls, '"', '\\', DEL
// and every non-ASCII byte (checked as UTF-8 below).
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x7f;
  return table;
}();

// Whether any of the 8 bytes of `word` needs escaping (kNeedsEscape), with
// the word-at-a-time tests of "Bit Twiddling Hacks": exact, no false
// positives. An access-log line is ~250 bytes of such values, almost never
// escaped, so scanning 8 bytes a step is most of what its escaping costs.
constexpr bool WordNeedsEscape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  const auto has_zero_byte = [](uint64_t v) { return ((v - kOnes) & ~v & kHighBits) != 0; };
  const bool has_control = ((word - kOnes * 0x20) & ~word & kHighBits) != 0;  // a byte < 0x20
  return has_control || (word & kHighBits) != 0 ||                            // a byte >= 0x80
         has_zero_byte(word ^ (kOnes * '"')) || has_zero_byte(word ^ (kOnes * '\\')) ||
         has_zero_byte(word ^ (kOnes * 0x7f));
}

// The length of the longest prefix of `text` that needs no escaping.
size_t PlainPrefixLength(std::string_view text) {
  size_t plain = 0;
  for (uint64_t word; plain + sizeof(word) <= text.size(); plain += sizeof(word)) {
    std::memcpy(&word, text.data() + plain, sizeof(word));
    if (WordNeedsEscape(word)) break;
  }
  while (plain < text.size() && !kNeedsEscape[static_cast<unsigned char>(text[plain])]) ++plain;
  return plain;
}

// The most bytes WriteJsonString writes for `text`: the quotes, and each
// byte escaped as \u00XX at worst.
constexpr size_t MaxJsonStringBytes(std::string_view text) { return 2 + 6 * text.size(); }

// Writes `text` as a JSON string literal at `out`, which has room for
// MaxJsonStringBytes(text); returns the end. Writing through a pointer into
// a buffer sized once per line, rather than appending to a std::string
// value by value, halves what an access-log line costs.
char* WriteJsonString(char* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out++ = '"';
  // Most values need no escaping: copy the longest such run at once.
  const size_t plain = PlainPrefixLength(text);
  std::memcpy(out, text.data(), plain);
  out += plain;
  for (size_t i = plain; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!kNeedsEscape[c]) {
      *out++ = static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text, i);
      if (length == 0) {
        std::memcpy(out, "\\ufffd", 6);
        out += 6;
        ++i;
      } else {
        std::memcpy(out, text.data() + i, length);
        out += length;
        i += length;
      }
      continue;
    }
    *out++ = '\\';
    switch (c) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '\n': *out++ = 'n'; break;
      case '\r': *out++ = 'r'; break;
      case '\t': *out++ = 't'; break;
      default:  // the other controls, and DEL
        const char escaped[] = {'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        std::memcpy(out, escaped, sizeof(escaped));
        out += sizeof(escaped);
    }
    ++i;
  }
  *out++ = '"';
  return out;
}

void AppendJsonString(std::string& out, std::string_view text) {
  const size_t size = out.size();
  out.resize(size + MaxJsonStringBytes(text));
  char* end = WriteJsonString(out.data() + size, text);
  out.resize(static_cast<size_t>(end - out.data()));
}

void AppendTextValue(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      AppendJsonString(out, text);  // quoted and escaped: one token on one line
      return;
    }
  }
  if (text.empty()) {
    out.append("\"\"");
  } else {
    out.append(text);
  }
}

// The most bytes WriteNonString writes.
constexpr size_t kMaxNonStringBytes = 40;

char* WriteText(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// Writes a number, a duration or a flag (every Value but a string), the
// same in JSON and text; returns the end.
char* WriteNonString(char* out, const Field::Value& value) {
  if (const auto* number = std::get_if<int64_t>(&value)) {
    return std::to_chars(out, out + kMaxNonStringBytes, *number).ptr;
  }
  if (const auto* real = std::get_if<double>(&value)) {
    if (!std::isfinite(*real)) return WriteText(out, "null");  // JSON has no NaN or infinity
    const int length = std::snprintf(out, kMaxNonStringBytes, "%.6g", *real);
    return out + std::min(static_cast<size_t>(std::max(length, 0)), kMaxNonStringBytes - 1);
  }
  if (const auto* millis = std::get_if<Field::Milliseconds>(&value)) {
    int64_t micros = millis->microseconds;
    if (micros < 0) {
      *out++ = '-';
      micros = -micros;
    }
    out = std::to_chars(out, out + kMaxNonStringBytes - 1, micros / 1000).ptr;
    const int fraction = static_cast<int>(micros % 1000);
    const char decimals[] = {'.', static_cast<char>('0' + fraction / 100),
                             static_cast<char>('0' + fraction / 10 % 10),
                             static_cast<char>('0' + fraction % 10)};
    std::memcpy(out, decimals, sizeof(decimals));
    return out + sizeof(decimals);
  }
  return WriteText(out, std::get<bool>(value) ? "true" : "false");
}

// The most bytes a JSON value takes.
size_t MaxJsonValueBytes(const Field::Value& value) {
  if (const auto* text = std::get_if<std::string_view>(&value)) return MaxJsonStringBytes(*text);
  return kMaxNonStringBytes;
}

char* WriteJsonValue(char* out, const Field::Value& value) {
  if (const auto* text = std::get_if<std::string_view>(&value)) return WriteJsonString(out, *text);
  return WriteNonString(out, value);
}

void AppendTextFieldValue(std::string& out, const Field::Value& value) {
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    AppendTextValue(out, *text);
    return;
  }
  const size_t size = out.size();
  out.resize(size + kMaxNonStringBytes);
  char* end = WriteNonString(out.data() + size, value);
  out.resize(static_cast<size_t>(end - out.data()));
}

std::atomic<Logger*> default_logger{nullptr};

void FlushDefaultLogger() {
  if (Logger* logger = default_logger.load(std::memory_order_acquire)) logger->Flush();
}

}  // namespace

absl::StatusOr<Level> ParseLevel(std::string_view text) {
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warn" || text == "warning") return Level::kWarn;
  if (text == "error") return Level::kError;
  return absl::InvalidArgumentError("expected debug, info, warn or error");
}

absl::StatusOr<Format> ParseFormat(std::string_view text) {
  if (text == "json") return Format::kJson;
  if (text == "text") return Format::kText;
  return absl::InvalidArgumentError("expected json or text");
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

Logger::Logger(std::string service, Format format, Level min_level, std::ostream* out)
    : service_(std::move(service)), format_(format), min_level_(min_level), out_(out) {}

Logger::~Logger() {
  {
    std::lock_guard<std::mutex> lock(buffer_mutex_);
    stopping_ = true;
  }
  flush_wanted_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  Flush();
}

void Logger::AppendLine(std::string& line, Level level, std::string_view message,
                        std::initializer_list<Field> fields) const {
  if (format_ == Format::kJson) {
    // The whole line is written into room made once: its bound, then cut
    // to what was written.
    const std::string_view level_name = LevelName(level);
    size_t bound = 64 + kMaxTimestampBytes + level_name.size() + MaxJsonStringBytes(service_) +
                   MaxJsonStringBytes(message);
    for (const Field& field : fields) bound += field.key.size() + 4 + MaxJsonValueBytes(field.value);
    const size_t size = line.size();
    line.resize(size + bound);
    char* out = line.data() + size;
    out = WriteText(out, "{\"ts\":\"");
    out = WriteTimestamp(out);
    out = WriteText(out, "\",\"level\":\"");
    out = WriteText(out, level_name);
    out = WriteText(out, "\",\"service\":");
    out = WriteJsonString(out, service_);
    out = WriteText(out, ",\"msg\":");
    out = WriteJsonString(out, message);
    for (const Field& field : fields) {
      // Keys are identifiers written in code ([a-z_]), never client data.
      out = WriteText(out, ",\"");
      out = WriteText(out, field.key);
      out = WriteText(out, "\":");
      out = WriteJsonValue(out, field.value);
    }
    out = WriteText(out, "}\n");
    line.resize(static_cast<size_t>(out - line.data()));
    return;
  }
  AppendTimestamp(line);
  line.push_back(' ');
  for (char c : LevelName(level)) line.push_back(static_cast<char>(c - 'a' + 'A'));
  line.push_back(' ');
  line.append(service_);
  line.append(": ");
  // The message is ours, but a line break in it would still split the line.
  for (char c : message) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  for (const Field& field : fields) {
    line.push_back(' ');
    line.append(field.key);
    line.push_back('=');
    AppendTextFieldValue(line, field.value);
  }
  line.push_back('\n');
}

std::unique_lock<std::mutex> Logger::TakePending(std::unique_lock<std::mutex>& buffer,
                                                 std::string& batch) {
  batch.clear();
  batch.swap(pending_);  // pending_ keeps batch's room for the next lines
  std::unique_lock<std::mutex> output(output_mutex_);
  buffer.unlock();
  return output;
}

void Logger::Log(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string line;
  AppendLine(line, level, message, fields);
  std::string waiting;
  std::unique_lock<std::mutex> buffer(buffer_mutex_);
  std::unique_lock<std::mutex> output = TakePending(buffer, waiting);
  // The deferred lines first, so the order is kept.
  out_->write(waiting.data(), static_cast<std::streamsize>(waiting.size()));
  out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  out_->flush();
}

void Logger::LogDeferred(Level level, std::string_view message,
                         std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  thread_local std::string line;
  line.clear();
  AppendLine(line, level, message, fields);
  bool wake_flusher = false;
  {
    std::lock_guard<std::mutex> lock(buffer_mutex_);
    if (!flusher_.joinable() && !stopping_) flusher_ = std::thread([this] { FlushLoop(); });
    pending_.append(line);
    if (pending_.size() >= kDeferredFlushBytes && !flush_requested_) {
      flush_requested_ = true;  // once: not a wake-up per line while the flusher comes
      wake_flusher = true;
    }
  }
  if (wake_flusher) flush_wanted_.notify_one();
}

void Logger::Flush() {
  std::string waiting;
  std::unique_lock<std::mutex> buffer(buffer_mutex_);
  std::unique_lock<std::mutex> output = TakePending(buffer, waiting);
  out_->write(waiting.data(), static_cast<std::streamsize>(waiting.size()));
  out_->flush();
}

void Logger::FlushLoop() {
  std::string batch;  // swapped with pending_: both keep their room
  std::unique_lock<std::mutex> buffer(buffer_mutex_);
  while (!stopping_) {
    flush_wanted_.wait_for(buffer, kDeferredFlushInterval,
                           [this] { return stopping_ || flush_requested_; });
    flush_requested_ = false;
    if (pending_.empty()) continue;
    {
      // Written outside the buffer lock: calls go on appending meanwhile.
      std::unique_lock<std::mutex> output = TakePending(buffer, batch);
      out_->write(batch.data(), static_cast<std::streamsize>(batch.size()));
      out_->flush();
    }
    buffer.lock();
  }
}

Logger& DefaultLogger() {
  if (Logger* logger = default_logger.load(std::memory_order_acquire)) return *logger;
  static Logger* const fallback = new Logger("tollgate", Format::kJson, Level::kInfo, &std::cerr);
  return *fallback;
}

void SetDefaultLogger(std::unique_ptr<Logger> logger) {
  // Leaked on purpose: a thread may still hold the previous one.
  Logger* previous = default_logger.exchange(logger.release(), std::memory_order_acq_rel);
  if (previous != nullptr) previous->Flush();
  static const bool flush_at_exit = [] { return std::atexit(FlushDefaultLogger) == 0; }();
  (void)flush_at_exit;
}

}  // namespace tollgate::logging
