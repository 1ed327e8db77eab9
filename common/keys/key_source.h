#pragma once

#include <functional>
#include <memory>

#include "common/token/jwk_set.h"

namespace tollgate {

// Where a verifier gets its keys. The interceptor asks for the current set on
// every call, and for a refresh when a token names a kid it does not hold
// (the issuer may have rotated keys since the last fetch).
class KeySource {
 public:
  virtual ~KeySource() = default;

  // The keys to verify with now. Never null; empty until the first keys
  // arrived.
  virtual std::shared_ptr<const JwkSet> Current() const = 0;

  // A token named a kid that Current() lacks. The source may fetch fresh
  // keys; either way it calls `done` exactly once, on any thread, when
  // Current() is as fresh as it will get for now. Never blocks the caller,
  // and never lets a flood of unknown kids turn into a flood of fetches.
  virtual void RefreshForUnknownKid(std::function<void()> done) { done(); }
};

// A fixed key set: the HS256 secret (JWT_SECRET_KEY), a JWKS file read at
// start-up, or the AuthService's own keys.
class StaticKeySource final : public KeySource {
 public:
  explicit StaticKeySource(JwkSet keys) : keys_(std::make_shared<const JwkSet>(std::move(keys))) {}
  std::shared_ptr<const JwkSet> Current() const override { return keys_; }

 private:
  std::shared_ptr<const JwkSet> keys_;
};

}  // namespace tollgate
