#include "common/token/jws.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

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

// Appends one 32-byte big-endian half of r||s as a DER INTEGER: leading
// zero octets dropped (at least one octet kept), 0x00 prepended when the top
// bit is set so the value stays non-negative (X.690 section 8.3).
void AppendDerInteger(std::string& der, const unsigned char* half) {
  size_t skip = 0;
  while (skip < 31 && half[skip] == 0) ++skip;
  const bool pad = (half[skip] & 0x80) != 0;
  der.push_back(0x02);
  der.push_back(static_cast<char>(32 - skip + (pad ? 1 : 0)));
  if (pad) der.push_back('\0');
  der.append(reinterpret_cast<const char*>(half + skip), 32 - skip);
}

// Fixed 64-byte r||s -> DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs), the
// only form OpenSSL's verifier takes. Written by hand, without BIGNUMs: it
// runs on every ES256 verification. At most 2 + 2 * 35 = 72 bytes, so every
// length fits the short form. Same bytes as i2d_ECDSA_SIG; the Wycheproof
// P1363 vectors (small, zero and high-bit r and s) and
// JwsEs256Test.VerifiesEverySignatureShape hold it there.
std::string RawEcdsaToDer(std::string_view raw) {
  std::string der;
  der.reserve(72);
  der.push_back(0x30);
  der.push_back('\0');  // the length, set below
  AppendDerInteger(der, Bytes(raw));
  AppendDerInteger(der, Bytes(raw) + 32);
  der[1] = static_cast<char>(der.size() - 2);
  return der;
}

// ASCII only, whatever the process locale: "NONE" and "none" are one value,
// and no locale can make another byte equal to them.
char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
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

TokenResult<VerifiedJwsBytes> JwsVerifyCompactBytes(std::string_view token, const JwkSet& keys,
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

  auto header_bytes = Base64UrlDecode(header_b64);
  if (!header_bytes) return TokenError::kMalformed;
  // Views into *header_bytes: used up before it is moved into the result.
  const auto header = FlatJsonObject::Parse(*header_bytes);
  if (!header.ok()) return header.error();
  const FlatJsonObject& h = header.value();

  const FlatJsonMember* alg = h.Find("alg");
  if (alg == nullptr || alg->kind != FlatJsonMember::Kind::kString) {
    return TokenError::kUnsupportedAlgorithm;
  }
  // "none", "None", "NONE": all are requests to skip the signature.
  if (IsNone(alg->string)) return TokenError::kUnsecuredAlgorithm;
  const auto algorithm = AlgorithmFromName(alg->string);
  if (!algorithm) return TokenError::kUnsupportedAlgorithm;

  // A token must never choose the key that verifies it.
  for (const char* member : {"jku", "x5u", "jwk", "x5c"}) {
    if (h.Find(member) != nullptr) return TokenError::kEmbeddedKey;
  }
  // RFC 7515 section 4.1.11: a critical extension we do not implement means
  // we cannot know what the signer meant, so refuse.
  if (h.Find("crit") != nullptr) return TokenError::kUnknownCritical;

  if (!required_type.empty()) {
    const FlatJsonMember* typ = h.Find("typ");
    if (typ == nullptr || typ->kind != FlatJsonMember::Kind::kString ||
        !TypeMatches(typ->string, required_type)) {
      return TokenError::kWrongType;
    }
  }

  const Jwk* key = nullptr;
  if (const FlatJsonMember* kid = h.Find("kid"); kid != nullptr) {
    if (kid->kind != FlatJsonMember::Kind::kString) return TokenError::kMalformed;
    key = keys.Find(kid->string);
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

  auto payload_bytes = Base64UrlDecode(payload_b64);
  if (!payload_bytes) return TokenError::kMalformed;
  return VerifiedJwsBytes{*std::move(header_bytes), *std::move(payload_bytes), key};
}

TokenResult<VerifiedJws> JwsVerifyCompact(std::string_view token, const JwkSet& keys,
                                          std::string_view required_type) {
  auto verified = JwsVerifyCompactBytes(token, keys, required_type);
  if (!verified.ok()) return verified.error();
  // The header was read by the same parser with the same rules: it parses.
  auto header = ParseStrictJsonObject(verified.value().header);
  if (!header.ok()) return header.error();
  auto payload = ParseStrictJsonObject(verified.value().payload);
  if (!payload.ok()) return payload.error();
  return VerifiedJws{std::move(header).value(), std::move(payload).value(), verified.value().key};
}

}  // namespace tollgate
