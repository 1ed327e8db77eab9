#include "common/http/http_endpoint.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace tollgate {
namespace {

constexpr char kHealthPath[] = "/healthz";
constexpr char kReadyPath[] = "/readyz";
constexpr char kMetricsPath[] = "/metrics";
constexpr char kJwksPath[] = "/.well-known/jwks.json";
constexpr char kTextPlain[] = "text/plain; charset=utf-8";
constexpr char kPrometheusText[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kJwkSetJson[] = "application/jwk-set+json";

absl::Status InvalidAddress(const std::string& address, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid HTTP listen address '", address, "': ", why));
}

// The body of an error answer that has none yet: one that cpp-httplib
// produced itself (400, 413 ...) or a 404/405 the pre-routing handler left
// to it (Route() sets only the status of those).
std::string ErrorBody(int status) {
  switch (status) {
    case 400: return "bad request\n";
    case 404: return "not found\n";
    case 405: return "method not allowed\n";
    case 413: return "request body too large\n";
    case 414: return "request URI too long\n";
    case 500: return "internal error\n";
    default: return absl::StrCat(status, "\n");
  }
}

}  // namespace

absl::Status ParseHostPort(const std::string& address, HostPort* out) {
  std::string host;
  absl::string_view rest;
  if (address.empty()) return InvalidAddress(address, "empty");
  if (address[0] == '[') {
    const size_t close = address.find(']');
    if (close == std::string::npos) return InvalidAddress(address, "unclosed '['");
    host = address.substr(1, close - 1);
    rest = absl::string_view(address).substr(close + 1);
    if (rest.empty() || rest[0] != ':') return InvalidAddress(address, "missing port");
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) return InvalidAddress(address, "missing port");
    host = address.substr(0, colon);
    if (host.find(':') != std::string::npos) {
      return InvalidAddress(address, "an IPv6 host goes in brackets");
    }
    rest = absl::string_view(address).substr(colon);
  }
  if (host.empty()) return InvalidAddress(address, "missing host");
  const absl::string_view digits = rest.substr(1);
  if (digits.empty() || digits.size() > 5) return InvalidAddress(address, "bad port");
  int port = 0;
  for (const char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return InvalidAddress(address, "bad port");
    }
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return InvalidAddress(address, "bad port");
  out->host = std::move(host);
  out->port = port;
  return absl::OkStatus();
}

