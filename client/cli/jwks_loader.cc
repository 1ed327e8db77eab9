#include "client/cli/jwks_loader.h"

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tollgate::cli {
namespace {

bool IsUrl(absl::string_view source) {
  return absl::StartsWith(source, "http://") || absl::StartsWith(source, "https://");
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat("no such file: ", path));
  }
  if (!std::filesystem::is_regular_file(path, error)) {
    return absl::UnavailableError(absl::StrCat("cannot read ", path, ": not a regular file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

absl::StatusOr<std::string> Fetch(const std::string& url, std::chrono::seconds timeout,
                                  const std::string& ca_file) {
  // "https://host:port" and "/path?query": what httplib::Client takes.
  const size_t authority = url.find("://") + 3;
  const size_t path_start = url.find('/', authority);
  const std::string origin = url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (origin.size() == authority) return absl::InvalidArgumentError(absl::StrCat("no host in ", url));

  httplib::Client client(origin);
  if (!client.is_valid()) return absl::InvalidArgumentError(absl::StrCat("cannot use ", url));
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_follow_location(false);
  if (!ca_file.empty()) client.set_ca_cert_path(ca_file.c_str());
  client.enable_server_certificate_verification(true);

  const httplib::Result result = client.Get(path);
  if (!result) {
    return absl::UnavailableError(
        absl::StrCat("GET ", url, ": ", httplib::to_string(result.error())));
  }
  if (result->status != 200) {
    return absl::UnavailableError(absl::StrCat("GET ", url, ": HTTP status ", result->status));
  }
  return result->body;
}

}  // namespace

absl::StatusOr<JwkSet> LoadJwkSet(const std::string& file_or_url, std::chrono::seconds timeout,
                                  const std::string& ca_file) {
  const bool fetched = IsUrl(file_or_url);
  absl::StatusOr<std::string> document =
      fetched ? Fetch(file_or_url, timeout, ca_file) : ReadFile(file_or_url);
  if (!document.ok()) return document.status();

  absl::StatusOr<JwkSet> keys = JwkSet::FromJson(*document);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_or_url, ": not a usable JWK Set: ", keys.status().message()));
  }
  if (fetched) {
    for (const Jwk& key : keys->keys()) {
      if (key.is_symmetric()) {
        return absl::InvalidArgumentError(absl::StrCat(
            file_or_url, ": the set holds an oct (HS256) secret, key '", key.kid(),
            "'; a secret that is served over HTTP is public, so it is not used"));
      }
    }
  }
  return keys;
}

}  // namespace tollgate::cli
