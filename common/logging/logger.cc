#include "common/logging/logger.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <vector>

#include "nlohmann/json.hpp"

namespace tollgate::logging {
namespace {

// RFC 3339 in UTC with milliseconds: 2026-12-03T09:10:11.123Z.
std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];  // room for any int the compiler cannot bound
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis % 1000));
  return text;
}

std::string JsonString(std::string_view text) {
  // Invalid UTF-8 is replaced rather than thrown on: a client-sent value
  // must never take the logger down.
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string TextValue(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) {
      return JsonString(text);  // quoted and escaped, so it stays one token on one line
    }
  }
  return text.empty() ? "\"\"" : std::string(text);
}

std::string ValueText(const Field::Value& value, bool json) {
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    return json ? JsonString(*text) : TextValue(*text);
  }
  if (const auto* number = std::get_if<int64_t>(&value)) return std::to_string(*number);
  if (const auto* real = std::get_if<double>(&value)) return nlohmann::json(*real).dump();
  return std::get<bool>(value) ? "true" : "false";
}

std::atomic<Logger*> default_logger{nullptr};

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

std::string Logger::FormatLine(Level level, std::string_view message,
                               std::initializer_list<Field> fields) const {
  std::string line;
  if (format_ == Format::kJson) {
    line = "{\"ts\":\"" + Timestamp() + "\",\"level\":\"" + std::string(LevelName(level)) +
           "\",\"service\":" + JsonString(service_) + ",\"msg\":" + JsonString(message);
    for (const Field& field : fields) {
      line += "," + JsonString(field.key) + ":" + ValueText(field.value, true);
    }
    line += "}\n";
    return line;
  }
  std::string upper(LevelName(level));
  for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
  line = Timestamp() + " " + upper + " " + service_ + ": ";
  // The message is ours, but a line break in it would still split the line.
  for (char c : message) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  for (const Field& field : fields) {
    line += " " + std::string(field.key) + "=" + ValueText(field.value, false);
  }
  line += "\n";
  return line;
}

void Logger::Log(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  const std::string line = FormatLine(level, message, fields);
  std::lock_guard<std::mutex> lock(write_mutex_);
  out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  out_->flush();
}

Logger& DefaultLogger() {
  if (Logger* logger = default_logger.load(std::memory_order_acquire)) return *logger;
  static Logger* const fallback = new Logger("tollgate", Format::kJson, Level::kInfo, &std::cerr);
  return *fallback;
}

void SetDefaultLogger(std::unique_ptr<Logger> logger) {
  // Leaked on purpose: a thread may still hold the previous one.
  default_logger.store(logger.release(), std::memory_order_release);
}

}  // namespace tollgate::logging
