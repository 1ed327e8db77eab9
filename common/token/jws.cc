#include "common/token/jws.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/openssl_ptr.h"
#include "common/token/base64url.h"
#include "common/token/strict_json.h"

namespace tollgate {
namespace {

constexpr size_t kEs256SignatureBytes = 64;
constexpr size_t kEd25519SignatureBytes = 64;
constexpr size_t kHs256TagBytes = 32;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Digest (nullptr for EdDSA, which hashes internally) for an asymmetric alg.
const EVP_MD* DigestFor(JwsAlgorithm algorithm) {
  return algorithm == JwsAlgorithm::kEdDSA ? nullptr : EVP_sha256();
}

std::string HmacSha256(std::string_view secret, std::string_view data) {
  std::string tag(kHs256TagBytes, '\0');
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), Bytes(data), data.size(),
       reinterpret_cast<unsigned char*>(tag.data()), &size);
  tag.resize(size);
  return tag;
}

// DER ECDSA-Sig-Value -> fixed 64-byte r||s.
std::string DerToRawEcdsa(std::string_view der) {
  const unsigned char* p = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return {};
  std::string raw(kEs256SignatureBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32) != 32) {
    return {};
  }
  return raw;
}

// Fixed 64-byte r||s -> DER, the only form OpenSSL's verifier takes.
std::string RawEcdsaToDer(std::string_view raw) {
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(raw), 32, nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(raw) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  unsigned char* der = nullptr;
  const int size = i2d_ECDSA_SIG(sig.get(), &der);
  if (size <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), size);
  OPENSSL_free(der);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsNone(std::string_view alg) { return EqualsIgnoreCase(alg, "none"); }

// RFC 7515 section 4.1.9: media types compare case-insensitively and the
// "application/" prefix may be left out.
bool TypeMatches(std::string_view typ, std::string_view required) {
  constexpr std::string_view kPrefix = "application/";
  if (typ.size() > kPrefix.size() && EqualsIgnoreCase(typ.substr(0, kPrefix.size()), kPrefix)) {
    typ.remove_prefix(kPrefix.size());
  }
  return EqualsIgnoreCase(typ, required);
}

}  // namespace

absl::StatusOr<std::string> JwsSign(const Jwk& key, std::string_view signing_input) {
  if (!key.has_private_key()) {
    return absl::FailedPreconditionError("signing needs a private key");
  }
  if (key.algorithm() == JwsAlgorithm::kHS256) return HmacSha256(key.secret(), signing_input);

  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(key.algorithm()), nullptr, key.pkey()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, Bytes(signing_input), signing_input.size()) != 1) {
    return absl::InternalError("EVP_DigestSign failed");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     Bytes(signing_input), signing_input.size()) != 1) {
    return absl::InternalError("EVP_DigestSign failed");
  }
  signature.resize(size);
  if (key.algorithm() == JwsAlgorithm::kES256) {
    signature = DerToRawEcdsa(signature);
    if (signature.empty()) return absl::InternalError("cannot convert the ECDSA signature");
  }
  return signature;
}

bool JwsVerify(const Jwk& key, std::string_view signing_input, std::string_view signature) {
  switch (key.algorithm()) {
    case JwsAlgorithm::kHS256: {
      // Length first, then a constant-time compare: a byte-by-byte early exit
      // would let an attacker find the tag one byte at a time.
      if (signature.size() != kHs256TagBytes) return false;
      const std::string expected = HmacSha256(key.secret(), signing_input);
      return expected.size() == kHs256TagBytes &&
             CRYPTO_memcmp(expected.data(), signature.data(), kHs256TagBytes) == 0;
    }
    case JwsAlgorithm::kES256: {
      // Only raw r||s: accepting DER too would make signatures malleable in
      // encoding and break "one token, one byte string".
      if (signature.size() != kEs256SignatureBytes) return false;
      const std::string der = RawEcdsaToDer(signature);
      if (der.empty()) return false;
      EvpMdCtxPtr ctx(EVP_MD_CTX_new());
      return ctx &&
             EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.pkey()) == 1 &&
             EVP_DigestVerify(ctx.get(), Bytes(der), der.size(), Bytes(signing_input),
                              signing_input.size()) == 1;
    }
    case JwsAlgorithm::kEdDSA:
      if (signature.size() != kEd25519SignatureBytes) return false;
      [[fallthrough]];
    case JwsAlgorithm::kRS256: {
      EvpMdCtxPtr ctx(EVP_MD_CTX_new());
      return ctx &&
             EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(key.algorithm()), nullptr,
                                  key.pkey()) == 1 &&
             EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(),
                              Bytes(signing_input), signing_input.size()) == 1;
    }
  }
  return false;
}

