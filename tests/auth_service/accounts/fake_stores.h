#pragma once

// In-memory fakes of the store interfaces in auth_service/store/, for unit
// tests of the account services (auth_service/accounts/) without PostgreSQL.
// They keep state like the Postgres implementations do and answer with the
// same codes and messages (see the contracts in the interface headers and
// postgres_*.cc):
//
//   - unique email keys: ALREADY_EXISTS "already exists" (as PostgresPool
//     maps a unique violation);
//   - NOT_FOUND "user not found" for an unknown or non-UUID id;
//   - FAILED_PRECONDITION "roles: cannot remove the admin role from the last
//     active admin" / "active: cannot deactivate the last active admin";
//   - codes are spent once: INVALID_ARGUMENT "invalid or expired code";
//   - UNAUTHENTICATED "invalid refresh token" for a refresh token not to be
//     honoured.
//
// The four stores share one FakeDatabase, so a password reset spent through
// the code store changes the user the user store returns, as one database
// would. FailNextCall() makes the next call on any store answer UNAVAILABLE
// "database unavailable", without touching the state. calls() counts every
// store call of any kind (also refused ones), and mails() keeps every mail
// queued in the outbox. Thread-safe (one mutex), so a gRPC server on worker
// threads can use them.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth_service/mail/mail_message.h"
#include "auth_service/store/login_failure_store.h"
#include "auth_service/store/one_time_code_store.h"
#include "auth_service/store/session_store.h"
#include "auth_service/store/user_record.h"
#include "auth_service/store/user_store.h"
#include "auth_service/tokens/opaque_token.h"
#include "common/random_source.h"

namespace tollgate::testing {

// The store vocabulary, spelled short in this header.
using auth::CodeHolder;
using auth::CreatedUser;
using auth::CodeKind;
using auth::IssuedCode;
using auth::LoginAttemptKey;
using auth::LoginFailureState;
using auth::LoginFailureStore;
using auth::NewSession;
using auth::NewUser;
using auth::OneTimeCodeStore;
using auth::OutgoingMail;
using auth::ProfileChange;
using auth::RefreshLifetimes;
using auth::RotatedSession;
using auth::SessionStore;
using auth::UserCursor;
using auth::UserRecord;
using auth::UserStore;

// Deterministic random bytes that do not repeat (SplitMix64 over a
// counter). tests/support's CountingRandomSource repeats after 256 bytes,
// i.e. every 8 refresh tokens, which a store keyed by token hash cannot
// tell apart.
class SeededRandomSource final : public RandomSource {
 public:
  explicit SeededRandomSource(uint64_t seed = 42) : state_(seed) {}
  absl::StatusOr<std::string> Bytes(size_t count) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    out.reserve(count);
    while (out.size() < count) {
      uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      for (int i = 0; i < 8 && out.size() < count; ++i) {
        out.push_back(static_cast<char>((z >> (8 * i)) & 0xff));
      }
    }
    return out;
  }

 private:
  std::mutex mutex_;
  uint64_t state_;
};

// The shared state of the four fake stores.
class FakeDatabase {
 public:
  struct Family {
    std::string user_id;
    int64_t expires_at = 0;
    bool revoked = false;
  };
  struct RefreshToken {
    std::string family_id;
    int64_t expires_at = 0;
    std::optional<int64_t> used_at;
    std::string successor_hash_hex;
  };
  struct Code {
    CodeKind kind = CodeKind::kPasswordReset;
    std::string user_id;
    std::string email;
    int64_t expires_at = 0;
  };
  struct FailureRow {
    int failures = 0;
    int64_t locked_until = 0;
    int64_t last_failure_at = 0;
  };

