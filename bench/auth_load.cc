// auth_load: the AuthService load tool of issue 3. A benchmark, not a test:
// it asserts nothing on time, it prints a table.
//
// By itself it starts a throwaway PostgreSQL cluster (PostgresCluster, as
// the tests do) and the real auth_service binary on 127.0.0.1:0 with the
// default (OWASP) Argon2id parameters and a fresh ES256 signing key,
// registers users over gRPC, and runs these phases, each bounded in time:
//
//   a. bare Argon2id: libsodium crypto_pwhash (m=19456 KiB, t=2, p=1) in
//      this process, on as many threads as the service's hashing pool;
//   b. Login throughput: --login_clients concurrent callers, each logging in
//      its own account again and again;
//   c. Refresh throughput: --refresh_clients concurrent callers, each
//      rotating its own session's token chain;
//   d. pgbench running bench/refresh_rotation.pgbench (the SQL of one
//      successful PostgresSessionStore::Rotate) against the same database with as
//      many clients: -M prepared (the reference: the service prepares its
//      statements too), then -M extended as context;
//   e. Refresh latency from a paced probe (--probe_rate calls/s), first with
//      the service otherwise idle, then during a login flood of
//      --flood_factor x cores concurrent logins, while the service's VmRSS is
//      sampled from /proc/PID/status (VmHWM, its peak, is read at the end),
//      then as a control while bare hashes burn the same CPU in this process.
//
// Phases a-d run --rounds times; a round runs each of them twice, in the
// order a b c d d c b a, and the table shows the median over the rounds.
// Phases b, c and d also print the CPU time per call of auth_service,
// PostgreSQL and the client, which stays meaningful on a machine shared with
// other jobs when throughput does not. All traffic is on 127.0.0.1. At the
// end the service is stopped by its PID (SIGTERM) and the cluster by pg_ctl
// on its own data folder; pgbench runs are waited for (and killed by PID if
// they overrun).
//
// Flags (--name=value): see kUsage below.

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/token/jwk.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/test_keys.h"
#include "tollgate/auth/v1/auth.grpc.pb.h"

extern char** environ;

namespace tollgate::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing::ChildProcess;
using testing::PostgresCluster;

constexpr char kUsage[] =
    "usage: auth_load [--flag=value]...\n"
    "  --phase_seconds=2     measured length of one slice of phases a-d; each runs twice a\n"
    "                        round (a b c d, then d c b a), so 4 s a round by default\n"
    "  --latency_seconds=6   length of each latency probe of phase e\n"
    "  --warmup_ms=500       calls before the measured window of a phase are not counted\n"
    "  --rounds=3            rounds of phases a-d (the table shows medians)\n"
    "  --refresh_clients=8   concurrent Refresh callers, and pgbench clients\n"
    "  --login_clients=0     concurrent Login callers (0: 2 x hashing threads)\n"
    "  --hash_threads=0      AUTH_HASH_THREADS and bare-hash threads (0: one per core, the\n"
    "                        service's default)\n"
    "  --flood_factor=4      login flood: this many concurrent logins per core\n"
    "  --probe_rate=200      Refresh calls/s of the latency probe\n"
    "  --probe_clients=2     callers sharing the probe rate\n"
    "  --sync_refresh_client=0  1: phase c calls through one blocking stub per caller and\n"
    "                        thread instead of completion queues (costs the client more CPU)\n"
    "  --phases=abcde        which phases to run (for profiling one of them)\n"
    "  --help                this text\n"
    "  --pgbench_protocols=prepared,extended  pgbench -M modes to run, comma-separated. The\n"
    "                        first is the reference of the Refresh target: prepared, as\n"
    "                        the service prepares its statements once per connection;\n"
    "                        extended parses and plans every statement (context only)\n"
    "  --signing=es256       es256 (a generated key, the default algorithm) or hs256\n"
    "  --durability=durable  durable: PostgreSQL's defaults (fsync=on, every commit\n"
    "                        flushed), as in production; throwaway: fsync=off, as in the\n"
    "                        tests (the database is then CPU-bound)\n"
    "  --auth_service=PATH   the auth_service binary (default: the one built with this tool)\n"
    "  --pgbench=PATH        pgbench (default: newest /usr/lib/postgresql/*/bin/pgbench)\n"
    "  --script_dir=PATH     folder of refresh_rotation*.pgbench (default: the source bench/)\n";

constexpr char kPassword[] = "correct horse battery staple";
constexpr double kLoginTargetRatio = 0.8;
constexpr double kRefreshTargetRatio = 0.7;
constexpr double kFloodP99TargetRatio = 2.0;
constexpr double kRssTargetMib = 300;
constexpr auto kCallDeadline = std::chrono::seconds(30);

// Set by SIGINT/SIGTERM: phases stop early and everything started is stopped.
std::atomic<bool> g_interrupted{false};
extern "C" void OnStopSignal(int) { g_interrupted.store(true); }

struct Options {
  int phase_seconds = 2;
  int latency_seconds = 6;
  int warmup_ms = 500;
  int rounds = 3;
  int refresh_clients = 8;
  int login_clients = 0;
  int hash_threads = 0;
  int flood_factor = 4;
  int probe_rate = 200;
  int probe_clients = 2;
  int sync_refresh_client = 0;
  std::string signing = "es256";
  std::string durability = "durable";
  std::string phases = "abcde";
  std::string pgbench_protocols = "prepared,extended";
  std::string auth_service = TOLLGATE_AUTH_SERVICE_BIN;
  std::string pgbench;
  std::string script_dir = TOLLGATE_BENCH_DIR;
};

// The pgbench -M modes of --pgbench_protocols, in order.
std::vector<std::string> Protocols(const Options& options) {
  std::vector<std::string> protocols;
  std::istringstream list(options.pgbench_protocols);
  for (std::string protocol; std::getline(list, protocol, ',');) {
    if (!protocol.empty()) protocols.push_back(protocol);
  }
  return protocols;
}