absl::StatusOr<std::string> JwsSignCompact(const Jwk& key, std::string_view header_json,
                                           std::string_view payload) {
  std::string token = absl::StrCat(Base64UrlEncode(header_json), ".", Base64UrlEncode(payload));
  auto signature = JwsSign(key, token);
  if (!signature.ok()) return signature.status();
  absl::StrAppend(&token, ".", Base64UrlEncode(*signature));
  return token;
}

TokenResult<VerifiedJws> JwsVerifyCompact(std::string_view token, const JwkSet& keys,
                                          std::string_view required_type) {
  if (token.size() > kMaxTokenBytes) return TokenError::kTooLarge;

  const size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) return TokenError::kMalformed;
  const size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return TokenError::kMalformed;
  }
  // The signature covers the bytes as received; never re-serialize.
  const std::string_view signing_input = token.substr(0, second_dot);
  const std::string_view header_b64 = token.substr(0, first_dot);
  const std::string_view payload_b64 = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_b64 = token.substr(second_dot + 1);

  const auto header_bytes = Base64UrlDecode(header_b64);
  if (!header_bytes) return TokenError::kMalformed;
  auto header = ParseStrictJsonObject(*header_bytes);
  if (!header.ok()) return header.error();
  const nlohmann::json& h = header.value();

  const auto alg = h.find("alg");
  if (alg == h.end() || !alg->is_string()) return TokenError::kUnsupportedAlgorithm;
  const std::string& alg_name = alg->get_ref<const std::string&>();
  // "none", "None", "NONE": all are requests to skip the signature.
  if (IsNone(alg_name)) return TokenError::kUnsecuredAlgorithm;
  const auto algorithm = AlgorithmFromName(alg_name);
  if (!algorithm) return TokenError::kUnsupportedAlgorithm;

  // A token must never choose the key that verifies it.
  for (const char* member : {"jku", "x5u", "jwk", "x5c"}) {
    if (h.contains(member)) return TokenError::kEmbeddedKey;
  }
  // RFC 7515 section 4.1.11: a critical extension we do not implement means
  // we cannot know what the signer meant, so refuse.
  if (h.contains("crit")) return TokenError::kUnknownCritical;

  if (!required_type.empty()) {
    const auto typ = h.find("typ");
    if (typ == h.end() || !typ->is_string() ||
        !TypeMatches(typ->get_ref<const std::string&>(), required_type)) {
      return TokenError::kWrongType;
    }
  }

  const Jwk* key = nullptr;
  if (const auto kid = h.find("kid"); kid != h.end()) {
    if (!kid->is_string()) return TokenError::kMalformed;
    key = keys.Find(kid->get_ref<const std::string&>());
  } else if (keys.keys().size() == 1) {
    key = &keys.keys().front();
  }
  if (key == nullptr) return TokenError::kUnknownKid;
  // The key decides the algorithm: an RS256 public key must never be used as
  // an HS256 secret because the header says HS256.
  if (key->algorithm() != *algorithm) return TokenError::kAlgorithmMismatch;

  const auto signature = Base64UrlDecode(signature_b64);
  if (!signature) return TokenError::kMalformed;
  if (!JwsVerify(*key, signing_input, *signature)) return TokenError::kBadSignature;

  const auto payload_bytes = Base64UrlDecode(payload_b64);
  if (!payload_bytes) return TokenError::kMalformed;
  auto payload = ParseStrictJsonObject(*payload_bytes);
  if (!payload.ok()) return payload.error();
  return VerifiedJws{std::move(header).value(), std::move(payload).value(), key};
}

}  // namespace tollgate
