#pragma once

#include <cstdint>
#include <string>

#include "common/tls/tls_files.h"

namespace tollgate::cli {

inline constexpr char kDefaultAuthAddress[] = "127.0.0.1:50051";
inline constexpr char kDefaultSumAddress[] = "127.0.0.1:50052";
inline constexpr int64_t kDefaultTimeoutSeconds = 10;
inline constexpr int64_t kMaxTimeoutSeconds = 86400;
// Below $HOME.
inline constexpr char kDefaultTokenFileInHome[] = "/.config/tollgate/tokens.json";

// The options every command shares, resolved once by CommandLine::Parse:
// the flag wins, then the environment variable (an empty value counts as
// unset), then the default.
struct GlobalOptions {
  std::string auth_address;  // --auth, TOLLGATE_AUTH_ADDR
  std::string sum_address;   // --sum, TOLLGATE_SUM_ADDR
  // --token-file, TOLLGATE_TOKEN_FILE, else $HOME/.config/tollgate/tokens.json.
  // Empty when none of the three is set; commands that need the file then
  // fail with a usage error.
  std::string token_file;
  int64_t timeout_seconds = kDefaultTimeoutSeconds;  // --timeout, TOLLGATE_TIMEOUT
  // --tls-ca, --tls-cert, --tls-key (TOLLGATE_TLS_CA, _CERT, _KEY), for both
  // services. Any of them set: TLS (without --tls-ca, the system's CAs);
  // none: plaintext. Each names the option or variable it came from.
  tls::ClientTlsFiles tls;
};

}  // namespace tollgate::cli
