#include "tests/support/postgres_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "tests/support/free_port.h"

extern char** environ;

namespace tollgate::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kStartTimeoutSeconds = 30;

std::string ErrnoText(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// The last `max_bytes` of a log file, for error messages.
std::string Tail(const std::string& path, size_t max_bytes = 2000) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no " + path + ")";
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

bool IsExecutable(const fs::path& path) { return ::access(path.c_str(), X_OK) == 0; }

// Where initdb, pg_ctl and postgres live: Debian keeps the server binaries
// out of PATH, in /usr/lib/postgresql/<major>/bin.
absl::StatusOr<std::string> FindBinDir() {
  if (const char* configured = std::getenv("TOLLGATE_PG_BINDIR"); configured && *configured) {
    if (IsExecutable(fs::path(configured) / "initdb")) return std::string(configured);
    return absl::FailedPreconditionError(std::string("TOLLGATE_PG_BINDIR=") + configured +
                                         " holds no initdb");
  }
  int best_major = -1;
  std::string best;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    if (!IsExecutable(entry.path() / "bin" / "initdb")) continue;
    if (const int major = std::stoi(name); major > best_major) {
      best_major = major;
      best = (entry.path() / "bin").string();
    }
  }
  if (!best.empty()) return best;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
      if (!dir.empty() && IsExecutable(fs::path(dir) / "initdb") &&
          IsExecutable(fs::path(dir) / "pg_ctl")) {
        return dir;
      }
    }
  }
  return absl::FailedPreconditionError(
      "PostgreSQL server binaries not found (no initdb in $TOLLGATE_PG_BINDIR, "
      "/usr/lib/postgresql/*/bin or PATH): install the postgresql package");
}

// A port that was free a moment ago on 127.0.0.1. Another process may take
// it before the server binds it; Start() then tries another one.
// Runs argv (argv[0] a path) with stdin from /dev/null and stdout and stderr
// appended to `log_path`. Returns the exit code, or an error when it could
// not run or was killed by a signal.
absl::StatusOr<int> RunCommand(const std::vector<std::string>& argv, const std::string& log_path) {
  {
    std::ofstream log(log_path, std::ios::app);
    log << "$";
    for (const std::string& arg : argv) log << " " << arg;
    log << "\n";
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

  std::vector<char*> raw;
  for (const std::string& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);

  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return absl::InternalError("cannot run " + argv[0] + ": " + std::strerror(spawned));
  }
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) return absl::InternalError(ErrnoText("waitpid " + argv[0]));
  }
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  return absl::InternalError(argv[0] + " was killed by signal " +
                             std::to_string(WTERMSIG(wait_status)));
}

bool IsValidDatabaseName(const std::string& name) {
  return !name.empty() && name.size() < 64 &&
         std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

}  // namespace

PostgresCluster::PostgresCluster(std::string bin_dir, std::string dir, bool as_postgres_user,
                                 Durability durability)
    : bin_dir_(std::move(bin_dir)),
      dir_(std::move(dir)),
      as_postgres_user_(as_postgres_user),
      durability_(durability) {}

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Start(Durability durability) {
  absl::StatusOr<std::string> bin_dir = FindBinDir();
  if (!bin_dir.ok()) return bin_dir.status();

  // /tmp, not $TMPDIR: the postgres user must be able to reach the folder.
  std::string dir_template = "/tmp/tollgate-pg-XXXXXX";
  if (::mkdtemp(dir_template.data()) == nullptr) {
    return absl::InternalError(ErrnoText("mkdtemp " + dir_template));
  }
  // From here on the destructor removes the folder, whatever fails.
  const bool as_postgres_user = ::geteuid() == 0;
  std::unique_ptr<PostgresCluster> cluster(
      new PostgresCluster(*std::move(bin_dir), dir_template, as_postgres_user, durability));

  if (as_postgres_user) {
    // initdb and postgres refuse to run as root.
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr) {
      return absl::FailedPreconditionError(
          "running as root, and there is no 'postgres' user to run PostgreSQL as "
          "(PostgreSQL refuses root): install the postgresql package or run the tests as a "
          "normal user");
    }
    if (::chown(cluster->dir_.c_str(), user->pw_uid, user->pw_gid) != 0) {
      return absl::InternalError(ErrnoText("chown " + cluster->dir_ + " to postgres"));
    }
  }

  if (absl::Status status = cluster->RunPostgresProgram(
          "initdb", {"--no-sync", "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C",
                     "-D", cluster->data_dir()});
      !status.ok()) {
    return status;
  }

  absl::Status started;
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<int> port = PickFreePort();
    if (!port.ok()) return port.status();
    cluster->port_ = *port;
    started = cluster->StartServer();
    // Somebody took the port between our probe and the server's bind.
    if (started.ok() || Tail(cluster->server_log()).find("could not bind") == std::string::npos) {
      break;
    }
  }
  if (!started.ok()) return started;

  if (absl::StatusOr<std::string> url = cluster->CreateDatabase("tollgate"); !url.ok()) {
    return url.status();
  }
  return cluster;
}

