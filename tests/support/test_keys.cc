#include "tests/support/test_keys.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <iostream>

#include "common/openssl_ptr.h"

namespace tollgate::testing {
namespace {

[[noreturn]] void Die(const char* what) {
  std::cerr << "test key generation failed: " << what << "\n";
  std::abort();
}

}  // namespace

std::string GeneratePrivateKeyPem(JwsAlgorithm algorithm) {
  EVP_PKEY* raw = nullptr;
  switch (algorithm) {
    case JwsAlgorithm::kES256: raw = EVP_EC_gen("P-256"); break;
    case JwsAlgorithm::kEdDSA: raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
    case JwsAlgorithm::kRS256: raw = EVP_RSA_gen(2048); break;
    case JwsAlgorithm::kHS256: Die("HS256 has no PEM form");
  }
  EvpPkeyPtr key(raw);
  if (!key) Die("keygen");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    Die("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

Jwk GenerateKey(JwsAlgorithm algorithm) {
  absl::StatusOr<Jwk> key = absl::InternalError("unset");
  if (algorithm == JwsAlgorithm::kHS256) {
    std::string secret(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), 32) != 1) Die("RAND_bytes");
    key = Jwk::FromHmacSecret(secret);
  } else {
    key = Jwk::FromPrivateKeyPem(GeneratePrivateKeyPem(algorithm));
  }
  if (!key.ok()) Die("Jwk import");
  return *std::move(key);
}

absl::StatusOr<std::string> CountingRandomSource::Bytes(size_t count) {
  std::string out(count, '\0');
  for (char& c : out) c = static_cast<char>(next_++);
  return out;
}

}  // namespace tollgate::testing