std::optional<Options> ParseFlags(int argc, char** argv) {
  Options options;
  std::map<std::string, int*> ints = {
      {"phase_seconds", &options.phase_seconds}, {"warmup_ms", &options.warmup_ms},
      {"latency_seconds", &options.latency_seconds},
      {"rounds", &options.rounds},               {"refresh_clients", &options.refresh_clients},
      {"login_clients", &options.login_clients}, {"hash_threads", &options.hash_threads},
      {"flood_factor", &options.flood_factor},   {"probe_rate", &options.probe_rate},
      {"probe_clients", &options.probe_clients},
      {"sync_refresh_client", &options.sync_refresh_client},
  };
  std::map<std::string, std::string*> strings = {
      {"signing", &options.signing},
      {"durability", &options.durability},
      {"phases", &options.phases},
      {"pgbench_protocols", &options.pgbench_protocols},
      {"auth_service", &options.auth_service},
      {"pgbench", &options.pgbench},
      {"script_dir", &options.script_dir},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", kUsage);
      std::exit(0);
    }
    const size_t equals = arg.find('=');
    if (arg.rfind("--", 0) != 0 || equals == std::string::npos) {
      std::fprintf(stderr, "auth_load: bad argument '%s'\n%s", arg.c_str(), kUsage);
      return std::nullopt;
    }
    const std::string name = arg.substr(2, equals - 2);
    const std::string value = arg.substr(equals + 1);
    if (auto it = ints.find(name); it != ints.end()) {
      char* end = nullptr;
      const long parsed = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || parsed < 0 || parsed > 100000) {
        std::fprintf(stderr, "auth_load: --%s needs a number in [0, 100000]\n", name.c_str());
        return std::nullopt;
      }
      *it->second = static_cast<int>(parsed);
    } else if (auto it = strings.find(name); it != strings.end()) {
      *it->second = value;
    } else {
      std::fprintf(stderr, "auth_load: unknown flag --%s\n%s", name.c_str(), kUsage);
      return std::nullopt;
    }
  }
  if (options.durability != "durable" && options.durability != "throwaway") {
    std::fprintf(stderr, "auth_load: --durability is durable or throwaway\n");
    return std::nullopt;
  }
  if (options.refresh_clients > 999 || options.rounds > 9) {
    // refresh_rotation.pgbench numbers chains by client (3 digits) and run.
    std::fprintf(stderr, "auth_load: at most 999 refresh_clients and 9 rounds\n");
    return std::nullopt;
  }
  if (options.phase_seconds < 1 || options.latency_seconds < 1 || options.rounds < 1 ||
      options.refresh_clients < 1 ||
      options.flood_factor < 1 || options.probe_rate < 1 || options.probe_clients < 1) {
    std::fprintf(stderr, "auth_load: phase_seconds, latency_seconds, rounds, refresh_clients, flood_factor, "
                         "probe_rate and probe_clients must be at least 1\n");
    return std::nullopt;
  }
  if (Protocols(options).size() > 3) {
    std::fprintf(stderr, "auth_load: at most 3 --pgbench_protocols\n");
    return std::nullopt;
  }
  for (const std::string& protocol : Protocols(options)) {
    if (protocol != "prepared" && protocol != "extended" && protocol != "simple") {
      std::fprintf(stderr, "auth_load: --pgbench_protocols takes prepared, extended, simple\n");
      return std::nullopt;
    }
  }
  if (options.signing != "es256" && options.signing != "hs256") {
    std::fprintf(stderr, "auth_load: --signing is es256 or hs256\n");
    return std::nullopt;
  }
  return options;
}

int Cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

std::string Format(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// A "VmRSS:   12345 kB" line of /proc/PID/status, in MiB; -1 if unreadable.
double ProcStatusMib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::strtod(line.c_str() + field.size() + 1, nullptr) / 1024.0;
    }
  }
  return -1;
}

// CPU seconds (user + system) of a process from /proc/PID/stat; with
// `with_reaped_children`, plus those of its children it has waited for.
double ProcCpuSeconds(pid_t pid, bool with_reaped_children) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f;
  for (std::string field; fields >> field;) f.push_back(field);
  // After the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  if (f.size() < 15) return 0;
  double ticks = std::stod(f[11]) + std::stod(f[12]);
  if (with_reaped_children) ticks += std::stod(f[13]) + std::stod(f[14]);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

pid_t ParentPid(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string state;
  pid_t parent = 0;
  fields >> state >> parent;
  return parent;
}

// CPU seconds of the whole PostgreSQL cluster: the postmaster, its live
// children (backends, walwriter, ...) and the children it has reaped
// (backends of closed connections).
double ClusterCpuSeconds(pid_t postmaster) {
  double total = ProcCpuSeconds(postmaster, /*with_reaped_children=*/true);
  namespace fs = std::filesystem;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator("/proc", ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (ParentPid(pid) == postmaster) total += ProcCpuSeconds(pid, false);
  }
  return total;
}

// CPU seconds spent on one kind of call, summed over its slices.
struct CpuTally {
  double service = 0, postgres = 0, client = 0;  // seconds
  int64_t calls = 0;

  // "auth_service 250 + PostgreSQL 180 + client 60 us CPU/call".
  std::string PerCall(bool with_service) const {
    if (calls <= 0) return "";
    const double per = 1e6 / static_cast<double>(calls);
    std::string text;
    if (with_service) text += Format("auth_service %.0f + ", service * per);
    return text + Format("PostgreSQL %.0f + ", postgres * per) +
           Format("client %.0f us CPU/call", client * per);
  }
};

// Measures where the CPU of one slice went: auth_service (when `service` is
// set), the whole PostgreSQL cluster, and the client (this process, plus
// the CPU of a client program such as pgbench, passed in).
struct CpuSplit {
  pid_t service = 0, postmaster = 0;
  double self0 = 0, service0 = 0, postgres0 = 0;

  void Start() {
    self0 = ProcCpuSeconds(::getpid(), false);
    service0 = service > 0 ? ProcCpuSeconds(service, false) : 0;
    postgres0 = ClusterCpuSeconds(postmaster);
  }
  void AddTo(CpuTally& tally, int64_t calls, double client_program_seconds = 0) const {
    tally.client += ProcCpuSeconds(::getpid(), false) - self0 + client_program_seconds;
    tally.postgres += ClusterCpuSeconds(postmaster) - postgres0;
    if (service > 0) tally.service += ProcCpuSeconds(service, false) - service0;
    tally.calls += calls;
  }
};

// Events over measured time, summed over the slices of a round.
struct Rate {
  double events = 0, seconds = 0;
  void Add(const Rate& other) {
    events += other.events;
    seconds += other.seconds;
  }
  double PerSecond() const { return seconds > 0 ? events / seconds : 0; }
};

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

