#include "common/token/jwk.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/openssl_ptr.h"
#include "common/token/base64url.h"

namespace tollgate {
namespace {

constexpr size_t kP256CoordinateBytes = 32;
constexpr size_t kEd25519KeyBytes = 32;

absl::Status Invalid(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("invalid JWK: ", what));
}

// Reads a base64url member. Absent optional members give nullopt; a present
// member must be a strictly encoded string.
absl::StatusOr<std::optional<std::string>> Base64Member(const nlohmann::json& jwk,
                                                        const char* name, bool required) {
  const auto it = jwk.find(name);
  if (it == jwk.end()) {
    if (required) return Invalid(absl::StrCat("member '", name, "' is required"));
    return std::optional<std::string>();
  }
  if (!it->is_string()) return Invalid(absl::StrCat("member '", name, "' must be a string"));
  auto bytes = Base64UrlDecode(it->get_ref<const std::string&>());
  if (!bytes) return Invalid(absl::StrCat("member '", name, "' is not base64url"));
  return std::optional<std::string>(std::move(*bytes));
}

BignumPtr ToBignum(std::string_view bytes) {
  return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                             static_cast<int>(bytes.size()), nullptr));
}

std::string BignumBytes(const BIGNUM* bn, int pad_to = 0) {
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn);
  std::string out(size, '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size) != size) return {};
  return out;
}

std::string BignumParam(EVP_PKEY* pkey, const char* name, int pad_to = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return {};
  BignumPtr bn(raw);
  return BignumBytes(bn.get(), pad_to);
}

// Builds a key from OSSL_PARAMs ("EC" or "RSA").
absl::StatusOr<EvpPkeyPtr> KeyFromParams(const char* type, OSSL_PARAM_BLD* builder,
                                         bool has_private) {
  OsslParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey,
                        has_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return Invalid(absl::StrCat("OpenSSL refused the ", type, " key"));
  }
  EvpPkeyPtr owned(pkey);
  if (has_private) {
    // A private key whose public half does not match would sign tokens that
    // the published JWKS cannot verify.
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) {
      return Invalid("private key does not match its public key");
    }
  }
  return owned;
}

// RFC 7638: SHA-256 over the required members, lexicographically ordered and
// without whitespace (nlohmann's object is a sorted map; dump() is compact).
std::string Rfc7638Thumbprint(const nlohmann::json& required_members) {
  const std::string canonical = required_members.dump();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
}

absl::StatusOr<EvpPkeyPtr> EcKeyFromJson(const nlohmann::json& jwk) {
  const auto crv = jwk.find("crv");
  if (crv == jwk.end() || *crv != "P-256") return Invalid("EC keys must have crv P-256");
  auto x = Base64Member(jwk, "x", true);
  if (!x.ok()) return x.status();
  auto y = Base64Member(jwk, "y", true);
  if (!y.ok()) return y.status();
  auto d = Base64Member(jwk, "d", false);
  if (!d.ok()) return d.status();
  if ((*x)->size() != kP256CoordinateBytes || (*y)->size() != kP256CoordinateBytes) {
    return Invalid("P-256 coordinates must be 32 bytes");
  }
  if (*d && (*d)->size() != kP256CoordinateBytes) return Invalid("P-256 'd' must be 32 bytes");
  // Uncompressed point; OpenSSL refuses points that are not on the curve,
  // which stops invalid-curve attacks on ECDH-style misuse of the key.
  const std::string point = "\x04" + **x + **y;
  OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
  BignumPtr private_scalar;
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return absl::InternalError("OSSL_PARAM_BLD failed");
  }
  if (*d) {
    private_scalar = ToBignum(**d);
    if (!private_scalar ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, private_scalar.get()) != 1) {
      return absl::InternalError("OSSL_PARAM_BLD failed");
    }
  }
  return KeyFromParams("EC", builder.get(), d->has_value());
}

absl::StatusOr<EvpPkeyPtr> OkpKeyFromJson(const nlohmann::json& jwk) {
  const auto crv = jwk.find("crv");
  if (crv == jwk.end() || *crv != "Ed25519") return Invalid("OKP keys must have crv Ed25519");
  auto x = Base64Member(jwk, "x", true);
  if (!x.ok()) return x.status();
  auto d = Base64Member(jwk, "d", false);
  if (!d.ok()) return d.status();
  if ((*x)->size() != kEd25519KeyBytes) return Invalid("Ed25519 'x' must be 32 bytes");
  const auto* x_bytes = reinterpret_cast<const unsigned char*>((*x)->data());
  if (!*d) {
    EvpPkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, x_bytes, kEd25519KeyBytes));
    if (!key) return Invalid("OpenSSL refused the Ed25519 key");
    return key;
  }
  if ((*d)->size() != kEd25519KeyBytes) return Invalid("Ed25519 'd' must be 32 bytes");
  EvpPkeyPtr key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>((*d)->data()),
      kEd25519KeyBytes));
  if (!key) return Invalid("OpenSSL refused the Ed25519 key");
  unsigned char derived[kEd25519KeyBytes];
  size_t derived_size = sizeof(derived);
  if (EVP_PKEY_get_raw_public_key(key.get(), derived, &derived_size) != 1 ||
      derived_size != kEd25519KeyBytes || std::string_view(reinterpret_cast<char*>(derived), derived_size) != **x) {
    return Invalid("private key does not match its public key");
  }
  return key;
}