PostgresCluster::~PostgresCluster() {
  if (running_) {
    const absl::Status stopped = RunPostgresProgram(
        "pg_ctl", {"stop", "-D", data_dir(), "-m", "immediate", "-w", "-t", "10"});
    if (!stopped.ok() && postmaster_pid_ > 0) {
      // Last resort, and only if that pid is still the server of our data
      // folder (not a process that reused the number).
      std::ifstream cmdline("/proc/" + std::to_string(postmaster_pid_) + "/cmdline");
      std::string text((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
      if (text.find(data_dir()) != std::string::npos) ::kill(postmaster_pid_, SIGKILL);
    }
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::string PostgresCluster::UrlFor(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

absl::Status PostgresCluster::RunPostgresProgram(const std::string& program,
                                                 const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  if (as_postgres_user_) argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  argv.push_back(bin_dir_ + "/" + program);
  argv.insert(argv.end(), args.begin(), args.end());
  const absl::StatusOr<int> exit_code = RunCommand(argv, command_log());
  if (!exit_code.ok()) return exit_code.status();
  if (*exit_code != 0) {
    return absl::InternalError(program + " failed (exit " + std::to_string(*exit_code) +
                               "); output:\n" + Tail(command_log()));
  }
  return absl::OkStatus();
}

absl::Status PostgresCluster::StartServer() {
  // -k: the Unix socket goes into our folder, not /var/run/postgresql (which
  // may belong to a system cluster).
  std::string server_options =
      "-p " + std::to_string(port_) + " -k " + dir_ + " -c listen_addresses=127.0.0.1";
  if (durability_ == Durability::kThrowaway) server_options += " -c fsync=off";
  absl::Status status = RunPostgresProgram(
      "pg_ctl", {"start", "-D", data_dir(), "-l", server_log(), "-w", "-t",
                 std::to_string(kStartTimeoutSeconds), "-o", server_options});
  if (!status.ok()) {
    // pg_ctl may have given up on a server that is still starting: stop it,
    // it is ours (same data folder).
    (void)RunPostgresProgram("pg_ctl", {"stop", "-D", data_dir(), "-m", "immediate", "-w"});
    return absl::UnavailableError("PostgreSQL did not start on 127.0.0.1:" +
                                  std::to_string(port_) + ": " + std::string(status.message()) +
                                  "\nserver log:\n" + Tail(server_log()));
  }
  running_ = true;
  std::ifstream pid_file(data_dir() + "/postmaster.pid");
  pid_file >> postmaster_pid_;
  return WaitUntilAccepting();
}

absl::Status PostgresCluster::WaitUntilAccepting() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kStartTimeoutSeconds);
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      pqxx::connection connection(UrlFor("postgres"));
      return absl::OkStatus();
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::UnavailableError("PostgreSQL on 127.0.0.1:" + std::to_string(port_) +
                                " does not accept connections: " + last_error +
                                "\nserver log:\n" + Tail(server_log()));
}

absl::StatusOr<std::string> PostgresCluster::CreateDatabase(const std::string& name) {
  if (!IsValidDatabaseName(name)) {
    return absl::InvalidArgumentError("database name must be [a-z0-9_]{1,63}: " + name);
  }
  try {
    pqxx::connection connection(UrlFor("postgres"));
    pqxx::nontransaction txn(connection);  // CREATE DATABASE refuses a transaction
    txn.exec("CREATE DATABASE " + connection.quote_name(name));
  } catch (const std::exception& e) {
    return absl::InternalError("CREATE DATABASE " + name + ": " + e.what());
  }
  return UrlFor(name);
}

absl::Status PostgresCluster::Stop() {
  if (!running_) return absl::FailedPreconditionError("PostgreSQL is not running");
  absl::Status status =
      RunPostgresProgram("pg_ctl", {"stop", "-D", data_dir(), "-m", "fast", "-w", "-t", "30"});
  if (!status.ok()) return status;
  running_ = false;
  return absl::OkStatus();
}

absl::Status PostgresCluster::StartAgain() {
  if (running_) return absl::FailedPreconditionError("PostgreSQL is already running");
  return StartServer();
}

}  // namespace tollgate::testing
