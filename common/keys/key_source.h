#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/token/jwk_set.h"

namespace tollgate {

// Where a verifier gets its keys. The authenticator reads version() on
// every call, asks for the current set to verify a token it has not cached,
// and for a refresh when a token names a kid it does not hold (the issuer
// may have rotated keys since the last fetch).
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

  // A number that changes whenever Current() changes and never repeats, so
  // a verdict reached with one set is checked against the set in use by
  // comparing two numbers, without copying the set (and touching its
  // shared reference count) on every call. Read it before Current() when
  // pairing the two: a set that changes in between is then paired with an
  // older number, which only costs a verification more, never a newer one.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

 protected:
  // Every source calls this after each change of what Current() returns
  // (a source that forgets would let verdicts made with withdrawn keys
  // stand).
  void KeysChanged() { version_.fetch_add(1, std::memory_order_release); }

 private:
  std::atomic<uint64_t> version_{0};
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