absl::StatusOr<EvpPkeyPtr> RsaKeyFromJson(const nlohmann::json& jwk) {
  struct Member {
    const char* jwk_name;
    const char* param_name;
  };
  static constexpr Member kPublic[] = {{"n", OSSL_PKEY_PARAM_RSA_N}, {"e", OSSL_PKEY_PARAM_RSA_E}};
  static constexpr Member kPrivate[] = {
      {"d", OSSL_PKEY_PARAM_RSA_D},           {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
      {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},     {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
      {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},  {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
  OsslParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder) return absl::InternalError("OSSL_PARAM_BLD failed");
  std::vector<BignumPtr> numbers;  // must outlive OSSL_PARAM_BLD_to_param
  auto push = [&](const Member& member, bool required) -> absl::StatusOr<bool> {
    auto bytes = Base64Member(jwk, member.jwk_name, required);
    if (!bytes.ok()) return bytes.status();
    if (!*bytes) return false;
    // RFC 7518 section 6.3.1: no leading zero octets, so one key has one
    // encoding (and one thumbprint).
    if ((*bytes)->empty() || (**bytes)[0] == '\0') {
      return Invalid(absl::StrCat("member '", member.jwk_name, "' has leading zero octets"));
    }
    numbers.push_back(ToBignum(**bytes));
    if (!numbers.back() ||
        OSSL_PARAM_BLD_push_BN(builder.get(), member.param_name, numbers.back().get()) != 1) {
      return absl::InternalError("OSSL_PARAM_BLD failed");
    }
    return true;
  };
  for (const auto& member : kPublic) {
    auto pushed = push(member, true);
    if (!pushed.ok()) return pushed.status();
  }
  if (BN_num_bits(numbers[0].get()) < Jwk::kMinRsaBits) {
    return Invalid(absl::StrCat("RSA modulus must be at least ", Jwk::kMinRsaBits, " bits"));
  }
  if (!BN_is_odd(numbers[1].get()) || BN_is_one(numbers[1].get())) {
    return Invalid("RSA exponent must be odd and greater than 1");
  }
  int private_members = 0;
  for (const auto& member : kPrivate) {
    auto pushed = push(member, false);
    if (!pushed.ok()) return pushed.status();
    private_members += *pushed ? 1 : 0;
  }
  if (private_members != 0 && private_members != 6) {
    return Invalid("an RSA private key needs all of d, p, q, dp, dq, qi");
  }
  return KeyFromParams("RSA", builder.get(), private_members == 6);
}

}  // namespace

std::string_view AlgorithmName(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kES256: return "ES256";
    case JwsAlgorithm::kEdDSA: return "EdDSA";
    case JwsAlgorithm::kRS256: return "RS256";
    case JwsAlgorithm::kHS256: return "HS256";
  }
  return "";
}

std::optional<JwsAlgorithm> AlgorithmFromName(std::string_view name) {
  for (auto algorithm : {JwsAlgorithm::kES256, JwsAlgorithm::kEdDSA, JwsAlgorithm::kRS256,
                         JwsAlgorithm::kHS256}) {
    if (AlgorithmName(algorithm) == name) return algorithm;
  }
  return std::nullopt;
}

absl::StatusOr<Jwk> Jwk::FromPkey(EVP_PKEY* owned_pkey, bool has_private_key) {
  Jwk key;
  key.pkey_.reset(owned_pkey, EVP_PKEY_free);
  key.has_private_key_ = has_private_key;
  switch (EVP_PKEY_get_base_id(owned_pkey)) {
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t group_size = 0;
      if (EVP_PKEY_get_group_name(owned_pkey, group, sizeof(group), &group_size) != 1 ||
          std::string_view(group) != "prime256v1") {
        return Invalid("EC keys must be on P-256");
      }
      key.algorithm_ = JwsAlgorithm::kES256;
      const std::string x = BignumParam(owned_pkey, OSSL_PKEY_PARAM_EC_PUB_X, kP256CoordinateBytes);
      const std::string y = BignumParam(owned_pkey, OSSL_PKEY_PARAM_EC_PUB_Y, kP256CoordinateBytes);
      if (x.empty() || y.empty()) return absl::InternalError("cannot read the EC public key");
      key.required_members_ = {{"crv", "P-256"}, {"kty", "EC"},
                               {"x", Base64UrlEncode(x)}, {"y", Base64UrlEncode(y)}};
      break;
    }
    case EVP_PKEY_ED25519: {
      key.algorithm_ = JwsAlgorithm::kEdDSA;
      std::string x(kEd25519KeyBytes, '\0');
      size_t size = x.size();
      if (EVP_PKEY_get_raw_public_key(owned_pkey, reinterpret_cast<unsigned char*>(x.data()),
                                      &size) != 1 || size != kEd25519KeyBytes) {
        return absl::InternalError("cannot read the Ed25519 public key");
      }
      key.required_members_ = {{"crv", "Ed25519"}, {"kty", "OKP"}, {"x", Base64UrlEncode(x)}};
      break;
    }
    case EVP_PKEY_RSA: {
      if (EVP_PKEY_get_bits(owned_pkey) < kMinRsaBits) {
        return Invalid(absl::StrCat("RSA modulus must be at least ", kMinRsaBits, " bits"));
      }
      key.algorithm_ = JwsAlgorithm::kRS256;
      const std::string n = BignumParam(owned_pkey, OSSL_PKEY_PARAM_RSA_N);
      const std::string e = BignumParam(owned_pkey, OSSL_PKEY_PARAM_RSA_E);
      if (n.empty() || e.empty()) return absl::InternalError("cannot read the RSA public key");
      key.required_members_ = {{"e", Base64UrlEncode(e)}, {"kty", "RSA"}, {"n", Base64UrlEncode(n)}};
      break;
    }
    default:
      return Invalid("unsupported key type (use EC P-256, Ed25519 or RSA >= 2048 bits)");
  }
  key.thumbprint_ = Rfc7638Thumbprint(key.required_members_);
  key.kid_ = key.thumbprint_;
  return key;
}

