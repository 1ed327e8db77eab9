#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <variant>

#include "absl/status/statusor.h"

namespace tollgate::logging {

// Severity, lowest first. A logger drops lines below its minimum level.
enum class Level { kDebug, kInfo, kWarn, kError };

// kJson: one JSON object per line (the default; what log pipelines parse).
// kText: one human line, "2026-12-03T09:10:11.123Z INFO auth: message key=value".
enum class Format { kJson, kText };

// "debug", "info", "warn" (or "warning"), "error"; INVALID_ARGUMENT else.
[[nodiscard]] absl::StatusOr<Level> ParseLevel(std::string_view text);
// "json" or "text"; INVALID_ARGUMENT else.
[[nodiscard]] absl::StatusOr<Format> ParseFormat(std::string_view text);
std::string_view LevelName(Level level);

// One key and value of a log line. Keys are identifiers written in code
// (lower case, digits, '_'), written as they are. Values are strings, integers, doubles or
// booleans; a string is escaped as JSON needs (so a client-supplied value
// cannot forge a field or a line), and quoted in text when it holds a space.
struct Field {
  // A duration, written as milliseconds with three decimals (1234 µs:
  // 1.234), exact and without floating-point formatting.
  struct Milliseconds {
    int64_t microseconds;
  };
  using Value = std::variant<std::string_view, int64_t, double, bool, Milliseconds>;
  Field(std::string_view field_key, std::string_view text) : key(field_key), value(text) {}
  Field(std::string_view field_key, const std::string& text)
      : key(field_key), value(std::string_view(text)) {}
  Field(std::string_view field_key, const char* text)
      : key(field_key), value(std::string_view(text)) {}
  Field(std::string_view field_key, int64_t number) : key(field_key), value(number) {}
  Field(std::string_view field_key, int number) : key(field_key), value(int64_t{number}) {}
  Field(std::string_view field_key, uint64_t number)
      : key(field_key), value(static_cast<int64_t>(number)) {}
  Field(std::string_view field_key, double number) : key(field_key), value(number) {}
  Field(std::string_view field_key, bool flag) : key(field_key), value(flag) {}
  Field(std::string_view field_key, std::chrono::microseconds duration)
      : key(field_key), value(Milliseconds{duration.count()}) {}

  std::string_view key;
  Value value;
};

// Writes log lines for one service: `ts` (RFC 3339 UTC, milliseconds),
// `level`, `service`, `msg`, then the fields in order. One line is one
// write under a mutex, so lines from many threads never interleave.
// Library code logs through DefaultLogger(); it never writes to
// std::cerr itself. Never pass a token, password, hash, code or secret as a
// field: log the subject, the token id or the row id instead.
//
// Log() writes its line at once (start-up, shutdown, background events:
// rare, and wanted at once). LogDeferred() is for lines that come with
// every call (the access log): it appends to a buffer that a background
// thread writes at least every 100 ms, or sooner when 64 KiB are waiting
// or a Log() line comes (which writes the waiting lines first, so the order
// is kept). Flush() writes what waits; call it before the process exits.
class Logger final {
 public:
  // `out` must outlive the logger (std::cout, or a test's stream).
  Logger(std::string service, Format format, Level min_level, std::ostream* out);
  ~Logger();

  bool Enabled(Level level) const { return level >= min_level_; }
  void Log(Level level, std::string_view message, std::initializer_list<Field> fields = {});
  void LogDeferred(Level level, std::string_view message, std::initializer_list<Field> fields = {});
  void Flush();

  const std::string& service() const { return service_; }

 private:
  void AppendLine(std::string& out, Level level, std::string_view message,
                  std::initializer_list<Field> fields) const;
  // Takes the waiting lines out of pending_ into `batch` and returns the
  // output lock, taken before the buffer lock `buffer` is let go: batches
  // reach the output in the order they left pending_.
  std::unique_lock<std::mutex> TakePending(std::unique_lock<std::mutex>& buffer, std::string& batch);
  void FlushLoop();

  const std::string service_;
  const Format format_;
  const Level min_level_;
  std::ostream* const out_;
  // Two locks, always taken in this order: the calls' threads only ever
  // wait for the short append to pending_, never for a write to out_.
  std::mutex buffer_mutex_;
  std::mutex output_mutex_;   // held while writing to out_
  std::string pending_;       // deferred lines not yet written; guarded by buffer_mutex_
  std::condition_variable flush_wanted_;
  bool flush_requested_ = false;  // guarded by buffer_mutex_
  bool stopping_ = false;         // guarded by buffer_mutex_
  std::thread flusher_;       // started by the first LogDeferred
};

// The process's logger, used by library code. Until SetDefaultLogger is
// called it is a JSON logger for service "tollgate" at level info on
// stderr (so a library used outside the servers still reports problems).
Logger& DefaultLogger();
// Replaces the process's logger; call once at start-up, before threads
// that log start. The previous one stays alive (threads may hold it). The
// process flushes the default logger when it exits through exit() or main's
// return.
void SetDefaultLogger(std::unique_ptr<Logger> logger);

// Shorthands for DefaultLogger().Log(...).
inline void Info(std::string_view message, std::initializer_list<Field> fields = {}) {
  DefaultLogger().Log(Level::kInfo, message, fields);
}
inline void Warn(std::string_view message, std::initializer_list<Field> fields = {}) {
  DefaultLogger().Log(Level::kWarn, message, fields);
}
inline void Error(std::string_view message, std::initializer_list<Field> fields = {}) {
  DefaultLogger().Log(Level::kError, message, fields);
}
inline void Debug(std::string_view message, std::initializer_list<Field> fields = {}) {
  DefaultLogger().Log(Level::kDebug, message, fields);
}

}  // namespace tollgate::logging
