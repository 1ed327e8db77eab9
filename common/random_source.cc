#include "common/random_source.h"

#include <openssl/rand.h>

#include <climits>

#include "absl/status/status.h"

namespace tollgate {

absl::StatusOr<std::string> OpenSslRandomSource::Bytes(size_t count) {
  if (count > INT_MAX) return absl::InvalidArgumentError("too many random bytes requested");
  std::string out(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
    return absl::InternalError("RAND_bytes failed");
  }
  return out;
}

}  // namespace tollgate