absl::StatusOr<Jwk> Jwk::FromHmacSecret(std::string_view secret) {
  if (secret.size() < kMinHmacSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("an HS256 secret must be at least ", kMinHmacSecretBytes, " bytes"));
  }
  Jwk key;
  key.algorithm_ = JwsAlgorithm::kHS256;
  key.secret_ = std::string(secret);
  key.has_private_key_ = true;
  key.required_members_ = {{"k", Base64UrlEncode(secret)}, {"kty", "oct"}};
  key.thumbprint_ = Rfc7638Thumbprint(key.required_members_);
  key.kid_ = key.thumbprint_;
  return key;
}

absl::StatusOr<Jwk> Jwk::FromJson(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return Invalid("not a JSON object");
  const auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) return Invalid("member 'kty' is required");
  if (const auto use = jwk.find("use"); use != jwk.end() && *use != "sig") {
    return Invalid("'use' must be \"sig\"");
  }
  absl::StatusOr<Jwk> key = Invalid("unsupported kty (use EC, OKP, RSA or oct)");
  if (*kty == "oct") {
    auto secret = Base64Member(jwk, "k", true);
    if (!secret.ok()) return secret.status();
    key = FromHmacSecret(**secret);
  } else {
    absl::StatusOr<EvpPkeyPtr> pkey = Invalid("unsupported kty (use EC, OKP, RSA or oct)");
    if (*kty == "EC") pkey = EcKeyFromJson(jwk);
    if (*kty == "OKP") pkey = OkpKeyFromJson(jwk);
    if (*kty == "RSA") pkey = RsaKeyFromJson(jwk);
    if (!pkey.ok()) return pkey.status();
    key = FromPkey(pkey->release(), jwk.contains("d"));
  }
  if (!key.ok()) return key.status();
  if (const auto alg = jwk.find("alg"); alg != jwk.end()) {
    // A JWK that says RS256 for an HMAC secret (or the reverse) is the
    // classic algorithm-confusion set-up: refuse it outright.
    if (!alg->is_string() || *alg != AlgorithmName(key->algorithm())) {
      return Invalid(absl::StrCat("'alg' does not match the key type (expected ",
                                  std::string(AlgorithmName(key->algorithm())), ")"));
    }
  }
  if (const auto kid = jwk.find("kid"); kid != jwk.end()) {
    if (!kid->is_string() || kid->get_ref<const std::string&>().empty()) {
      return Invalid("'kid' must be a non-empty string");
    }
    key->kid_ = kid->get<std::string>();
  }
  return key;
}

absl::StatusOr<Jwk> Jwk::FromPrivateKeyPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return absl::InternalError("BIO_new_mem_buf failed");
  // Refuse encrypted keys instead of letting OpenSSL prompt on the terminal.
  auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError("not a PEM private key (or it is encrypted)");
  }
  return FromPkey(pkey, /*has_private_key=*/true);
}

absl::StatusOr<Jwk> Jwk::FromPrivateKeyPemFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read key file ", path));
  std::stringstream contents;
  contents << file.rdbuf();
  auto key = FromPrivateKeyPem(contents.str());
  if (!key.ok()) {
    return absl::Status(key.status().code(), absl::StrCat(path, ": ", key.status().message()));
  }
  return key;
}

std::optional<nlohmann::json> Jwk::ToPublicJson() const {
  if (is_symmetric()) return std::nullopt;
  nlohmann::json out = required_members_;
  out["kid"] = kid_;
  out["alg"] = AlgorithmName(algorithm_);
  out["use"] = "sig";
  return out;
}

Jwk Jwk::WithKid(std::string kid) const {
  Jwk copy = *this;
  copy.kid_ = std::move(kid);
  return copy;
}

}  // namespace tollgate
