#include "auth_service/password/password_hasher.h"

#include <sodium.h>

#include <cerrno>
#include <charconv>
#include <optional>

namespace tollgate::auth {
namespace {

// The password behind the dummy hash. Its value does not matter: SpendOneHash
// throws the result away.
constexpr std::string_view kDummyPassword = "tollgate: no such account";

constexpr std::string_view kArgon2idV19Prefix = "$argon2id$v=19$";

bool SodiumReady() {
  // sodium_init picks the fastest implementations and seeds the CSPRNG; it
  // is thread-safe and idempotent, the static makes it run once.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// libsodium wants a non-null pointer even for an empty password.
const char* DataOf(std::string_view text) { return text.empty() ? "" : text.data(); }

// Consumes `literal` at the front of `text`.
bool Consume(std::string_view& text, std::string_view literal) {
  if (!text.starts_with(literal)) return false;
  text.remove_prefix(literal.size());
  return true;
}

// Consumes a canonical decimal uint32 (no sign, no leading zeros).
std::optional<uint32_t> ConsumeUint32(std::string_view& text) {
  uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  const size_t length = static_cast<size_t>(end - text.data());
  if (error != std::errc() || (length > 1 && text.front() == '0')) return std::nullopt;
  text.remove_prefix(length);
  return value;
}

// Consumes a non-empty run of standard base64 characters (no padding).
bool ConsumeBase64(std::string_view& text) {
  size_t length = 0;
  while (length < text.size()) {
    const char c = text[length];
    const bool base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!base64) break;
    ++length;
  }
  text.remove_prefix(length);
  return length > 0;
}

// The parameters of `$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>`, or
// nullopt if `phc` does not have exactly that shape. libsodium decodes the
// salt and hash itself (and rejects non-canonical base64); this only makes
// sure that a failed verification can be told apart from a malformed string.
std::optional<Argon2Params> ParseArgon2idPhc(std::string_view phc) {
  Argon2Params params;
  if (!Consume(phc, kArgon2idV19Prefix) || !Consume(phc, "m=")) return std::nullopt;
  const auto memory_kib = ConsumeUint32(phc);
  if (!memory_kib || !Consume(phc, ",t=")) return std::nullopt;
  const auto iterations = ConsumeUint32(phc);
  if (!iterations || !Consume(phc, ",p=")) return std::nullopt;
  const auto parallelism = ConsumeUint32(phc);
  if (!parallelism || !Consume(phc, "$") || !ConsumeBase64(phc) || !Consume(phc, "$") ||
      !ConsumeBase64(phc) || !phc.empty()) {
    return std::nullopt;
  }
  params.memory_kib = *memory_kib;
  params.iterations = *iterations;
  params.parallelism = *parallelism;
  return params;
}

absl::Status CheckParams(const Argon2Params& params) {
  if (params.parallelism != 1) {
    return absl::InvalidArgumentError(
        "argon2 parallelism: must be 1 (libsodium hashes with a single lane)");
  }
  if (params.iterations < crypto_pwhash_argon2id_OPSLIMIT_MIN) {
    return absl::InvalidArgumentError("argon2 iterations: must be at least 1");
  }
  // memory_kib * 1024 cannot exceed crypto_pwhash_argon2id_MEMLIMIT_MAX
  // (4 TiB - 1 KiB on 64-bit) for any uint32 memory_kib.
  if (uint64_t{params.memory_kib} * 1024 < crypto_pwhash_argon2id_MEMLIMIT_MIN) {
    return absl::InvalidArgumentError("argon2 memory: must be at least 8 KiB");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> HashWith(const Argon2Params& params, std::string_view password) {
  char phc[crypto_pwhash_STRBYTES];
  errno = 0;
  if (crypto_pwhash_str_alg(phc, DataOf(password), password.size(), params.iterations,
                            size_t{params.memory_kib} * 1024,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    if (errno == ENOMEM) {
      return absl::ResourceExhaustedError("not enough memory to hash a password");
    }
    return absl::InternalError("password hashing failed");
  }
  return std::string(phc);
}

}  // namespace

absl::StatusOr<PasswordHasher> PasswordHasher::Create(const Argon2Params& params) {
  if (!SodiumReady()) return absl::InternalError("libsodium failed to initialize");
  if (absl::Status status = CheckParams(params); !status.ok()) return status;
  absl::StatusOr<std::string> dummy = HashWith(params, kDummyPassword);
  if (!dummy.ok()) return dummy.status();
  return PasswordHasher(params, *std::move(dummy));
}

absl::StatusOr<std::string> PasswordHasher::Hash(std::string_view password) const {
  return HashWith(params_, password);
}

absl::StatusOr<bool> PasswordHasher::Verify(std::string_view password,
                                            const std::string& phc) const {
  // Only well-formed Argon2id strings reach libsodium: its generic verifier
  // would also accept other algorithms, and a malformed string must not be
  // confused with a wrong password.
  if (!ParseArgon2idPhc(phc)) {
    return absl::InternalError("stored password hash is not an Argon2id v=19 PHC string");
  }
  errno = 0;
  if (crypto_pwhash_argon2id_str_verify(phc.c_str(), DataOf(password), password.size()) == 0) {
    return true;
  }
  // libsodium sets EINVAL only when the hash was computed and differs; a
  // field it cannot decode (short salt, t=0, bad base64 tail) leaves errno
  // alone.
  switch (errno) {
    case EINVAL:
      return false;
    case ENOMEM:
      return absl::ResourceExhaustedError("not enough memory to verify a password");
    default:
      return absl::InternalError("stored password hash has parameters libsodium rejects");
  }
}

bool PasswordHasher::NeedsRehash(const std::string& phc) const {
  // Parsed here rather than with crypto_pwhash_str_needs_rehash, which
  // compares only m and t and would keep a p=4 hash forever.
  const std::optional<Argon2Params> stored = ParseArgon2idPhc(phc);
  return !stored || *stored != params_;
}

void PasswordHasher::SpendOneHash(std::string_view password) const {
  // The answer (always false) and any error are irrelevant: only the time
  // spent matters.
  (void)Verify(password, dummy_phc_);
}

}  // namespace tollgate::auth
