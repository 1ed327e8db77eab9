#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/session/token_store.h"

namespace tollgate::client {

// A TokenStore in a file: a small JSON object
//   {"version":1,"email":"...","access_token":"...","access_expires_at":N,
//    "access_expires_in":N,"refresh_token":"...","refresh_expires_at":N}
// (absolute times in Unix seconds; access_expires_in and refresh_expires_at
// are 0 when unknown and may be absent in older files). It holds bearer
// credentials, so it is treated like an ssh private key:
// - Save creates the folder (and missing parents) with mode 0700, writes a
//   temporary file in the same folder that is created 0600 with O_EXCL
//   (mkstemp) so it is never readable by others, not even for a moment,
//   fsyncs it and renames it over the file: a reader sees the old file or
//   the new one, never a torn one.
// - Load refuses a file that group or others may access, that another user
//   owns, or that is not a regular file (FAILED_PRECONDITION, with the chmod
//   that fixes it): a token readable by others is a token leaked.
// - Clear deletes the file and its lock file; OK if they are absent.
// - LockForRefresh is an exclusive flock on "PATH.lock", so processes that
//   share the file refresh one at a time (see TokenStore::Lock).
// Paths are used as given; nothing here reads the environment.
class FileTokenStore final : public TokenStore {
 public:
  explicit FileTokenStore(std::string path);

  const std::string& path() const { return path_; }

  // NOT_FOUND "no token file at PATH"; FAILED_PRECONDITION for a file with
  // open permissions, another owner, not a regular file, or malformed
  // content ("token file PATH is malformed (...)"); PERMISSION_DENIED /
  // INTERNAL when it cannot be opened or read.
  [[nodiscard]] absl::StatusOr<SavedTokens> Load() override;

  // INTERNAL (or PERMISSION_DENIED) with the failing step and errno text.
  [[nodiscard]] absl::Status Save(const SavedTokens& tokens) override;

  [[nodiscard]] absl::Status Clear() override;

  [[nodiscard]] absl::StatusOr<std::unique_ptr<Lock>> LockForRefresh() override;

 private:
  std::string lock_path() const { return path_ + ".lock"; }

  const std::string path_;
};

}  // namespace tollgate::client