  // The next store call (of any store) answers UNAVAILABLE.
  void FailNextCall() {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_next_ = true;
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }
  std::vector<OutgoingMail> mails() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return mails_;
  }
  // Users whose every session was revoked (ChangePassword, ResetPassword,
  // SetActive(false)), in order.
  std::vector<std::string> sessions_revoked_for() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sessions_revoked_for_;
  }
  size_t live_codes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return codes_.size();
  }
  size_t session_families() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return families_.size();
  }

  // Direct access for arranging a test (no call counted).
  UserRecord AddUser(NewUser user, int64_t now, bool active = true, bool verified = false) {
    std::lock_guard<std::mutex> lock(mutex_);
    UserRecord record = InsertUser(std::move(user), now);
    record.is_active = active;
    record.is_verified = verified;
    users_[record.id] = record;
    return record;
  }
  std::optional<UserRecord> User(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = users_.find(id);
    if (it == users_.end()) return std::nullopt;
    return it->second;
  }

 private:
  friend class InMemoryUserStore;
  friend class InMemorySessionStore;
  friend class InMemoryOneTimeCodeStore;
  friend class InMemoryLoginFailureStore;

  // Counts the call; UNAVAILABLE if FailNextCall was set. Holds the lock.
  absl::Status Enter() {
    ++calls_;
    if (fail_next_) {
      fail_next_ = false;
      return absl::UnavailableError("database unavailable");
    }
    return absl::OkStatus();
  }

  UserRecord InsertUser(NewUser user, int64_t now) {
    char id[40];
    std::snprintf(id, sizeof(id), "a0000000-0000-4000-8000-%012llx",
                  static_cast<unsigned long long>(++next_user_));
    UserRecord record;
    record.id = id;
    record.email = std::move(user.email);
    record.email_key = std::move(user.email_key);
    record.first_name = std::move(user.first_name);
    record.last_name = std::move(user.last_name);
    record.password_hash = std::move(user.password_hash);
    record.roles = std::move(user.roles);
    record.created_at = now;
    record.updated_at = now;
    return record;
  }

  UserRecord* FindByKey(const std::string& email_key) {
    for (auto& [id, user] : users_) {
      if (user.email_key == email_key) return &user;
    }
    return nullptr;
  }

  std::vector<std::string> ActiveAdmins() const {
    std::vector<std::string> admins;
    for (const auto& [id, user] : users_) {
      if (user.is_active && user.HasRole("admin")) admins.push_back(id);
    }
    return admins;
  }
  bool IsLastActiveAdmin(const std::string& user_id) const {
    const std::vector<std::string> admins = ActiveAdmins();
    return admins.size() == 1 && admins[0] == user_id;
  }

  int64_t StartSessionLocked(const std::string& user_id, const NewSession& session, int64_t now) {
    const int64_t session_expires_at = now + session.lifetimes.session_seconds;
    const int64_t token_expires_at =
        std::min(now + session.lifetimes.idle_seconds, session_expires_at);
    const std::string family_id = "family-" + std::to_string(++next_family_);
    families_[family_id] = Family{user_id, session_expires_at, false};
    tokens_[session.refresh_token_hash_hex] =
        RefreshToken{family_id, token_expires_at, std::nullopt, ""};
    return token_expires_at;
  }

  void RevokeAllSessionsLocked(const std::string& user_id) {
    for (auto& [id, family] : families_) {
      if (family.user_id == user_id) family.revoked = true;
    }
    sessions_revoked_for_.push_back(user_id);
  }

  void IssueCodeLocked(const std::string& user_id, const IssuedCode& code) {
    std::erase_if(codes_, [&](const auto& entry) {
      return entry.second.user_id == user_id && entry.second.kind == code.kind;
    });
    codes_[code.code_hash_hex] = Code{code.kind, user_id, code.email, code.expires_at};
  }

  // The live code, spent (erased) when `spend`.
  std::optional<Code> LiveCode(const std::string& hash, CodeKind kind, int64_t now, bool spend) {
    auto it = codes_.find(hash);
    if (it == codes_.end() || it->second.kind != kind || it->second.expires_at <= now) {
      return std::nullopt;
    }
    Code code = it->second;
    if (spend) codes_.erase(it);
    return code;
  }

  mutable std::mutex mutex_;
  int calls_ = 0;
  bool fail_next_ = false;
  uint64_t next_user_ = 0;
  uint64_t next_family_ = 0;
  std::map<std::string, UserRecord> users_;
  std::map<std::string, Family> families_;
  std::map<std::string, RefreshToken> tokens_;  // by hex SHA-256
  std::map<std::string, Code> codes_;           // by hex SHA-256
  // (account key, client); client "" is the account-wide row.
  std::map<std::pair<std::string, std::string>, FailureRow> failures_;
  std::vector<OutgoingMail> mails_;
  std::vector<std::string> sessions_revoked_for_;
};

inline absl::Status FakeUserNotFound() { return absl::NotFoundError("user not found"); }
inline absl::Status FakeInvalidCode() {
  return absl::InvalidArgumentError("invalid or expired code");
}

