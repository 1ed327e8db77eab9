#pragma once

// Access tokens minted with the real issuer for the auth tests, so that only
// the property under test (key, issuer, audience, roles, time) is wrong.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/token/access_token_issuer.h"
#include "common/token/jwk.h"
#include "tests/support/test_keys.h"

namespace tollgate::testing {

class TokenMinter {
 public:
  explicit TokenMinter(Jwk signing_key, AccessTokenOptions options = {})
      : random_(std::make_unique<CountingRandomSource>()),
        issuer_(std::move(signing_key), std::move(options), *random_) {}

  // A signed access token for `subject` with `roles`, issued at `now`
  // (exp = now + ttl). Fails the test and returns "" if minting fails.
  IssuedAccessToken Issue(std::vector<std::string> roles, int64_t now_unix_seconds,
                          std::string subject = "user-1") const {
    auto issued = issuer_.Issue(
        TokenSubject{std::move(subject), "user-1@example.com", std::move(roles)}, now_unix_seconds);
    if (!issued.ok()) {
      ADD_FAILURE() << "minting a test token failed: " << issued.status();
      return {};
    }
    return *std::move(issued);
  }

  std::string Mint(std::vector<std::string> roles, int64_t now_unix_seconds,
                   std::string subject = "user-1") const {
    return Issue(std::move(roles), now_unix_seconds, std::move(subject)).token;
  }

 private:
  std::unique_ptr<CountingRandomSource> random_;
  AccessTokenIssuer issuer_;
};

}  // namespace tollgate::testing
