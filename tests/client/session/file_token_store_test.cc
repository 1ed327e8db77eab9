#include "client/session/file_token_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/client/temp_dir.h"

namespace tollgate::client {
namespace {

using cli::testing::TempDir;

SavedTokens SampleTokens(const std::string& suffix = "") {
  SavedTokens tokens;
  tokens.access_token = "eyJhbGciOiJIUzI1NiJ9.e30.sig" + suffix;
  tokens.refresh_token = "tgr_refresh" + suffix;
  tokens.access_expires_at_unix_seconds = 1'800'000'900;
  tokens.access_lifetime_seconds = 900;
  tokens.refresh_expires_at_unix_seconds = 1'800'604'800;
  tokens.email = "ada@example.com";
  return tokens;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Sets the umask for one test and restores it.
class ScopedUmask final {
 public:
  explicit ScopedUmask(mode_t mask) : saved_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(saved_); }

 private:
  mode_t saved_;
};

class FileTokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  std::string PathIn(const std::string& name) const { return dir_.path() + "/" + name; }

  TempDir dir_;
};

TEST_F(FileTokenStoreTest, SaveCreatesTheFileWithMode0600EvenWithAPermissiveUmask) {
  ScopedUmask umask(0);
  FileTokenStore file(PathIn("tokens.json"));
  ASSERT_TRUE(file.Save(SampleTokens()).ok());
  EXPECT_EQ(ModeOf(file.path()), 0600u);
}

TEST_F(FileTokenStoreTest, SaveCreatesMissingFoldersWithMode0700) {
  ScopedUmask umask(0);
  FileTokenStore file(PathIn(".config/tollgate/tokens.json"));
  ASSERT_TRUE(file.Save(SampleTokens()).ok());
  EXPECT_EQ(ModeOf(PathIn(".config")), 0700u);
  EXPECT_EQ(ModeOf(PathIn(".config/tollgate")), 0700u);
  EXPECT_EQ(ModeOf(file.path()), 0600u);
}

TEST_F(FileTokenStoreTest, SaveThenLoadRoundTrips) {
  FileTokenStore file(PathIn("tokens.json"));
  ASSERT_TRUE(file.Save(SampleTokens()).ok());
  absl::StatusOr<SavedTokens> loaded = file.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->access_token, "eyJhbGciOiJIUzI1NiJ9.e30.sig");
  EXPECT_EQ(loaded->refresh_token, "tgr_refresh");
  EXPECT_EQ(loaded->access_expires_at_unix_seconds, 1'800'000'900);
  EXPECT_EQ(loaded->access_lifetime_seconds, 900);
  EXPECT_EQ(loaded->refresh_expires_at_unix_seconds, 1'800'604'800);
  EXPECT_EQ(loaded->email, "ada@example.com");
}

// Files written before the lifetimes were kept still load, with 0 for
// "unknown".
TEST_F(FileTokenStoreTest, AFileWithoutTheLifetimesLoadsWithZeros) {
  FileTokenStore file(PathIn("tokens.json"));
  {
    std::ofstream out(file.path());
    out << R"({"version":1,"access_token":"a","refresh_token":"tgr_r","email":"e",)"
        << R"("access_expires_at":1800000900})";
  }
  ASSERT_EQ(::chmod(file.path().c_str(), 0600), 0);
  absl::StatusOr<SavedTokens> loaded = file.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->access_expires_at_unix_seconds, 1'800'000'900);
  EXPECT_EQ(loaded->access_lifetime_seconds, 0);
  EXPECT_EQ(loaded->refresh_expires_at_unix_seconds, 0);
}

TEST_F(FileTokenStoreTest, TheFileIsTheDocumentedJson) {
  FileTokenStore file(PathIn("tokens.json"));
  ASSERT_TRUE(file.Save(SampleTokens()).ok());
  EXPECT_EQ(ReadAll(file.path()),
            "{\n"
            "  \"access_expires_at\": 1800000900,\n"
            "  \"access_expires_in\": 900,\n"
            "  \"access_token\": \"eyJhbGciOiJIUzI1NiJ9.e30.sig\",\n"
            "  \"email\": \"ada@example.com\",\n"
            "  \"refresh_expires_at\": 1800604800,\n"
            "  \"refresh_token\": \"tgr_refresh\",\n"
            "  \"version\": 1\n"
            "}\n");
}

TEST_F(FileTokenStoreTest, SaveReplacesTheFileAtomicallyByRename) {
  FileTokenStore file(PathIn("tokens.json"));
  ASSERT_TRUE(file.Save(SampleTokens("-old")).ok());
  // A reader that opened the old file keeps reading the complete old
  // content: the new one is a different inode renamed over the name, not
  // the old file truncated and rewritten in place.
  const int old_fd = ::open(file.path().c_str(), O_RDONLY);
  ASSERT_GE(old_fd, 0);
  struct stat old_stat {};
  ASSERT_EQ(::fstat(old_fd, &old_stat), 0);

  ASSERT_TRUE(file.Save(SampleTokens("-new")).ok());

  struct stat new_stat {};
  ASSERT_EQ(::stat(file.path().c_str(), &new_stat), 0);
  EXPECT_NE(new_stat.st_ino, old_stat.st_ino);
  std::string old_content(4096, '\0');
  const ssize_t n = ::pread(old_fd, old_content.data(), old_content.size(), 0);
  ::close(old_fd);
  ASSERT_GT(n, 0);
  old_content.resize(static_cast<size_t>(n));
  EXPECT_NE(old_content.find("tgr_refresh-old"), std::string::npos) << old_content;
  EXPECT_EQ(file.Load()->refresh_token, "tgr_refresh-new");

  // No temporary file is left behind.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>({"tokens.json"}));
}

TEST_F(FileTokenStoreTest, SaveOverAnOpenFileLeavesMode0600) {
  FileTokenStore file(PathIn("tokens.json"));
  ASSERT_TRUE(file.Save(SampleTokens()).ok());
  ASSERT_EQ(::chmod(file.path().c_str(), 0644), 0);
  ASSERT_TRUE(file.Save(SampleTokens()).ok());
  EXPECT_EQ(ModeOf(file.path()), 0600u);
}

TEST_F(FileTokenStoreTest, LoadRefusesAFileThatGroupOrOthersCanAccess) {
  FileTokenStore file(PathIn("tokens.json"));
  ASSERT_TRUE(file.Save(SampleTokens()).ok());
  ASSERT_EQ(::chmod(file.path().c_str(), 0644), 0);
  absl::StatusOr<SavedTokens> loaded = file.Load();
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(loaded.status().message(),
            "permissions 0644 for token file " + file.path() +
                " are too open: it must not be accessible by group or others (run: chmod 600 " +
                file.path() + ")");
  for (const mode_t mode : {0640, 0604, 0660, 0602, 0610}) {
    ASSERT_EQ(::chmod(file.path().c_str(), mode), 0);
    EXPECT_EQ(file.Load().status().code(), absl::StatusCode::kFailedPrecondition)
        << std::oct << mode;
  }
  ASSERT_EQ(::chmod(file.path().c_str(), 0400), 0);
  EXPECT_TRUE(file.Load().ok());
}

TEST_F(FileTokenStoreTest, LoadOfAMissingFileIsNotFound) {
  FileTokenStore file(PathIn("tokens.json"));
  absl::StatusOr<SavedTokens> loaded = file.Load();
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(loaded.status().message(),
            "no token file at " + file.path());
}

TEST_F(FileTokenStoreTest, LoadRefusesWhatIsNotARegularFileWithoutBlocking) {
  FileTokenStore fifo(PathIn("fifo.json"));
  ASSERT_EQ(::mkfifo(fifo.path().c_str(), 0600), 0);
  EXPECT_EQ(fifo.Load().status().message(),
            "token file " + fifo.path() + " is not a regular file");
  FileTokenStore folder(dir_.path());
  EXPECT_EQ(folder.Load().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(FileTokenStoreTest, LoadRefusesMalformedContent) {
  FileTokenStore file(PathIn("tokens.json"));
  for (const std::string content :
       {"", "not json", "[]", R"({"version":2})",
        R"({"version":1,"access_token":"a","email":"e","access_expires_at":1})",
        R"({"version":1,"access_token":"a","refresh_token":"r","email":"e"})",
        R"({"version":1,"access_token":"a","refresh_token":"","email":"e","access_expires_at":1})",
        R"({"version":1,"access_token":"a","refresh_token":"r","email":"e","access_expires_at":1,)"
        R"("access_expires_in":"900"})"}) {
    {
      std::ofstream out(file.path(), std::ios::trunc);
      out << content;
    }
    ASSERT_EQ(::chmod(file.path().c_str(), 0600), 0);
    absl::StatusOr<SavedTokens> loaded = file.Load();
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition) << content;
    EXPECT_NE(loaded.status().message().find(" is malformed ("), absl::string_view::npos)
        << loaded.status();
  }
}

TEST_F(FileTokenStoreTest, ClearDeletesTheFileAndIsIdempotent) {
  FileTokenStore file(PathIn("tokens.json"));
  ASSERT_TRUE(file.Save(SampleTokens()).ok());
  { ASSERT_TRUE(file.LockForRefresh().ok()); }
  ASSERT_TRUE(std::filesystem::exists(file.path() + ".lock"));
  EXPECT_TRUE(file.Clear().ok());
  EXPECT_FALSE(std::filesystem::exists(file.path()));
  EXPECT_FALSE(std::filesystem::exists(file.path() + ".lock"));
  EXPECT_TRUE(file.Clear().ok());
}

TEST_F(FileTokenStoreTest, LockIsExclusiveUntilReleased) {
  FileTokenStore file(PathIn("tokens.json"));
  // Another open file description stands for another process.
  auto try_lock = [&] {
    const int fd = ::open((file.path() + ".lock").c_str(), O_RDWR);
    EXPECT_GE(fd, 0);
    const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return locked;
  };
  {
    absl::StatusOr<std::unique_ptr<TokenStore::Lock>> lock = file.LockForRefresh();
    ASSERT_TRUE(lock.ok()) << lock.status();
    EXPECT_EQ(ModeOf(file.path() + ".lock"), 0600u);
    EXPECT_FALSE(try_lock());
  }
  EXPECT_TRUE(try_lock());
}

}  // namespace
}  // namespace tollgate::client
