#include "auth_service/mail/smtp_mail_sender.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/strings/escaping.h"

namespace tollgate::auth {
namespace {

absl::Status BadUrl(std::string_view why) {
  return absl::InvalidArgumentError("AUTH_SMTP_URL " + std::string(why));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexValue(text[i + 1]);
    const int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

bool ValidHost(std::string_view host) {
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    return std::all_of(host.begin() + 1, host.end() - 1,
                       [](char c) { return HexValue(c) >= 0 || c == ':' || c == '.'; });
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
  });
}

bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7f;
  });
}

bool ValidAddress(std::string_view address) {
  if (address.empty() || address.find('@') == std::string_view::npos) return false;
  return std::none_of(address.begin(), address.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f || c == '<' || c == '>' || c == ',';
  });
}

// RFC 5322 section 3.3, always UTC: "Tue, 15 Jan 2027 08:00:00 +0000".
std::string FormatDate(int64_t unix_seconds) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  ::gmtime_r(&time, &utc);
  char text[64];
  std::snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return text;
}

// The subject as is when it is printable ASCII, else RFC 2047 base64
// encoded-words of at most 45 input bytes (75 characters) each, split
// between UTF-8 characters and folded onto continuation lines.
std::string EncodeSubject(std::string_view subject) {
  const bool ascii = std::all_of(subject.begin(), subject.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return std::string(subject);
  constexpr size_t kChunk = 45;
  std::string out;
  size_t start = 0;
  while (start < subject.size()) {
    size_t end = std::min(start + kChunk, subject.size());
    // Back off to the start of a character (never below one byte).
    while (end < subject.size() && end > start + 1 &&
           (static_cast<unsigned char>(subject[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + absl::Base64Escape(absl::string_view(subject.data() + start, end - start)) + "?=";
    start = end;
  }
  return out;
}

// The body with CRLF line ends (a lone CR or LF counts as a line end),
// ending in CRLF; nullopt when a line is longer than 998 bytes.
std::optional<std::string> CanonicalBody(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 32 + 2);
  size_t line_length = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\r' || c == '\n') {
      out += "\r\n";
      line_length = 0;
      if (c == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
      continue;
    }
    if (++line_length > 998) return std::nullopt;
    out.push_back(c);
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->data->size() - upload->offset);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// libcurl's error text as one line.
std::string OneLine(const char* text) {
  std::string line = text;
  std::replace_if(line.begin(), line.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return line;
}

}  // namespace

absl::StatusOr<SmtpSettings> SmtpSettings::Parse(std::string_view url, std::string user,
                                                 std::string password) {
  if (url.empty()) return BadUrl("is empty");
  SmtpSettings settings;
  std::string_view rest;
  if (url.rfind("smtp://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("smtps://", 0) == 0) {
    settings.implicit_tls = true;
    rest = url.substr(8);
  } else {
    return BadUrl("must start with smtp:// or smtps://");
  }

  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);

  // userinfo: up to the last '@' (a password may contain a raw '@').
  bool url_credentials = false;
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    std::optional<std::string> url_user = PercentDecode(userinfo.substr(0, colon));
    std::optional<std::string> url_password =
        colon == std::string_view::npos ? std::optional<std::string>("")
                                        : PercentDecode(userinfo.substr(colon + 1));
    if (!url_user || !url_password) {
      return BadUrl("has a bad percent-escape in its user or password");
    }
    if (!url_user->empty() || !url_password->empty()) {
      if (url_password->empty()) return BadUrl("has a user but no password");
      if (!user.empty() || !password.empty()) {
        return BadUrl(
            "carries credentials and AUTH_SMTP_USER or AUTH_SMTP_PASSWORD is set too; give them "
            "in one place");
      }
      settings.user = *std::move(url_user);
      settings.password = *std::move(url_password);
      url_credentials = true;
    }
  }
  if (!url_credentials) {
    if (!user.empty() && password.empty()) {
      return absl::InvalidArgumentError("AUTH_SMTP_USER is set without AUTH_SMTP_PASSWORD");
    }
    if (user.empty() && !password.empty()) {
      return absl::InvalidArgumentError("AUTH_SMTP_PASSWORD is set without AUTH_SMTP_USER");
    }
    settings.user = std::move(user);
    settings.password = std::move(password);
  }

  // host[:port], the host possibly an IPv6 literal in brackets.
  std::string_view host = authority;
  std::string_view port;
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return BadUrl("has a bad port (want 1-65535)");
  }
  if (host.empty()) return BadUrl("has no host");
  if (!ValidHost(host)) return BadUrl("has a bad host");
  settings.host = std::string(host);
  if (port.empty()) {
    settings.port = settings.implicit_tls ? 465 : 25;
  } else {
    int value = 0;
    for (const char c : port) {
      if (c < '0' || c > '9' || value > 65535) return BadUrl("has a bad port (want 1-65535)");
      value = value * 10 + (c - '0');
    }
    if (value < 1 || value > 65535) return BadUrl("has a bad port (want 1-65535)");
    settings.port = value;
  }

  if (!tail.empty() && tail.front() == '/') tail.remove_prefix(1);
  if (!tail.empty() && tail.front() != '?') return BadUrl("must have no path");
  if (!tail.empty()) {
    if (tail != "?starttls=required") {
      return absl::InvalidArgumentError("AUTH_SMTP_URL: the only query option is starttls=required");
    }
    if (settings.implicit_tls) {
      return absl::InvalidArgumentError(
          "AUTH_SMTP_URL: starttls=required is for smtp:// (smtps:// is TLS from the start)");
    }
    settings.require_starttls = true;
  }
  return settings;
}

std::string SmtpSettings::CurlUrl() const {
  return std::string(implicit_tls ? "smtps://" : "smtp://") + host + ":" + std::to_string(port);
}

SmtpMailSender::SmtpMailSender(SmtpSettings settings) : settings_(std::move(settings)) {
  GlobalInitOnce();
}

absl::StatusOr<std::string> SmtpMailSender::FormatMessage(const MailMessage& message) {
  if (HasControl(message.from) || !ValidAddress(message.from)) {
    return absl::InvalidArgumentError("mail: bad sender address");
  }
  if (HasControl(message.to) || !ValidAddress(message.to)) {
    return absl::InvalidArgumentError("mail: bad recipient address");
  }
  if (HasControl(message.subject)) {
    return absl::InvalidArgumentError("mail: CR, LF or another control character in the subject");
  }
  if (HasControl(message.message_id) || message.message_id.size() < 3 ||
      message.message_id.front() != '<' || message.message_id.back() != '>') {
    return absl::InvalidArgumentError("mail: bad Message-ID");
  }
  std::optional<std::string> body = CanonicalBody(message.body);
  if (!body) return absl::InvalidArgumentError("mail: a body line is longer than 998 bytes");

  std::string text;
  text.reserve(body->size() + 512);
  text += "Date: " + FormatDate(message.date_unix_seconds) + "\r\n";
  text += "From: " + message.from + "\r\n";
  text += "To: " + message.to + "\r\n";
  text += "Subject: " + EncodeSubject(message.subject) + "\r\n";
  text += "Message-ID: " + message.message_id + "\r\n";
  text += "MIME-Version: 1.0\r\n";
  text += "Content-Type: text/plain; charset=UTF-8\r\n";
  text += "Content-Transfer-Encoding: 8bit\r\n";
  text += "\r\n";
  text += *body;
  return text;
}

absl::Status SmtpMailSender::Send(const MailMessage& message) {
  absl::StatusOr<std::string> text = FormatMessage(message);
  if (!text.ok()) return text.status();

  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) return absl::UnavailableError("smtp: curl_easy_init failed");
  CURL* handle = curl.get();
  const std::string url = settings_.CurlUrl();
  const std::string from = "<" + message.from + ">";
  const std::string to = "<" + message.to + ">";
  std::unique_ptr<curl_slist, SlistDeleter> recipients(curl_slist_append(nullptr, to.c_str()));
  if (recipients == nullptr) return absl::UnavailableError("smtp: out of memory");
  Upload upload{&*text};
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(settings_.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.total_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  if (settings_.require_starttls || settings_.implicit_tls) {
    curl_easy_setopt(handle, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  if (!settings_.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, settings_.ca_file.c_str());
  if (!settings_.user.empty()) {
    curl_easy_setopt(handle, CURLOPT_USERNAME, settings_.user.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  curl_easy_setopt(handle, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(text->size()));
  curl_easy_setopt(handle, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(handle, CURLOPT_READDATA, &upload);

  const CURLcode result = curl_easy_perform(handle);
  if (result == CURLE_OK) return absl::OkStatus();
  long reply = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply);
  const std::string code = std::to_string(reply);
  if (result == CURLE_LOGIN_DENIED) {
    return absl::UnavailableError("smtp: login refused (" + code + ")");
  }
  if (reply >= 500 && reply <= 599) {
    return absl::FailedPreconditionError("smtp: server refused the message (" + code + ")");
  }
  if (reply >= 400 && reply <= 499) {
    return absl::UnavailableError("smtp: server deferred the message (" + code + ")");
  }
  return absl::UnavailableError(
      "smtp: " + OneLine(error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(result)));
}

}  // namespace tollgate::auth
