#include "client/session/file_token_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tollgate::client {
namespace {

constexpr int kFormatVersion = 1;
// A token file is a few KiB; anything much larger is not ours.
constexpr size_t kMaxFileBytes = 64 * 1024;

absl::Status ErrnoStatus(int error, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(error));
  if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

// Closes a descriptor on every path out of a function.
class FdCloser final {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// mkdir -p with mode 0700 for every folder it creates. Existing folders are
// left as they are (the token file itself is 0600 either way).
absl::Status MakeFolders(const std::string& folder) {
  struct stat st {};
  if (::stat(folder.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(folder, " is not a folder"));
  }
  if (errno != ENOENT) return ErrnoStatus(errno, absl::StrCat("cannot inspect ", folder));
  const std::string parent = ParentOf(folder);
  if (parent != folder) {
    if (absl::Status status = MakeFolders(parent); !status.ok()) return status;
  }
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("cannot create folder ", folder));
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write");
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

// An exclusive flock, released when the descriptor is closed.
class FlockLock final : public TokenStore::Lock {
 public:
  explicit FlockLock(int fd) : fd_(fd) {}
  ~FlockLock() override { ::close(fd_); }
  FlockLock(const FlockLock&) = delete;
  FlockLock& operator=(const FlockLock&) = delete;

 private:
  const int fd_;
};

// An optional integer member: 0 when absent (older files), false when it is
// there but not an integer.
bool ReadOptionalInteger(const nlohmann::json& json, const char* name, int64_t* value) {
  const auto it = json.find(name);
  if (it == json.end()) {
    *value = 0;
    return true;
  }
  if (!it->is_number_integer()) return false;
  *value = it->get<int64_t>();
  return true;
}

}  // namespace

FileTokenStore::FileTokenStore(std::string path) : path_(std::move(path)) {}

absl::StatusOr<SavedTokens> FileTokenStore::Load() {
  // O_NONBLOCK: a FIFO planted at the path must not hang us; it is then
  // refused as not a regular file.
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("no token file at ", path_));
    }
    return ErrnoStatus(errno, absl::StrCat("cannot open token file ", path_));
  }
  FdCloser closer(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, absl::StrCat("cannot stat ", path_));
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("token file ", path_, " is not a regular file"));
  }
  if (st.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(absl::StrCat("token file ", path_, " is owned by uid ",
                                                      st.st_uid, ", not by you (uid ",
                                                      ::geteuid(), ")"));
  }
  // The same rule as ssh for private keys: the token is a bearer credential,
  // anyone who can read it is logged in as you.
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "permissions %04o for token file %s are too open: it must not be accessible by group or "
        "others (run: chmod 600 %s)",
        st.st_mode & 07777, path_, path_));
  }
  if (static_cast<size_t>(st.st_size) > kMaxFileBytes) {
    return absl::FailedPreconditionError(absl::StrCat("token file ", path_, " is too large"));
  }

  std::string content;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("cannot read token file ", path_));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > kMaxFileBytes) {
      return absl::FailedPreconditionError(absl::StrCat("token file ", path_, " is too large"));
    }
  }

  const auto malformed = [&](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("token file ", path_, " is malformed (", why, ")"));
  };
  const nlohmann::json json = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return malformed("not a JSON object");
  const auto version = json.find("version");
  if (version == json.end() || !version->is_number_integer() ||
      version->get<int64_t>() != kFormatVersion) {
    return malformed("unknown version");
  }
  SavedTokens tokens;
  for (auto [name, field] : {std::pair{"access_token", &tokens.access_token},
                             std::pair{"refresh_token", &tokens.refresh_token},
                             std::pair{"email", &tokens.email}}) {
    const auto it = json.find(name);
    if (it == json.end() || !it->is_string()) return malformed(absl::StrCat("no ", name));
    *field = it->get<std::string>();
  }
  const auto expires_at = json.find("access_expires_at");
  if (expires_at == json.end() || !expires_at->is_number_integer()) {
    return malformed("no access_expires_at");
  }
  tokens.access_expires_at_unix_seconds = expires_at->get<int64_t>();
  if (!ReadOptionalInteger(json, "access_expires_in", &tokens.access_lifetime_seconds)) {
    return malformed("access_expires_in is not an integer");
  }
  if (!ReadOptionalInteger(json, "refresh_expires_at", &tokens.refresh_expires_at_unix_seconds)) {
    return malformed("refresh_expires_at is not an integer");
  }
  if (tokens.refresh_token.empty()) return malformed("empty refresh_token");
  return tokens;
}

absl::Status FileTokenStore::Save(const SavedTokens& tokens) {
  const std::string folder = ParentOf(path_);
  if (absl::Status status = MakeFolders(folder); !status.ok()) return status;

  const nlohmann::json json = {
      {"version", kFormatVersion},
      {"email", tokens.email},
      {"access_token", tokens.access_token},
      {"access_expires_at", tokens.access_expires_at_unix_seconds},
      {"access_expires_in", tokens.access_lifetime_seconds},
      {"refresh_token", tokens.refresh_token},
      {"refresh_expires_at", tokens.refresh_expires_at_unix_seconds},
  };
  const std::string content = json.dump(2) + "\n";

  // mkostemp creates the file with O_EXCL and mode 0600 (whatever the
  // umask), so the tokens are never readable by others, even briefly, and a
  // file or symlink planted at the temporary name is never followed.
  std::string temporary = path_ + ".tmp.XXXXXX";
  std::vector<char> name(temporary.begin(), temporary.end());
  name.push_back('\0');
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot create a file in ", folder));
  temporary = name.data();
  FdCloser closer(fd);
  const auto fail = [&](absl::Status status) {
    ::unlink(temporary.c_str());
    return status;
  };
  if (::fchmod(fd, 0600) != 0) return fail(ErrnoStatus(errno, "fchmod " + temporary));
  if (absl::Status status = WriteAll(fd, content); !status.ok()) return fail(status);
  if (::fsync(fd) != 0) return fail(ErrnoStatus(errno, "fsync " + temporary));
  if (::close(closer.Release()) != 0) return fail(ErrnoStatus(errno, "close " + temporary));
  if (::rename(temporary.c_str(), path_.c_str()) != 0) {
    return fail(ErrnoStatus(errno, absl::StrCat("cannot replace ", path_)));
  }
  // Make the rename itself durable; failing here loses nothing already
  // visible, so it is best effort.
  if (const int folder_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      folder_fd >= 0) {
    ::fsync(folder_fd);
    ::close(folder_fd);
  }
  return absl::OkStatus();
}

absl::Status FileTokenStore::Clear() {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("cannot delete token file ", path_));
  }
  if (::unlink(lock_path().c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("cannot delete ", lock_path()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TokenStore::Lock>> FileTokenStore::LockForRefresh() {
  if (absl::Status status = MakeFolders(ParentOf(path_)); !status.ok()) return status;
  // O_NOFOLLOW: a symlink planted at the lock path (in a shared folder such
  // as /tmp) must not make us create or truncate a file elsewhere.
  const int fd =
      ::open(lock_path().c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open ", lock_path()));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int error = errno;
    ::close(fd);
    return ErrnoStatus(error, absl::StrCat("cannot lock ", lock_path()));
  }
  return std::make_unique<FlockLock>(fd);
}

}  // namespace tollgate::client