std::string StrongEtag(const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(body.data(), body.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string etag = "\"";
  for (unsigned int i = 0; i < length; ++i) {
    etag.push_back(kHex[digest[i] >> 4]);
    etag.push_back(kHex[digest[i] & 0xf]);
  }
  etag.push_back('"');
  return etag;
}

bool IfNoneMatchMatches(const std::string& if_none_match, const std::string& etag) {
  for (absl::string_view candidate : absl::StrSplit(if_none_match, ',')) {
    candidate = absl::StripAsciiWhitespace(candidate);
    if (candidate == "*") return true;
    if (absl::StartsWith(candidate, "W/")) candidate.remove_prefix(2);
    if (candidate == etag) return true;
  }
  return false;
}

HttpEndpoint::HttpEndpoint(HttpEndpointOptions options) : options_(std::move(options)) {}

HttpEndpoint::~HttpEndpoint() { Stop(); }

void HttpEndpoint::ServeReadiness(std::function<bool()> ready) {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  if (!started_) ready_ = std::move(ready);
}

void HttpEndpoint::ServeMetrics(
    std::vector<std::shared_ptr<const prometheus::Collectable>> collectables) {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  if (started_) return;
  collectables_ = std::move(collectables);
  serve_metrics_ = true;
}

void HttpEndpoint::ServeJwks(std::function<std::string()> jwks_json,
                             std::chrono::seconds max_age) {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  if (started_) return;
  jwks_json_ = std::move(jwks_json);
  jwks_max_age_ = max_age;
}

absl::Status HttpEndpoint::Start() {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  if (started_ || stopped_) return absl::FailedPreconditionError("HTTP endpoint already started");
  HostPort host_port;
  if (absl::Status parsed = ParseHostPort(options_.address, &host_port); !parsed.ok()) {
    return parsed;
  }

  server_ = std::make_unique<httplib::Server>();
  const size_t threads = options_.threads > 0 ? static_cast<size_t>(options_.threads) : 1;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_read_timeout(options_.read_timeout);
  server_->set_write_timeout(options_.write_timeout);
  server_->set_keep_alive_timeout(options_.keep_alive_timeout.count());
  server_->set_keep_alive_max_count(
      options_.keep_alive_max_requests > 0 ? options_.keep_alive_max_requests : 1);
  server_->set_payload_max_length(options_.max_request_body_bytes);
  // Headers and body go out in separate writes: without TCP_NODELAY a
  // keep-alive client waits out delayed ACKs (some 40 ms) per response.
  server_->set_tcp_nodelay(true);
  // cpp-httplib's default sets SO_REUSEPORT, with which a second process
  // binds the same port and silently takes half the connections. Only
  // SO_REUSEADDR (a restart need not wait out TIME_WAIT).
  server_->set_socket_options([](int socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        Route(request, response);
        // A finished answer is Handled. 404 and 405 are left Unhandled with
        // their status set, so that cpp-httplib still reads (and bounds) a
        // request body before answering, keeping the connection in step.
        return response.status == 404 || response.status == 405
                   ? httplib::Server::HandlerResponse::Unhandled
                   : httplib::Server::HandlerResponse::Handled;
      });
  // cpp-httplib's default would put the exception's text in a header.
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
        response.status = 500;
      });
  // Called for every answer >= 400 before it is written; gives a body (with
  // its Content-Length, which cpp-httplib computes for a Handled error) to
  // those that have none. The Allow of a 405 goes if reading the body turned
  // the answer into a 413.
  server_->set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (response.status != 405) response.headers.erase("Allow");
    response.set_content(ErrorBody(response.status), kTextPlain);
    return httplib::Server::HandlerResponse::Handled;
  }));

  errno = 0;
  int bound_port = host_port.port;
  bool bound;
  if (host_port.port == 0) {
    bound_port = server_->bind_to_any_port(host_port.host);
    bound = bound_port > 0;
  } else {
    bound = server_->bind_to_port(host_port.host, host_port.port);
  }
  if (!bound) {
    const int error = errno;
    server_.reset();
    std::string reason = "cannot bind";
    if (error == EADDRINUSE) {
      reason = "address in use";
    } else if (error != 0) {
      reason = absl::AsciiStrToLower(std::strerror(error));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.address, ": ", reason));
  }

  started_ = true;
  port_ = bound_port;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  // Server::stop() only acts on a running server: wait until the accept loop
  // runs, so that a Stop() right after Start() is not lost.
  while (!server_->is_running() && !listen_returned_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

void HttpEndpoint::Stop() {
  std::lock_guard<std::mutex> lock(lifecycle_mutex_);
  if (stopped_) return;
  stopped_ = true;
  if (!started_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpEndpoint::Route(const httplib::Request& request, httplib::Response& response) const {
  const std::string& path = request.path;
  const bool known = path == kHealthPath || (path == kReadyPath && ready_) ||
                     (path == kMetricsPath && serve_metrics_) ||
                     (path == kJwksPath && jwks_json_);
  if (!known) {
    response.status = 404;
    return;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    response.status = 405;
    response.set_header("Allow", "GET, HEAD");
    return;
  }
  if (path == kHealthPath) {
    response.status = 200;
    response.set_content("ok\n", kTextPlain);
  } else if (path == kReadyPath) {
    const bool ready = ready_();
    response.status = ready ? 200 : 503;
    response.set_content(ready ? "ok\n" : "not serving\n", kTextPlain);
  } else if (path == kMetricsPath) {
    ServeMetricsRequest(response);
  } else {
    ServeJwksRequest(request, response);
  }
}

void HttpEndpoint::ServeMetricsRequest(httplib::Response& response) const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : collectables_) {
    if (collectable == nullptr) continue;
    std::vector<prometheus::MetricFamily> collected = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  response.status = 200;
  response.set_content(prometheus::TextSerializer().Serialize(families), kPrometheusText);
}

void HttpEndpoint::ServeJwksRequest(const httplib::Request& request,
                                    httplib::Response& response) const {
  std::string body = jwks_json_();
  const std::string etag = StrongEtag(body);
  response.set_header("ETag", etag);
  response.set_header("Cache-Control",
                      absl::StrCat("public, max-age=", jwks_max_age_.count()));
  std::string if_none_match;
  const size_t count = request.get_header_value_count("If-None-Match");
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) if_none_match += ",";
    if_none_match += request.get_header_value("If-None-Match", i);
  }
  if (count > 0 && IfNoneMatchMatches(if_none_match, etag)) {
    response.status = 304;
    return;
  }
  response.status = 200;
  response.set_content(body, kJwkSetJson);
}

}  // namespace tollgate
