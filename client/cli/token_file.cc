#include "client/cli/token_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tollgate::cli {
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

}  // namespace

SavedTokens SavedTokens::FromAuthResponse(const auth::v1::AuthResponse& response,
                                          int64_t now_unix_seconds) {
  SavedTokens tokens;
  tokens.access_token = response.access_token();
  tokens.refresh_token = response.refresh_token();
  tokens.access_expires_at_unix_seconds = now_unix_seconds + response.expires_in();
  tokens.email = response.user().email();
  return tokens;
}

TokenFile::TokenFile(std::string path) : path_(std::move(path)) {}

absl::StatusOr<SavedTokens> TokenFile::Load() const {
  // O_NONBLOCK: a FIFO planted at the path must not hang us; it is then
  // refused as not a regular file.
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("not logged in: no token file at ", path_, " (run 'tollgate login')"));
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
    return absl::FailedPreconditionError(absl::StrCat(
        "token file ", path_, " is malformed (", why, "); run 'tollgate login' again"));
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
  if (tokens.refresh_token.empty()) return malformed("empty refresh_token");
  return tokens;
}

absl::Status TokenFile::Save(const SavedTokens& tokens) const {
  const std::string folder = ParentOf(path_);
  if (absl::Status status = MakeFolders(folder); !status.ok()) return status;

  const nlohmann::json json = {
      {"version", kFormatVersion},
      {"email", tokens.email},
      {"access_token", tokens.access_token},
      {"access_expires_at", tokens.access_expires_at_unix_seconds},
      {"refresh_token", tokens.refresh_token},
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

absl::Status TokenFile::Remove() const {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("cannot delete token file ", path_));
  }
  if (::unlink(lock_path().c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("cannot delete ", lock_path()));
  }
  return absl::OkStatus();
}

TokenFile::Lock::Lock(Lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

TokenFile::Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

absl::StatusOr<TokenFile::Lock> TokenFile::LockExclusive() const {
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
  return Lock(fd);
}

}  // namespace tollgate::cli
