#include "auth_service/db/database_wait.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include <pqxx/except>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/logging/logger.h"

namespace tollgate::auth {
namespace {

std::string FirstLine(std::string_view text) {
  const size_t end = text.find('\n');
  return std::string(text.substr(0, end));
}

std::string PercentDecoded(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const std::string hex(text.substr(i + 1, 2));
      char* end = nullptr;
      const long value = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out.push_back(static_cast<char>(value));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// The password texts `url` carries, as written and percent-decoded.
std::vector<std::string> Passwords(const std::string& url) {
  std::vector<std::string> found;
  const size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    const size_t start = scheme + 3;
    const size_t at = url.find('@', start);
    const size_t slash = url.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const size_t colon = url.find(':', start);
      if (colon != std::string::npos && colon < at) found.push_back(url.substr(colon + 1, at - colon - 1));
    }
  }
  // password=... as a key=value setting or a URI query parameter.
  for (size_t at = url.find("password="); at != std::string::npos;
       at = url.find("password=", at + 1)) {
    const size_t start = at + 9;
    size_t end = url.find_first_of(" &", start);
    if (end == std::string::npos) end = url.size();
    std::string value = url.substr(start, end - start);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    found.push_back(value);
  }
  std::vector<std::string> all;
  for (const std::string& password : found) {
    if (password.empty()) continue;
    all.push_back(password);
    all.push_back(PercentDecoded(password));
  }
  // Longest first, so a password that contains another is replaced whole.
  std::sort(all.begin(), all.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return all;
}

// connect_timeout=seconds added unless the URL has one.
std::string WithTimeout(const std::string& url, long long seconds) {
  if (url.find("connect_timeout") != std::string::npos) return url;
  const std::string setting = "connect_timeout=" + std::to_string(seconds);
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + setting;
  }
  return url.empty() ? setting : url + " " + setting;
}

}  // namespace

bool IsRecoverableConnectError(const std::string& message) {
  static constexpr std::string_view kRecoverable[] = {
      "Connection refused",
      "timeout expired",
      "Connection timed out",
      "No such file or directory",  // the socket file of a server not up yet
      "the database system is starting up",
      "the database system is shutting down",
      "the database system is in recovery mode",
      "the database system is not yet accepting connections",
      "too many clients",
      "remaining connection slots are reserved",
      "server closed the connection unexpectedly",
      "Connection reset by peer",
      "Network is unreachable",
      "No route to host",
      "Temporary failure in name resolution",
  };
  for (std::string_view text : kRecoverable) {
    if (message.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string WithoutPassword(const std::string& message, const std::string& url) {
  std::string out = message;
  for (const std::string& password : Passwords(url)) {
    out = absl::StrReplaceAll(out, {{password, "***"}});
  }
  return out;
}

absl::Status RunWhenDatabaseReachable(const std::string& url, std::chrono::seconds wait,
                                      const std::function<absl::Status(pqxx::connection&)>& work,
                                      std::chrono::milliseconds retry_every) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  const auto deadline = started + wait;
  int attempts = 0;
  std::string cause;
  for (;;) {
    ++attempts;
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now());
    std::unique_ptr<pqxx::connection> connection;
    try {
      connection = std::make_unique<pqxx::connection>(
          WithTimeout(url, std::max<long long>(2, std::min<long long>(5, left.count()))));
    } catch (const std::exception& e) {
      cause = WithoutPassword(FirstLine(e.what()), url);
    }
    if (connection != nullptr) {
      if (attempts > 1) logging::Info("database reachable", {{"attempts", attempts}});
      return work(*connection);
    }
    if (!IsRecoverableConnectError(cause)) {
      return absl::FailedPreconditionError("database connection failed: " + cause);
    }
    if (attempts == 1 && wait.count() > 0) {
      logging::Warn("waiting for the database",
                    {{"wait_s", static_cast<int64_t>(wait.count())}, {"reason", cause}});
    }
    if (Clock::now() + retry_every >= deadline) {
      return absl::UnavailableError(absl::StrCat("database unreachable after ", attempts,
                                                 attempts == 1 ? " attempt" : " attempts", " in ",
                                                 wait.count(), " s: ", cause));
    }
    std::this_thread::sleep_for(retry_every);
  }
}

}  // namespace tollgate::auth