// Nearest-rank percentile (p in (0, 100]) of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// Accounts are <prefix>.<i>@bench.invalid.
std::string Email(const std::string& prefix, int i) {
  return prefix + "." + std::to_string(i) + "@bench.invalid";
}

// ---------------------------------------------------------------- programs

struct ProgramResult {
  int exit_code = -1;
  std::string output;        // stdout and stderr
  double cpu_seconds = 0;    // user + system time of the program
};

// Runs argv (argv[0] a path) with stdout and stderr captured, waiting at most
// `timeout`; a program still running then is killed (by its PID).
std::optional<ProgramResult> RunProgram(const std::vector<std::string>& argv,
                                        std::chrono::seconds timeout, std::string* error) {
  char log_path[] = "/tmp/auth_load-out-XXXXXX";
  const int log_fd = ::mkstemp(log_path);
  if (log_fd < 0) {
    *error = std::string("mkstemp: ") + std::strerror(errno);
    return std::nullopt;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
  std::vector<char*> raw;
  for (const std::string& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(log_fd);
  if (spawned != 0) {
    ::unlink(log_path);
    *error = "cannot run " + argv[0] + ": " + std::strerror(spawned);
    return std::nullopt;
  }
  const auto deadline = Clock::now() + timeout;
  int wait_status = 0;
  rusage usage{};
  bool killed = false;
  for (;;) {
    const pid_t done = ::wait4(pid, &wait_status, WNOHANG, &usage);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      *error = std::string("waitpid: ") + std::strerror(errno);
      ::unlink(log_path);
      return std::nullopt;
    }
    if (!killed && Clock::now() > deadline) {
      ::kill(pid, SIGKILL);  // our own child, not yet reaped
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ProgramResult result;
  std::ifstream log(log_path);
  std::stringstream text;
  text << log.rdbuf();
  result.output = text.str();
  ::unlink(log_path);
  if (killed) {
    *error = argv[0] + " did not finish within " + std::to_string(timeout.count()) +
             " s and was killed; output:\n" + result.output;
    return std::nullopt;
  }
  result.exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
  result.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  return result;
}

std::string FindPgbench() {
  namespace fs = std::filesystem;
  int best_major = -1;
  std::string best;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const fs::path candidate = entry.path() / "bin" / "pgbench";
    if (::access(candidate.c_str(), X_OK) != 0) continue;
    if (const int major = std::stoi(name); major > best_major) {
      best_major = major;
      best = candidate.string();
    }
  }
  return best.empty() ? "/usr/bin/pgbench" : best;
}

// ------------------------------------------------------------------ clients

namespace v1 = tollgate::auth::v1;
using v1::AuthService;

// One caller: its own channel on its own TCP connection (as pgbench clients
// each have their own PostgreSQL connection).
std::unique_ptr<AuthService::Stub> NewStub(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                           grpc::InsecureChannelCredentials(), args);
  return AuthService::NewStub(channel);
}

// Every call of the load tool waits for its channel to be ready: a channel
// in reconnect backoff would otherwise fail calls at once, and a caller
// looping on those failures burns the CPU that is being measured.
void PrepareCall(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  context.set_wait_for_ready(true);
}

grpc::Status CallRegister(AuthService::Stub& stub, const std::string& email,
                          v1::AuthResponse* response) {
  v1::RegisterRequest request;
  request.set_email(email);
  request.set_password(kPassword);
  request.set_first_name("Load");
  request.set_last_name("Bench");
  grpc::ClientContext context;
  PrepareCall(context);
  return stub.Register(&context, request, response);
}

grpc::Status CallLogin(AuthService::Stub& stub, const std::string& email) {
  v1::LoginRequest request;
  request.set_email(email);
  request.set_password(kPassword);
  v1::AuthResponse response;
  grpc::ClientContext context;
  PrepareCall(context);
  return stub.Login(&context, request, &response);
}

// Rotates `*token` to its successor.
grpc::Status CallRefresh(AuthService::Stub& stub, std::string* token) {
  v1::RefreshRequest request;
  request.set_refresh_token(*token);
  v1::AuthResponse response;
  grpc::ClientContext context;
  PrepareCall(context);
  grpc::Status status = stub.Refresh(&context, request, &response);
  if (status.ok()) *token = response.refresh_token();
  return status;
}

// Outcome counts of one phase, merged over its callers.
struct Counts {
  int64_t ok_in_window = 0;  // completed OK inside the measured window
  int64_t ok = 0;
  int64_t shed = 0;          // RESOURCE_EXHAUSTED
  std::map<std::string, int64_t> errors;  // other codes: "CODE: message"

  void Merge(const Counts& other) {
    ok_in_window += other.ok_in_window;
    ok += other.ok;
    shed += other.shed;
    for (const auto& [what, n] : other.errors) errors[what] += n;
  }
  void Record(const grpc::Status& status, bool in_window) {
    if (status.ok()) {
      ++ok;
      if (in_window) ++ok_in_window;
    } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++shed;
    } else {
      ++errors[std::to_string(status.error_code()) + ": " + status.error_message()];
    }
  }
  std::string ErrorSummary() const {
    std::string text;
    for (const auto& [what, n] : errors) text += "    " + std::to_string(n) + " x code " + what + "\n";
    return text;
  }
};

// The measured window of a phase: calls run from `begin` until `end`, and
// those completing in [begin + warmup, end) count.
struct Window {
  Clock::time_point begin, measure_from, end;
  static Window Starting(const Options& options, int measured_seconds) {
    Window window;
    window.begin = Clock::now();
    window.measure_from = window.begin + std::chrono::milliseconds(options.warmup_ms);
    window.end = window.measure_from + std::chrono::seconds(measured_seconds);
    return window;
  }
  double measured_seconds() const {
    return std::chrono::duration<double>(end - measure_from).count();
  }
  bool Contains(Clock::time_point t) const { return t >= measure_from && t < end; }
};

// Runs `call(worker)` in a loop on `workers` threads until the window ends
// (or the run is interrupted); each call's status is recorded.
Counts RunClosedLoop(int workers, const Window& window,
                     const std::function<grpc::Status(int worker)>& call) {
  std::vector<Counts> counts(static_cast<size_t>(workers));
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      while (Clock::now() < window.end && !g_interrupted.load()) {
        const grpc::Status status = call(w);
        counts[static_cast<size_t>(w)].Record(status, window.Contains(Clock::now()));
        // A session whose token chain broke cannot go on.
        if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) break;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  Counts total;
  for (const Counts& c : counts) total.Merge(c);
  return total;
}

