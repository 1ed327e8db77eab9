#include "fuzz/fixed_keys.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace tollgate::fuzz {

// Generated with Python's `cryptography` (P-256, Ed25519, RSA-2048 e=65537);
// the oct key is the base64url of "tollgate fuzz HS256 secret, not a real one
// (32+ bytes)".
const std::string_view kFixedPrivateJwks = R"json({
  "keys": [
    {
      "kty": "EC",
      "crv": "P-256",
      "kid": "fuzz-es256",
      "alg": "ES256",
      "use": "sig",
      "x": "b_44OhUddt1mVCiHLQxxZd58_C_MSPXu8ILFmXTr73Y",
      "y": "cy5okkMSQG2TPA96FV7kQypE0-0X6kFvGdqPkEUkYjk",
      "d": "1DnKw_eIEYAtH28Zu5Wn1YtPFJW0oNWcZ_gizXot7wA"
    },
    {
      "kty": "OKP",
      "crv": "Ed25519",
      "kid": "fuzz-eddsa",
      "alg": "EdDSA",
      "use": "sig",
      "x": "bo1iun0jfku2qW-Qf1-0hTdgYP7hR-TIelL4SKjuNME",
      "d": "_YDLJzTnJOkv-z8AQhmEUuDJft3Kg9k1Zlk7gz6c9lU"
    },
    {
      "kty": "RSA",
      "kid": "fuzz-rs256",
      "alg": "RS256",
      "use": "sig",
      "n": "j9edyH8xlmXHj7xNsuZQINNwXyjABVIaBoH5n83fFWwgQNVc-jsu2uZfqSiTeg_B6Bb6ySL0abNpLH4wxbc0B7a1PNApSG-8CfYNTZcJ01OFPFfmu9f2CQDOfjWnkNovJxBwu_An6yIK2rHIHfu0MQG6EAYPp7l_wPwHs4hkkLbMnLlTYFnL1-2WtITYN7X5UXDgX_9ZOQX4u_Rj7HGN6uSxSsPBwIZ2XBDBEAj-w8dynMJ7YW67EV9Ui4rck7Pj_r1ecQ_c0UAMowVkjeWKNaa5G522J5BICeSRaY8XWogs_yppENPARm0oJLjGbLXZVOx7e2Vw7jONJ524WokTpw",
      "e": "AQAB",
      "d": "Bjc7Cj701ZrwVLW-ZcyuCb0ZTgNkyNYTadSUBOPQkAxsGGEf83A7RhpOZ_Do7o1fw7e6fpaUGT03fkS1ttWD2hF7I3WbUxYA-i03xfKQ6iDh0Qm7XsKmTx1Jzwpig0_qWbXMKVLnZrHB5lFoZGNMFhINCEQ6yPSrIJvDeW6baeVrtre-s6MuzbwECTvEmuTD0PHunedItiN3TgqwvMZ1TF_KuKujEKI0nYDessMYWYZ1ifOlm0j2QRqFh1uDNkqj7gRUsOUUxEy6um6nx_7w1IJiCTD-tqgz6TpUzI83GAyuTtl9vY4TdASwSGJsBuCUYKBYhTDv_wUHxZdVvRUaAQ",
      "p": "yhwc_5fP04zdlBxDhKuyPhygp6qEvrKCZgfUQpQZZ-xUgnBQ6h3-TtCQYkoBkbRhKuGYQt0vtFe15EmDj-pvLGp4ws6TTmAdOpnaPAZEmvpBFZYRPix5dMZNhijiVNu2EtuIKWI3uJpNF_IArRWtihikl4xabNho6kP8SjRXPJc",
      "q": "tjIyQWYEr-TXcXzK7EFnpP7HlUnq0bgI3ca_Vi8yW0CiWAgoBM7kPrZlO7u-GuzLm5S65LnjxLsJvjCUFYmksnUl_YM69brDc2CL3LgyNzyNi1WLwQ1EJwWOi1pYiuDUa4meN9BA0fgLbQcVtiYqAQZW-SDPP2NwWZzXXdcc83E",
      "dp": "G-f_1QbIKmSj36R7aiEu7kaTpDL2O0J4oM_p7ft2-pN2I8CQW5Minw1LMlcXml-2nu4hUPIreRI3SjsgUEnFafOVkwhk7Ih24LWHnYwcAu4U-H8NCHGpn4cWAzU38xGXNUlcpqIqIXIkvO6sSznYCV5Xs5ksjyTeb6JNfo11kic",
      "dq": "c0nkHxntEVhfM8LhrQneCbvmkwMJAdfQVHW1EVYgKToHAGl42UIJj91exaORMfxxAmvkr2MpS42HJsAalF5ax0n11is6HdAmaVXIasxriiRY9LgXDPvWClMr1eY_bPHDuKCGa47t1W9922nGRVJ09d0LH-2w9s13hF0Isqqx-SE",
      "qi": "kyFvEucG8MbDNsG1biVB-G-wsmU4mUOdPKhsdgtKPOS8PZY9A-uMZsxCMSYMt81JLc1MHvu56-9bc4x4n-R8eSZTtbCBGjX4lXGjTWzpnnr9PcC6iqW7ChSywIqW0zxKuoCBfjfix_r_FtwusTGI-qVF_txtSUQJvO8QI__4V5s"
    },
    {
      "kty": "oct",
      "kid": "fuzz-hs256",
      "alg": "HS256",
      "use": "sig",
      "k": "dG9sbGdhdGUgZnV6eiBIUzI1NiBzZWNyZXQsIG5vdCBhIHJlYWwgb25lICgzMisgYnl0ZXMp"
    }
  ]
})json";

const JwkSet& FixedKeySet() {
  static const JwkSet* const keys = [] {
    auto parsed = JwkSet::FromJson(kFixedPrivateJwks);
    if (!parsed.ok() || parsed->keys().size() != 4) {
      std::fprintf(stderr, "fixed fuzz keys do not load: %s\n",
                   std::string(parsed.status().message()).c_str());
      std::abort();
    }
    return new JwkSet(*std::move(parsed));
  }();
  return *keys;
}

const Jwk& FixedKey(std::string_view kid) {
  const Jwk* key = FixedKeySet().Find(kid);
  if (key == nullptr) {
    std::fprintf(stderr, "no fixed fuzz key %s\n", std::string(kid).c_str());
    std::abort();
  }
  return *key;
}

}  // namespace tollgate::fuzz