class InMemoryUserStore final : public UserStore {
 public:
  explicit InMemoryUserStore(FakeDatabase& db) : db_(db) {}

  absl::StatusOr<CreatedUser> CreateUser(const NewUser& user, const NewSession& session,
                                         int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    if (db_.FindByKey(user.email_key) != nullptr) {
      return absl::AlreadyExistsError("already exists");
    }
    UserRecord record = db_.InsertUser(user, now);
    db_.users_[record.id] = record;
    const int64_t expires_at = db_.StartSessionLocked(record.id, session, now);
    return CreatedUser{record, expires_at};
  }

  absl::StatusOr<UserRecord> UpsertAdmin(const NewUser& user, int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    if (UserRecord* existing = db_.FindByKey(user.email_key); existing != nullptr) {
      existing->password_hash = user.password_hash;
      existing->is_active = true;
      existing->updated_at = now;
      std::vector<std::string> roles = existing->roles;
      roles.push_back("user");
      roles.push_back("admin");
      std::sort(roles.begin(), roles.end());
      roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
      existing->roles = roles;
      return *existing;
    }
    NewUser admin = user;
    admin.roles = {"user", "admin"};
    UserRecord record = db_.InsertUser(std::move(admin), now);
    db_.users_[record.id] = record;
    return record;
  }

  absl::StatusOr<std::optional<UserRecord>> FindByEmailKey(const std::string& email_key) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    const UserRecord* user = db_.FindByKey(email_key);
    if (user == nullptr) return std::optional<UserRecord>();
    return std::optional<UserRecord>(*user);
  }

  absl::StatusOr<UserRecord> FindById(const std::string& user_id) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    auto it = db_.users_.find(user_id);
    if (!auth::IsCanonicalUuid(user_id) || it == db_.users_.end()) {
      return FakeUserNotFound();
    }
    return it->second;
  }

  absl::Status UpgradePasswordHash(const std::string& user_id, const std::string& password_hash,
                                   int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    auto it = db_.users_.find(user_id);
    if (it != db_.users_.end()) {
      it->second.password_hash = password_hash;
      it->second.updated_at = now;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<UserRecord> UpdateProfile(const std::string& user_id, const ProfileChange& change,
                                           int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    auto it = db_.users_.find(user_id);
    if (!auth::IsCanonicalUuid(user_id) || it == db_.users_.end()) {
      return FakeUserNotFound();
    }
    if (change.email_key.has_value()) {
      const UserRecord* holder = db_.FindByKey(*change.email_key);
      if (holder != nullptr && holder->id != user_id) {
        return absl::AlreadyExistsError("already exists");
      }
    }
    UserRecord& user = it->second;
    if (change.first_name.has_value()) user.first_name = *change.first_name;
    if (change.last_name.has_value()) user.last_name = *change.last_name;
    if (change.email.has_value()) user.email = *change.email;
    if (change.email_key.has_value()) {
      user.email_key = *change.email_key;
      user.is_verified = false;  // a new mailbox: unverified
    }
    user.updated_at = now;
    if (change.verification.has_value()) db_.IssueCodeLocked(user_id, *change.verification);
    for (const OutgoingMail& mail : change.mails) db_.mails_.push_back(mail);
    return user;
  }

  absl::StatusOr<int64_t> ChangePassword(const std::string& user_id,
                                         const std::string& password_hash,
                                         const NewSession& fresh, int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    auto it = db_.users_.find(user_id);
    if (it == db_.users_.end()) return FakeUserNotFound();
    it->second.password_hash = password_hash;
    it->second.updated_at = now;
    db_.RevokeAllSessionsLocked(user_id);
    return db_.StartSessionLocked(user_id, fresh, now);
  }

  absl::StatusOr<std::vector<UserRecord>> ListUsers(const std::optional<UserCursor>& after,
                                                    int limit) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    std::vector<UserRecord> all;
    for (const auto& [id, user] : db_.users_) all.push_back(user);
    std::sort(all.begin(), all.end(), [](const UserRecord& a, const UserRecord& b) {
      return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
    });
    std::vector<UserRecord> page;
    for (const UserRecord& user : all) {
      if (static_cast<int>(page.size()) >= limit) break;
      if (after.has_value() &&
          std::tie(user.created_at, user.id) <= std::tie(after->created_at, after->id)) {
        continue;
      }
      page.push_back(user);
    }
    return page;
  }

  absl::StatusOr<UserRecord> SetRoles(const std::string& user_id,
                                      const std::vector<std::string>& roles,
                                      int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    if (!auth::IsCanonicalUuid(user_id)) return FakeUserNotFound();
    const bool keeps_admin = std::find(roles.begin(), roles.end(), "admin") != roles.end();
    if (!keeps_admin && db_.IsLastActiveAdmin(user_id)) {
      return absl::FailedPreconditionError(
          "roles: cannot remove the admin role from the last active admin");
    }
    auto it = db_.users_.find(user_id);
    if (it == db_.users_.end()) return FakeUserNotFound();
    it->second.roles = roles;
    it->second.updated_at = now;
    return it->second;
  }

  absl::StatusOr<UserRecord> SetActive(const std::string& user_id, bool active,
                                       int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    if (!auth::IsCanonicalUuid(user_id)) return FakeUserNotFound();
    if (!active && db_.IsLastActiveAdmin(user_id)) {
      return absl::FailedPreconditionError("active: cannot deactivate the last active admin");
    }
    auto it = db_.users_.find(user_id);
    if (it == db_.users_.end()) return FakeUserNotFound();
    it->second.is_active = active;
    it->second.updated_at = now;
    if (!active) db_.RevokeAllSessionsLocked(user_id);
    return it->second;
  }

 private:
  FakeDatabase& db_;
};