// ------------------------------------------------------------------ phases

// c. Refresh throughput: `stubs.size()` callers, each rotating its own chain
// (`tokens[i]`), always one call in flight per caller. The callers are
// driven from completion queues by one thread per core, the way pgbench -j
// drives its connections, so the load generator spends as little of the
// shared CPU as it can (a blocking stub per caller costs noticeably more).
Counts RunRefreshAsync(const Window& window, std::vector<std::unique_ptr<AuthService::Stub>>& stubs,
                       std::vector<std::string>& tokens) {
  struct Call {
    grpc::ClientContext context;
    v1::RefreshRequest request;
    v1::AuthResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::AuthResponse>> reader;
  };
  const size_t callers = stubs.size();
  const size_t threads = std::min(callers, static_cast<size_t>(Cores()));
  std::vector<Counts> counts(threads);
  std::vector<std::thread> drivers;
  for (size_t t = 0; t < threads; ++t) {
    drivers.emplace_back([&, t] {
      grpc::CompletionQueue queue;
      std::vector<std::unique_ptr<Call>> calls(callers);
      auto start = [&](size_t i) {
        calls[i] = std::make_unique<Call>();
        Call& call = *calls[i];
        PrepareCall(call.context);
        call.request.set_refresh_token(tokens[i]);
        call.reader = stubs[i]->AsyncRefresh(&call.context, call.request, &queue);
        call.reader->Finish(&call.response, &call.status, reinterpret_cast<void*>(i));
      };
      size_t in_flight = 0;
      for (size_t i = t; i < callers; i += threads, ++in_flight) start(i);
      void* tag = nullptr;
      bool ok = false;
      while (in_flight > 0 && queue.Next(&tag, &ok)) {
        const size_t i = reinterpret_cast<size_t>(tag);
        Call& call = *calls[i];
        counts[t].Record(call.status, window.Contains(Clock::now()));
        if (call.status.ok()) tokens[i] = call.response.refresh_token();
        // A chain whose token was refused cannot go on.
        if (Clock::now() < window.end && !g_interrupted.load() &&
            call.status.error_code() != grpc::StatusCode::UNAUTHENTICATED) {
          start(i);
        } else {
          calls[i].reset();
          --in_flight;
        }
      }
      queue.Shutdown();
      while (queue.Next(&tag, &ok)) {
      }
    });
  }
  for (std::thread& driver : drivers) driver.join();
  Counts total;
  for (const Counts& c : counts) total.Merge(c);
  return total;
}

