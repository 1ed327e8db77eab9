#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tollgate/auth/v1/auth.pb.h"

namespace tollgate::cli {

// The token pair that login keeps between invocations.
struct SavedTokens {
  std::string access_token;
  std::string refresh_token;
  // AuthResponse.expires_in turned into an absolute time when it arrived.
  int64_t access_expires_at_unix_seconds = 0;
  std::string email;

  // The pair of `response`, received at `now_unix_seconds`.
  static SavedTokens FromAuthResponse(const auth::v1::AuthResponse& response,
                                      int64_t now_unix_seconds);
};

// The token file: a small JSON object
//   {"version":1,"email":"...","access_token":"...","access_expires_at":N,
//    "refresh_token":"..."}
// that holds bearer credentials, so it is treated like an ssh private key:
// - Save creates the folder (and missing parents) with mode 0700, writes a
//   temporary file in the same folder that is created 0600 with O_EXCL
//   (mkstemp) so it is never readable by others, not even for a moment,
//   fsyncs it and renames it over the file: a reader sees the old file or
//   the new one, never a torn one.
// - Load refuses a file that group or others may access, that another user
//   owns, or that is not a regular file (FAILED_PRECONDITION, with the chmod
//   that fixes it): a token readable by others is a token leaked.
// - Remove deletes the file and its lock file; OK if they are absent.
// Paths are used as given; nothing here reads the environment.
class TokenFile final {
 public:
  explicit TokenFile(std::string path);

  const std::string& path() const { return path_; }

  // NOT_FOUND "not logged in: no token file at PATH (run 'tollgate login')";
  // FAILED_PRECONDITION for a file with open permissions, another owner, not
  // a regular file, or malformed content; PERMISSION_DENIED / INTERNAL when
  // it cannot be opened or read.
  [[nodiscard]] absl::StatusOr<SavedTokens> Load() const;

  // INTERNAL (or PERMISSION_DENIED) with the failing step and errno text.
  [[nodiscard]] absl::Status Save(const SavedTokens& tokens) const;

  [[nodiscard]] absl::Status Remove() const;

  // An exclusive advisory lock (flock) on "PATH.lock", held until the Lock
  // is destroyed. Refreshing happens under it, so that two invocations that
  // find the same expiring pair do not both spend its refresh token (the
  // second would be seen as reuse and end the session).
  class Lock final {
   public:
    Lock(Lock&& other) noexcept;
    Lock& operator=(Lock&& other) = delete;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    ~Lock();

   private:
    friend class TokenFile;
    explicit Lock(int fd) : fd_(fd) {}
    int fd_;
  };
  [[nodiscard]] absl::StatusOr<Lock> LockExclusive() const;

 private:
  std::string lock_path() const { return path_ + ".lock"; }

  const std::string path_;
};

}  // namespace tollgate::cli