class InMemorySessionStore final : public SessionStore {
 public:
  explicit InMemorySessionStore(FakeDatabase& db) : db_(db) {}

  absl::StatusOr<int64_t> StartSession(const std::string& user_id, const NewSession& session,
                                       int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    return db_.StartSessionLocked(user_id, session, now);
  }

  absl::StatusOr<RotatedSession> Rotate(const std::string& token_hash_hex,
                                        const std::string& successor_hash_hex, int64_t now,
                                        const RefreshLifetimes& lifetimes) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    const absl::Status invalid = absl::UnauthenticatedError("invalid refresh token");
    auto token = db_.tokens_.find(token_hash_hex);
    if (token == db_.tokens_.end()) return invalid;
    FakeDatabase::Family& family = db_.families_.at(token->second.family_id);
    auto user = db_.users_.find(family.user_id);
    const bool session_live = !family.revoked && family.expires_at > now &&
                              user != db_.users_.end() && user->second.is_active;
    if (!session_live) return invalid;
    if (!token->second.used_at.has_value()) {
      if (token->second.expires_at <= now) return invalid;
      const int64_t successor_expires_at =
          std::min(now + lifetimes.idle_seconds, family.expires_at);
      token->second.used_at = now;
      token->second.successor_hash_hex = successor_hash_hex;
      db_.tokens_[successor_hash_hex] = FakeDatabase::RefreshToken{
          token->second.family_id, successor_expires_at, std::nullopt, ""};
      return RotatedSession{user->second, successor_expires_at};
    }
    auto successor = db_.tokens_.find(successor_hash_hex);
    if (now - *token->second.used_at <= lifetimes.grace_seconds &&
        successor != db_.tokens_.end() && !successor->second.used_at.has_value() &&
        successor->second.expires_at > now) {
      return RotatedSession{user->second, successor->second.expires_at};
    }
    family.revoked = true;  // reuse of a spent token
    return invalid;
  }

  absl::Status RevokeSessions(const std::string& token_hash_hex, bool all_sessions,
                              int64_t /*now*/) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    auto token = db_.tokens_.find(token_hash_hex);
    if (token == db_.tokens_.end()) return absl::OkStatus();
    FakeDatabase::Family& family = db_.families_.at(token->second.family_id);
    if (all_sessions) {
      for (auto& [id, other] : db_.families_) {
        if (other.user_id == family.user_id) other.revoked = true;
      }
    } else {
      family.revoked = true;
    }
    return absl::OkStatus();
  }

 private:
  FakeDatabase& db_;
};

class InMemoryOneTimeCodeStore final : public OneTimeCodeStore {
 public:
  explicit InMemoryOneTimeCodeStore(FakeDatabase& db) : db_(db) {}