// a. crypto_pwhash (Argon2id, OWASP parameters) on `threads` threads.
Rate BareHashRate(int threads, const Options& options) {
  const Window window = Window::Starting(options, options.phase_seconds);
  std::atomic<int64_t> hashes{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      unsigned char salt[crypto_pwhash_SALTBYTES] = {0};
      unsigned char out[32];
      while (Clock::now() < window.end && !g_interrupted.load()) {
        if (crypto_pwhash(out, sizeof(out), kPassword, sizeof(kPassword) - 1, salt,
                          /*opslimit=*/2, /*memlimit=*/size_t{19456} * 1024,
                          crypto_pwhash_ALG_ARGON2ID13) != 0) {
          std::fprintf(stderr, "auth_load: crypto_pwhash failed (out of memory?)\n");
          return;
        }
        if (window.Contains(Clock::now())) hashes.fetch_add(1);
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  return Rate{static_cast<double>(hashes.load()), window.measured_seconds()};
}

struct PgbenchRun {
  double tps = 0;
  std::string error;  // empty when it ran cleanly
};

// d. Setup (each client's first token), then the measured pgbench run, whose
// CPU per transaction (PostgreSQL, and pgbench as the client) goes to `cpu`.
PgbenchRun RunPgbench(const Options& options, const std::string& protocol,
                      const PostgresCluster& cluster, pid_t postmaster, int run, CpuTally& cpu) {
  const std::string now = std::to_string(std::time(nullptr));
  const std::string clients = std::to_string(options.refresh_clients);
  const std::vector<std::string> connection = {"-h", "127.0.0.1", "-p",
                                               std::to_string(cluster.port()), "-U", "postgres"};
  const std::vector<std::string> variables = {"-D", "run=" + std::to_string(run), "-D",
                                              "now=" + now, "-D", "n=0"};
  auto command = [&](const std::string& protocol, std::vector<std::string> specific) {
    std::vector<std::string> argv = {options.pgbench, "-n", "-M", protocol, "-c", clients};
    argv.insert(argv.end(), connection.begin(), connection.end());
    argv.insert(argv.end(), variables.begin(), variables.end());
    argv.insert(argv.end(), specific.begin(), specific.end());
    argv.push_back("tollgate");
    return argv;
  };
  PgbenchRun result;
  std::string error;
  auto setup = RunProgram(
      command("prepared", {"-j", "1", "-t", "1", "-f", options.script_dir + "/refresh_rotation_setup.pgbench"}),
      std::chrono::seconds(60), &error);
  if (!setup || setup->exit_code != 0) {
    result.error = "pgbench setup failed: " + (setup ? setup->output : error);
    return result;
  }
  const int jobs = std::min(options.refresh_clients, Cores());
  CpuSplit split{0, postmaster};
  split.Start();
  auto measured = RunProgram(
      command(protocol, {"-j", std::to_string(jobs), "-T", std::to_string(options.phase_seconds), "-f",
               options.script_dir + "/refresh_rotation.pgbench"}),
      std::chrono::seconds(options.phase_seconds + 60), &error);
  if (!measured) {
    result.error = error;
    return result;
  }
  const std::string& out = measured->output;
  const size_t at = out.find("tps = ");
  if (measured->exit_code != 0 || at == std::string::npos ||
      out.find("number of failed transactions: 0 ") == std::string::npos) {
    result.error = "pgbench failed (exit " + std::to_string(measured->exit_code) + "):\n" + out;
    return result;
  }
  result.tps = std::strtod(out.c_str() + at + 6, nullptr);
  constexpr char kProcessed[] = "number of transactions actually processed: ";
  int64_t transactions = 0;
  if (const size_t n = out.find(kProcessed); n != std::string::npos) {
    transactions = std::strtoll(out.c_str() + n + sizeof(kProcessed) - 1, nullptr, 10);
  }
  // The backends of pgbench's connections have exited; give the postmaster
  // a moment to reap them so their CPU shows in its children's total.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  split.AddTo(cpu, transactions, measured->cpu_seconds);
  return result;
}

struct Latencies {
  double p50_ms = 0, p99_ms = 0;
  int64_t calls = 0;
  Counts counts;
};

// e. Paced Refresh probe: `options.probe_clients` callers share
// `options.probe_rate` calls/s, each rotating its own chain. Latency runs
// from when a call was due, not when it was sent, so a stalled service is
// not hidden by the probe waiting for it (coordinated omission).
Latencies ProbeRefresh(const Options& options, int port, std::vector<std::string>& tokens) {
  const Window window = Window::Starting(options, options.latency_seconds);
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(options.probe_clients) / options.probe_rate));
  std::vector<std::vector<double>> samples(static_cast<size_t>(options.probe_clients));
  std::vector<Counts> counts(static_cast<size_t>(options.probe_clients));
  std::vector<std::thread> threads;
  for (int c = 0; c < options.probe_clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = NewStub(port);
      Clock::time_point due = window.begin + interval * c / options.probe_clients;
      while (due < window.end && !g_interrupted.load()) {
        std::this_thread::sleep_until(due);
        const grpc::Status status = CallRefresh(*stub, &tokens[static_cast<size_t>(c)]);
        const Clock::time_point done = Clock::now();
        const bool in_window = window.Contains(due);
        counts[static_cast<size_t>(c)].Record(status, in_window);
        if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) break;
        if (in_window && status.ok()) {
          samples[static_cast<size_t>(c)].push_back(
              std::chrono::duration<double, std::milli>(done - due).count());
        }
        due += interval;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  Latencies result;
  std::vector<double> all;
  for (size_t c = 0; c < samples.size(); ++c) {
    all.insert(all.end(), samples[c].begin(), samples[c].end());
    result.counts.Merge(counts[c]);
  }
  std::sort(all.begin(), all.end());
  result.calls = static_cast<int64_t>(all.size());
  result.p50_ms = Percentile(all, 50);
  result.p99_ms = Percentile(all, 99);
  return result;
}

struct FloodResult {
  Latencies idle, flooded;
  // Control: the probe while `hash_threads` bare Argon2id threads burn the
  // CPU in auth_load instead (no Login at all). When this degrades as much
  // as `flooded`, the cost is the CPU the hashes take, not the service.
  Latencies hogged;
  Counts flood_counts;
  double logins_per_second = 0;  // served while the probe ran in the flood
  double max_rss_mib = 0;        // VmRSS sampled every 50 ms during the flood
  double hwm_mib = 0;            // VmHWM at the end
};

// e. The probe with the service idle, then again while `flood_clients`
// callers log in as fast as they can, sampling the service's VmRSS, then
// once more while `hash_threads` bare hashes run in this process.
FloodResult RunFloodPhase(const Options& options, int port, pid_t service_pid, int flood_clients,
                          int hash_threads, std::vector<std::string>& probe_tokens) {
  FloodResult result;
  result.idle = ProbeRefresh(options, port, probe_tokens);

  std::atomic<bool> flood_on{true}, probing{false};
  std::atomic<int64_t> logins_during_probe{0};
  std::vector<Counts> counts(static_cast<size_t>(flood_clients));
  std::vector<std::thread> flood;
  for (int f = 0; f < flood_clients; ++f) {
    flood.emplace_back([&, f] {
      auto stub = NewStub(port);
      while (flood_on.load() && !g_interrupted.load()) {
        const grpc::Status status = CallLogin(*stub, Email("login", f));
        counts[static_cast<size_t>(f)].Record(status, false);
        if (status.ok() && probing.load()) logins_during_probe.fetch_add(1);
      }
    });
  }
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling.load()) {
      result.max_rss_mib = std::max(result.max_rss_mib, ProcStatusMib(service_pid, "VmRSS"));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  // Let the flood fill the hashing pool before the probe starts.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  probing = true;
  const auto probe_start = Clock::now();
  result.flooded = ProbeRefresh(options, port, probe_tokens);
  const double probe_seconds = std::chrono::duration<double>(Clock::now() - probe_start).count();
  probing = false;
  result.logins_per_second = static_cast<double>(logins_during_probe.load()) / probe_seconds;
  flood_on = false;
  for (std::thread& thread : flood) thread.join();
  sampling = false;
  sampler.join();
  for (const Counts& c : counts) result.flood_counts.Merge(c);
  result.hwm_mib = ProcStatusMib(service_pid, "VmHWM");

  std::atomic<bool> hogging{true};
  std::vector<std::thread> hogs;
  for (int t = 0; t < hash_threads; ++t) {
    hogs.emplace_back([&] {
      unsigned char salt[crypto_pwhash_SALTBYTES] = {0};
      unsigned char out[32];
      while (hogging.load() && !g_interrupted.load()) {
        if (crypto_pwhash(out, sizeof(out), kPassword, sizeof(kPassword) - 1, salt, 2,
                          size_t{19456} * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
          return;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  result.hogged = ProbeRefresh(options, port, probe_tokens);
  hogging = false;
  for (std::thread& hog : hogs) hog.join();
  return result;
}

// ------------------------------------------------------------------- table

struct Row {
  std::string metric, measured, reference, ratio, target, met;
};

void PrintTable(const std::vector<Row>& rows) {
  Row header{"metric", "measured", "reference", "ratio", "target", "met"};
  std::vector<size_t> width(6, 0);
  // Column order on screen: metric, measured, reference, ratio, target, met.
  auto ordered = [](const Row& r) {
    return std::vector<const std::string*>{&r.metric, &r.measured, &r.reference,
                                           &r.ratio,  &r.target,   &r.met};
  };
  for (const Row& r : rows) {
    const auto f = ordered(r);
    for (size_t i = 0; i < 6; ++i) width[i] = std::max(width[i], f[i]->size());
  }
  {
    const auto f = ordered(header);
    for (size_t i = 0; i < 6; ++i) width[i] = std::max(width[i], f[i]->size());
  }
  auto print = [&](const Row& r) {
    const auto f = ordered(r);
    std::string line = "|";
    for (size_t i = 0; i < 6; ++i) {
      line += " " + *f[i] + std::string(width[i] - f[i]->size(), ' ') + " |";
    }
    std::printf("%s\n", line.c_str());
  };
  print(header);
  std::string rule = "|";
  for (size_t i = 0; i < 6; ++i) rule += std::string(width[i] + 2, '-') + "|";
  std::printf("%s\n", rule.c_str());
  for (const Row& r : rows) print(r);
}

std::string YesNo(bool met) { return met ? "yes" : "NO"; }

// ------------------------------------------------------------------- main

int Fail(const std::string& what) {
  std::fprintf(stderr, "auth_load: %s\n", what.c_str());
  return 1;
}

// Register `count` accounts named <prefix>.<i>@bench.invalid, `parallel` at
// a time; returns their first refresh tokens.
std::optional<std::vector<std::string>> RegisterUsers(int port, const std::string& prefix,
                                                      int count, int parallel, std::string* error) {
  std::vector<std::string> tokens(static_cast<size_t>(count));
  std::atomic<int> next{0};
  std::mutex error_mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < parallel; ++t) {
    threads.emplace_back([&] {
      auto stub = NewStub(port);
      for (int i = next++; i < count; i = next++) {
        v1::AuthResponse response;
        const grpc::Status status = CallRegister(*stub, Email(prefix, i), &response);
        if (!status.ok()) {
          std::lock_guard lock(error_mutex);
          *error = "Register " + prefix + "." + std::to_string(i) + ": code " +
                   std::to_string(status.error_code()) + " " + status.error_message();
          return;
        }
        tokens[static_cast<size_t>(i)] = response.refresh_token();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  if (!error->empty()) return std::nullopt;
  return tokens;
}

int Run(const Options& options) {
  const int cores = Cores();
  const int hash_threads = options.hash_threads > 0 ? options.hash_threads : cores;
  const int login_clients = options.login_clients > 0 ? options.login_clients : 2 * hash_threads;
  const int flood_clients = options.flood_factor * cores;
  if (sodium_init() < 0) return Fail("sodium_init failed");

  std::printf("auth_load: %d cores, load average at start %s\n", cores, LoadAverage().c_str());
  std::fflush(stdout);

  auto cluster_or = PostgresCluster::Start(options.durability == "durable"
                                               ? PostgresCluster::Durability::kDurable
                                               : PostgresCluster::Durability::kThrowaway);
  if (!cluster_or.ok()) return Fail("PostgreSQL: " + cluster_or.status().ToString());
  std::unique_ptr<PostgresCluster> cluster = *std::move(cluster_or);

  std::string server_settings;
  pid_t postmaster_pid = 0;
  try {
    pqxx::connection connection(cluster->url());
    pqxx::nontransaction txn(connection);
    for (const char* name : {"server_version", "fsync", "synchronous_commit", "full_page_writes",
                             "shared_buffers"}) {
      server_settings += std::string(server_settings.empty() ? "" : ", ") + name + "=" +
                         txn.exec1(std::string("SHOW ") + name)[0].as<std::string>();
    }
    // The backend serving us is a child of the postmaster.
    postmaster_pid = ParentPid(static_cast<pid_t>(connection.backendpid()));
  } catch (const std::exception& e) {
    return Fail(std::string("cannot read PostgreSQL settings: ") + e.what());
  }

  // The signing key: a fresh ES256 key in a 0600 file (mkstemp), removed at
  // the end; or an HS256 secret.
  std::vector<std::string> environment = {"AUTH_LISTEN=127.0.0.1:0",
                                          "AUTH_DATABASE_URL=" + cluster->url()};
  std::string key_path;
  if (options.signing == "es256") {
    char path[] = "/tmp/auth_load-key-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) return Fail(std::string("mkstemp: ") + std::strerror(errno));
    const std::string pem = testing::GeneratePrivateKeyPem(JwsAlgorithm::kES256);
    const bool written = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
    ::close(fd);
    key_path = path;
    if (!written) {
      ::unlink(path);
      return Fail("cannot write the signing key");
    }
    environment.push_back("AUTH_SIGNING_KEYS=" + key_path);
  } else {
    unsigned char secret[32];
    randombytes_buf(secret, sizeof(secret));
    char hex[2 * sizeof(secret) + 1];
    sodium_bin2hex(hex, sizeof(hex), secret, sizeof(secret));
    environment.push_back(std::string("JWT_SECRET_KEY=") + hex);
  }
  if (options.hash_threads > 0) {
    environment.push_back("AUTH_HASH_THREADS=" + std::to_string(options.hash_threads));
  }
  struct KeyFileRemover {
    std::string path;
    ~KeyFileRemover() {
      if (!path.empty()) ::unlink(path.c_str());
    }
  } key_remover{key_path};

  // Started from the main thread: PR_SET_PDEATHSIG ties it to this thread.
  auto service_or = ChildProcess::Start(options.auth_service, {}, environment);
  if (!service_or.ok()) return Fail("auth_service: " + service_or.status().ToString());
  std::unique_ptr<ChildProcess> service = *std::move(service_or);
  auto port_or = service->WaitForPort(std::chrono::seconds(60));
  if (!port_or.ok()) return Fail("auth_service did not come up: " + port_or.status().ToString());
  const int port = *port_or;
  const pid_t service_pid = service->pid();
  std::printf("auth_load: PostgreSQL 127.0.0.1:%d (%s); auth_service pid %d on 127.0.0.1:%d, "
              "%s, Argon2id defaults (m=19456 KiB, t=2, p=1), %d hashing threads\n",
              cluster->port(), server_settings.c_str(), static_cast<int>(service_pid), port,
              options.signing == "es256" ? "ES256" : "HS256", hash_threads);
  std::fflush(stdout);

  // Accounts: Refresh workers and probe callers each own a session; Login
  // and flood callers each log in their own account.
  std::string error;
  auto refresh_tokens = RegisterUsers(port, "refresh", options.refresh_clients, hash_threads, &error);
  if (!refresh_tokens) return Fail(error);
  auto probe_tokens = RegisterUsers(port, "probe", options.probe_clients, hash_threads, &error);
  if (!probe_tokens) return Fail(error);
  const int login_accounts = std::max(login_clients, flood_clients);
  if (!RegisterUsers(port, "login", login_accounts, hash_threads, &error)) return Fail(error);
  if (g_interrupted.load()) return Fail("interrupted");

  auto runs = [&](char phase) { return options.phases.find(phase) != std::string::npos; };
  const std::vector<std::string> protocols = Protocols(options);
  std::vector<double> hash_rates, login_rates, refresh_rates;
  std::map<std::string, std::vector<double>> pgbench_rates;  // by -M mode
  std::vector<std::unique_ptr<AuthService::Stub>> login_stubs, refresh_stubs;
  for (int i = 0; i < login_clients; ++i) login_stubs.push_back(NewStub(port));
  for (int i = 0; i < options.refresh_clients; ++i) refresh_stubs.push_back(NewStub(port));
  // Each pgbench run seeds fresh chains under its own number (see
  // refresh_rotation.pgbench: run * 1000 + client must stay below 9.2e10).
  int pgbench_run = static_cast<int>(std::time(nullptr) % 100000) * 100;

  // One round runs every phase twice, a b c d and then d c b a, so that a
  // change in the machine's other load during the round weighs on each
  // phase and its reference about equally.
  for (int round = 0; round < options.rounds && !g_interrupted.load(); ++round) {
    Rate hashes, logins;
    Rate refreshes;
    std::map<std::string, Rate> pgbench;
    Counts login_counts, refresh_counts;
    CpuTally login_cpu, refresh_cpu;
    std::map<std::string, CpuTally> pgbench_cpu;
    auto run_phase = [&](char phase) -> absl::Status {
      if (!runs(phase) || g_interrupted.load()) return absl::OkStatus();
      switch (phase) {
        case 'a':
          hashes.Add(BareHashRate(hash_threads, options));
          break;
        case 'b': {  // each caller logs in its own account
          CpuSplit split{service_pid, postmaster_pid};
          split.Start();
          const Window window = Window::Starting(options, options.phase_seconds);
          const Counts counts = RunClosedLoop(login_clients, window, [&](int w) {
            return CallLogin(*login_stubs[static_cast<size_t>(w)], Email("login", w));
          });
          split.AddTo(login_cpu, counts.ok);
          logins.Add(Rate{static_cast<double>(counts.ok_in_window), window.measured_seconds()});
          login_counts.Merge(counts);
          break;
        }
        case 'c': {  // each caller rotates its own chain
          CpuSplit split{service_pid, postmaster_pid};
          split.Start();
          const Window window = Window::Starting(options, options.phase_seconds);
          const Counts counts =
              options.sync_refresh_client
                  ? RunClosedLoop(options.refresh_clients, window,
                                  [&](int w) {
                                    const size_t i = static_cast<size_t>(w);
                                    return CallRefresh(*refresh_stubs[i], &(*refresh_tokens)[i]);
                                  })
                  : RunRefreshAsync(window, refresh_stubs, *refresh_tokens);
          split.AddTo(refresh_cpu, counts.ok);
          refreshes.Add(Rate{static_cast<double>(counts.ok_in_window), window.measured_seconds()});
          refresh_counts.Merge(counts);
          break;
        }
        case 'd':  // same SQL, same database, same number of clients
          for (const std::string& protocol : protocols) {
            const PgbenchRun run = RunPgbench(options, protocol, *cluster, postmaster_pid,
                                              ++pgbench_run, pgbench_cpu[protocol]);
            if (!run.error.empty()) return absl::InternalError(run.error);
            pgbench[protocol].Add(Rate{run.tps * options.phase_seconds,
                                       static_cast<double>(options.phase_seconds)});
          }
          break;
      }
      return absl::OkStatus();
    };
    for (const char phase : std::string("abcddcba")) {
      if (absl::Status status = run_phase(phase); !status.ok()) {
        return Fail(std::string(status.message()));
      }
    }
    if (g_interrupted.load()) break;

    std::string summary = "round " + std::to_string(round + 1);
    if (runs('a')) {
      hash_rates.push_back(hashes.PerSecond());
      summary += Format("\n  a. bare Argon2id %.1f hash/s", hashes.PerSecond());
    }
    if (runs('b')) {
      login_rates.push_back(logins.PerSecond());
      summary += Format("\n  b. Login %.1f/s", logins.PerSecond()) + " (" +
                 std::to_string(login_counts.shed) + " shed); " +
                 login_cpu.PerCall(/*with_service=*/true);
      if (!login_counts.errors.empty()) summary += "\n  Login errors:\n" + login_counts.ErrorSummary();
    }
    if (runs('c')) {
      refresh_rates.push_back(refreshes.PerSecond());
      summary += Format("\n  c. Refresh %.0f/s", refreshes.PerSecond()) + " (" +
                 std::to_string(refresh_counts.shed) + " shed); " +
                 refresh_cpu.PerCall(/*with_service=*/true);
      if (!refresh_counts.errors.empty()) {
        summary += "\n  Refresh errors:\n" + refresh_counts.ErrorSummary();
      }
    }
    for (const std::string& protocol : protocols) {
      if (!runs('d')) break;
      pgbench_rates[protocol].push_back(pgbench[protocol].PerSecond());
      summary += Format("\n  d. pgbench %.0f tps", pgbench[protocol].PerSecond()) + " (-M " +
                 protocol + "); " + pgbench_cpu[protocol].PerCall(/*with_service=*/false);
    }
    std::printf("%s\n  load average %s\n", summary.c_str(), LoadAverage().c_str());
    std::fflush(stdout);
  }
  if (g_interrupted.load()) return Fail("interrupted");

  std::optional<FloodResult> flood;
  if (runs('e')) {
    flood = RunFloodPhase(options, port, service_pid, flood_clients, hash_threads, *probe_tokens);
    if (g_interrupted.load()) return Fail("interrupted");
  }
  const std::string load_at_end = LoadAverage();

  // Stop what we started, by PID: the service (SIGTERM, drain, exit 0),
  // then the cluster (pg_ctl on its own data folder, in the destructor).
  const absl::Status stopped = service->Terminate(std::chrono::seconds(15));
  const int service_exit = service->ExitCode();
  service.reset();
  cluster.reset();

  std::vector<Row> rows;
  const double hash = Median(hash_rates), login = Median(login_rates);
  const double refresh = Median(refresh_rates);
  if (!hash_rates.empty()) {
    rows.push_back({"Argon2id bare hash rate (crypto_pwhash m=19456 t=2 p=1), " +
                        std::to_string(hash_threads) + " threads",
                    Format("%.1f hash/s", hash), "-", "-", "-", "-"});
  }
  if (!login_rates.empty()) {
    const double ratio = hash > 0 ? login / hash : 0;
    rows.push_back({"Login throughput, " + std::to_string(login_clients) + " clients",
                    Format("%.1f /s", login),
                    hash > 0 ? Format("%.1f hash/s (bare)", hash) : "-",
                    hash > 0 ? Format("%.2f", ratio) : "-", Format(">= %.2f", kLoginTargetRatio),
                    hash > 0 ? YesNo(ratio >= kLoginTargetRatio) : "-"});
  }
  for (size_t m = 0; m < protocols.size() && pgbench_rates.count(protocols[m]) > 0; ++m) {
    // The first mode is the reference of the target; the others are context.
    const bool reference = m == 0;
    const double pgbench = Median(pgbench_rates[protocols[m]]);
    const std::string versus = Format("%.0f tps", pgbench) + " (pgbench -M " + protocols[m] + ")";
    if (refresh_rates.empty()) {
      rows.push_back({"pgbench refresh_rotation.pgbench -M " + protocols[m] + ", " +
                          std::to_string(options.refresh_clients) + " clients",
                      Format("%.0f tps", pgbench), "-", "-", "-", "-"});
      continue;
    }
    const double ratio = pgbench > 0 ? refresh / pgbench : 0;
    rows.push_back({"Refresh throughput, " + std::to_string(options.refresh_clients) + " clients",
                    Format("%.0f /s", refresh), versus, Format("%.2f", ratio),
                    reference ? Format(">= %.2f", kRefreshTargetRatio) : "(context)",
                    reference ? YesNo(ratio >= kRefreshTargetRatio) : "-"});
  }
  if (pgbench_rates.empty() && !refresh_rates.empty()) {
    rows.push_back({"Refresh throughput, " + std::to_string(options.refresh_clients) + " clients",
                    Format("%.0f /s", refresh), "-", "-", "-", "-"});
  }
  if (flood) {
    const Latencies& idle = flood->idle;
    const Latencies& flooded = flood->flooded;
    const double p99_ratio = idle.p99_ms > 0 ? flooded.p99_ms / idle.p99_ms : 0;
    rows.push_back({"Refresh p50 during login flood", Format("%.2f ms", flooded.p50_ms),
                    Format("%.2f ms (idle p50)", idle.p50_ms),
                    Format("%.2f", idle.p50_ms > 0 ? flooded.p50_ms / idle.p50_ms : 0), "-",
                    "-"});
    rows.push_back({"Refresh p99 during login flood (" + std::to_string(flood_clients) +
                        " concurrent logins)",
                    Format("%.2f ms", flooded.p99_ms), Format("%.2f ms (idle p99)", idle.p99_ms),
                    Format("%.2f", p99_ratio), Format("<= %.2f", kFloodP99TargetRatio),
                    YesNo(p99_ratio > 0 && p99_ratio <= kFloodP99TargetRatio)});
    rows.push_back({"control: Refresh p99 while " + std::to_string(hash_threads) +
                        " bare Argon2id threads run in auth_load (no Login)",
                    Format("%.2f ms", flood->hogged.p99_ms),
                    Format("%.2f ms (idle p99)", idle.p99_ms),
                    Format("%.2f", idle.p99_ms > 0 ? flood->hogged.p99_ms / idle.p99_ms : 0),
                    "(context)", "-"});
    rows.push_back({"auth_service max VmRSS during flood", Format("%.1f MiB", flood->max_rss_mib),
                    "-", "-", Format("< %.0f MiB", kRssTargetMib),
                    YesNo(flood->max_rss_mib > 0 && flood->max_rss_mib < kRssTargetMib)});
    rows.push_back({"auth_service VmHWM (peak RSS of the whole run)",
                    Format("%.1f MiB", flood->hwm_mib), "-", "-",
                    Format("< %.0f MiB", kRssTargetMib),
                    YesNo(flood->hwm_mib > 0 && flood->hwm_mib < kRssTargetMib)});
  }
  std::printf("\n");
  PrintTable(rows);
  std::printf(
      "\nphases a-d: median of %d round(s); a round runs a b c d d c b a, each slice %d s "
      "measured after %d ms warm-up (pgbench: -T %d).\n",
      options.rounds, options.phase_seconds, options.warmup_ms, options.phase_seconds);
  if (flood) {
    std::printf(
        "latency probe: %d Refresh/s from %d callers, latency from when each call was due; %lld "
        "calls idle, %lld during the flood, %lld in the control. Flood: %d concurrent Login "
        "callers, %.1f logins/s served during the probe, %lld shed (RESOURCE_EXHAUSTED).\n",
        options.probe_rate, options.probe_clients, static_cast<long long>(flood->idle.calls),
        static_cast<long long>(flood->flooded.calls), static_cast<long long>(flood->hogged.calls),
        flood_clients, flood->logins_per_second,
        static_cast<long long>(flood->flood_counts.shed));
    for (const auto& [name, probe] :
         {std::pair<const char*, const Latencies*>{"idle", &flood->idle},
          {"in the flood", &flood->flooded},
          {"in the control", &flood->hogged}}) {
      if (probe->counts.errors.empty() && probe->counts.shed == 0) continue;
      std::printf("  probe errors %s (%lld shed):\n%s", name,
                  static_cast<long long>(probe->counts.shed), probe->counts.ErrorSummary().c_str());
    }
    if (!flood->flood_counts.errors.empty()) {
      std::printf("  flood Login errors:\n%s", flood->flood_counts.ErrorSummary().c_str());
    }
  }
  std::printf(
      "PostgreSQL (--durability=%s): %s. These settings apply to auth_service and pgbench "
      "alike: same cluster, same database.\n"
      "load average at end %s; auth_service stopped: %s (exit %d).\n",
      options.durability.c_str(), server_settings.c_str(), load_at_end.c_str(),
      stopped.ok() ? "ok" : stopped.ToString().c_str(), service_exit);
  return 0;
}

}  // namespace
}  // namespace tollgate::bench

int main(int argc, char** argv) {
  auto options = tollgate::bench::ParseFlags(argc, argv);
  if (!options) return 2;
  if (options->pgbench.empty()) options->pgbench = tollgate::bench::FindPgbench();
  struct sigaction action {};
  action.sa_handler = tollgate::bench::OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return tollgate::bench::Run(*options);
}
