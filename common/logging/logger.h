#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
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

// One key and value of a log line. Values are strings, integers, doubles or
// booleans; a string is escaped as JSON needs (so a client-supplied value
// cannot forge a field or a line), and quoted in text when it holds a space.
struct Field {
  using Value = std::variant<std::string_view, int64_t, double, bool>;
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

  std::string_view key;
  Value value;
};

// Writes log lines for one service: `ts` (RFC 3339 UTC, milliseconds),
// `level`, `service`, `msg`, then the fields in order. One line is one
// write under a mutex, so lines from many threads never interleave.
// Library code logs through DefaultLogger(); it never writes to
// std::cerr itself. Never pass a token, password, hash, code or secret as a
// field: log the subject, the token id or the row id instead.
class Logger final {
 public:
  // `out` must outlive the logger (std::cout, or a test's stream).
  Logger(std::string service, Format format, Level min_level, std::ostream* out);

  bool Enabled(Level level) const { return level >= min_level_; }
  void Log(Level level, std::string_view message, std::initializer_list<Field> fields = {});

  const std::string& service() const { return service_; }

 private:
  std::string FormatLine(Level level, std::string_view message,
                         std::initializer_list<Field> fields) const;

  const std::string service_;
  const Format format_;
  const Level min_level_;
  std::ostream* const out_;
  std::mutex write_mutex_;
};

// The process's logger, used by library code. Until SetDefaultLogger is
// called it is a JSON logger for service "tollgate" at level info on
// stderr (so a library used outside the servers still reports problems).
Logger& DefaultLogger();
// Replaces the process's logger; call once at start-up, before threads
// that log start. The previous one stays alive (threads may hold it).
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