  absl::Status IssueCode(const std::string& user_id, const IssuedCode& code,
                         const std::vector<OutgoingMail>& mails, int64_t /*now*/) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    db_.IssueCodeLocked(user_id, code);
    for (const OutgoingMail& mail : mails) db_.mails_.push_back(mail);
    return absl::OkStatus();
  }

  absl::StatusOr<CodeHolder> FindLiveCode(const std::string& code_hash_hex, CodeKind kind,
                                          int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    auto code = db_.LiveCode(code_hash_hex, kind, now, /*spend=*/false);
    if (!code.has_value()) return FakeInvalidCode();
    return CodeHolder{code->user_id, code->email};
  }

  absl::StatusOr<UserRecord> ResetPassword(const std::string& code_hash_hex,
                                           const std::string& password_hash,
                                           int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    auto code = db_.LiveCode(code_hash_hex, CodeKind::kPasswordReset, now, /*spend=*/true);
    if (!code.has_value()) return FakeInvalidCode();
    auto user = db_.users_.find(code->user_id);
    if (user == db_.users_.end()) return FakeInvalidCode();
    user->second.password_hash = password_hash;
    user->second.updated_at = now;
    db_.RevokeAllSessionsLocked(code->user_id);
    const std::string account_key = auth::Sha256Hex(user->second.email_key);
    std::erase_if(db_.failures_,
                  [&](const auto& entry) { return entry.first.first == account_key; });
    return user->second;
  }

  absl::StatusOr<UserRecord> VerifyEmail(const std::string& code_hash_hex, int64_t now) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    auto code = db_.LiveCode(code_hash_hex, CodeKind::kEmailVerification, now, /*spend=*/true);
    if (!code.has_value()) return FakeInvalidCode();
    auto user = db_.users_.find(code->user_id);
    // The code is spent either way.
    if (user == db_.users_.end() || user->second.email != code->email) return FakeInvalidCode();
    user->second.is_verified = true;
    user->second.updated_at = now;
    return user->second;
  }

 private:
  FakeDatabase& db_;
};

class InMemoryLoginFailureStore final : public LoginFailureStore {
 public:
  explicit InMemoryLoginFailureStore(FakeDatabase& db) : db_(db) {}

  absl::StatusOr<LoginFailureState> Read(const LoginAttemptKey& key) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    LoginFailureState state;
    if (auto it = db_.failures_.find({key.account_key_hex, key.client_address});
        it != db_.failures_.end()) {
      state.client_failures = it->second.failures;
      state.locked_until = std::max(state.locked_until, it->second.locked_until);
    }
    if (auto it = db_.failures_.find({key.account_key_hex, ""}); it != db_.failures_.end()) {
      state.account_failures = it->second.failures;
      state.locked_until = std::max(state.locked_until, it->second.locked_until);
    }
    return state;
  }

  absl::StatusOr<LoginFailureState> RecordFailure(const LoginAttemptKey& key, int64_t now,
                                                  int64_t forget_before,
                                                  int64_t (*client_lockout)(int failures),
                                                  int64_t (*account_lockout)(int failures)) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    LoginFailureState state;
    const auto count = [&](const std::string& client, int64_t (*lockout)(int)) {
      auto [it, inserted] = db_.failures_.try_emplace({key.account_key_hex, client});
      FakeDatabase::FailureRow& row = it->second;
      row.failures = (inserted || row.last_failure_at < forget_before) ? 1 : row.failures + 1;
      row.last_failure_at = now;
      if (const int64_t wait = lockout(row.failures); wait > 0) {
        row.locked_until = now + wait;
        state.locked_until = std::max(state.locked_until, now + wait);
      }
      return row.failures;
    };
    state.client_failures = count(key.client_address, client_lockout);
    state.account_failures = count("", account_lockout);
    return state;
  }

  absl::Status RecordSuccess(const LoginAttemptKey& key) override {
    std::lock_guard<std::mutex> lock(db_.mutex_);
    if (auto status = db_.Enter(); !status.ok()) return status;
    db_.failures_.erase({key.account_key_hex, key.client_address});
    db_.failures_.erase({key.account_key_hex, ""});
    return absl::OkStatus();
  }

 private:
  FakeDatabase& db_;
};

// The four stores over one FakeDatabase, and a counter for the services'
// `mail_queued` hook.
struct FakeStores {
  FakeDatabase db;
  InMemoryUserStore users{db};
  InMemorySessionStore sessions{db};
  InMemoryOneTimeCodeStore codes{db};
  InMemoryLoginFailureStore login_failures{db};
  std::atomic<int> mail_queued_calls{0};

  std::function<void()> MailQueuedHook() {
    return [this] { mail_queued_calls.fetch_add(1); };
  }
};

}  // namespace tollgate::testing
