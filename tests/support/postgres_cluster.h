#pragma once

#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tollgate::testing {

// A throwaway PostgreSQL cluster for one test binary: its own data folder
// under /tmp, its own port on 127.0.0.1, torn down by the destructor.
//
// Start() runs initdb and starts the server from the PostgreSQL server
// binaries ($TOLLGATE_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin,
// else PATH). PostgreSQL refuses to run as root, so when the test runs as
// root the folder is handed to the `postgres` user and every PostgreSQL
// program runs as that user through runuser. Tests turn durability off
// (fsync=off): the data is thrown away anyway. A benchmark that compares
// against production asks for kDurable.
//
// Every failure is a status that says why (with the tail of the server log
// or of the command's output): a test that needs PostgreSQL fails loudly, it
// never skips. Only the server this object started is ever stopped.
class PostgresCluster final {
 public:
  enum class Durability {
    kThrowaway,  // fsync=off
    kDurable,    // PostgreSQL's defaults: fsync=on, synchronous_commit=on
  };

  // initdb, start, wait until it accepts connections (at most 30 s), create
  // database `tollgate`.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PostgresCluster>> Start(
      Durability durability = Durability::kThrowaway);

  // Stops the server at once (immediate mode) if it runs, then removes the
  // folder.
  ~PostgresCluster();

  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // postgresql://postgres@127.0.0.1:PORT/tollgate
  std::string url() const { return UrlFor("tollgate"); }
  // The same for another database of this cluster.
  std::string UrlFor(const std::string& database) const;
  int port() const { return port_; }

  // Creates an empty database (name: [a-z0-9_]) and returns its URL.
  [[nodiscard]] absl::StatusOr<std::string> CreateDatabase(const std::string& name);

  // Stops the server (fast mode: clients are disconnected, data is kept) and
  // waits until it is gone.
  [[nodiscard]] absl::Status Stop();
  // Starts the stopped server again on the same port and data, and waits
  // until it accepts connections.
  [[nodiscard]] absl::Status StartAgain();

 private:
  PostgresCluster(std::string bin_dir, std::string dir, bool as_postgres_user,
                  Durability durability);

  // Runs bin_dir/program as the cluster's owner; output goes to the command
  // log, whose tail is in the status when it fails.
  absl::Status RunPostgresProgram(const std::string& program, const std::vector<std::string>& args);
  absl::Status StartServer();
  absl::Status WaitUntilAccepting();
  std::string data_dir() const { return dir_ + "/data"; }
  std::string server_log() const { return dir_ + "/server.log"; }
  std::string command_log() const { return dir_ + "/commands.log"; }

  const std::string bin_dir_;
  const std::string dir_;
  const bool as_postgres_user_;
  const Durability durability_;
  int port_ = 0;
  bool running_ = false;
  pid_t postmaster_pid_ = 0;  // from postmaster.pid after each start
};

}  // namespace tollgate::testing
