// sum_load: a closed-loop gRPC load generator for tollgate.sum.v1.SumService/Sum
// (bench/sum_bench.sh, issue 4). Not a test; asserts nothing on time.
//
// Keeps --concurrency unary calls in flight on the callback API, spread over
// --channels channels (each its own TCP connection), each slot starting its
// next call from the completion of the previous one. Calls that complete in
// the first --warmup seconds are not measured; rps, p50 and p99 cover the
// --duration seconds after that. Every response is checked: a non-OK status
// or a result other than a + b counts as an error (over the whole run,
// warm-up included).
//
//   sum_load --target=127.0.0.1:PORT [--token-file=PATH] [--auth=header|session]
//            [--channels=4] [--concurrency=64] [--duration=10] [--warmup=2]
//            [--calls=N] [--label=TEXT]
//
// --calls=N instead makes exactly N calls (no warm-up, no time limit): the
// driver's status check before and after each timed run. Without
// --token-file the calls carry no authorization metadata.
//
// --auth says how the token of --token-file reaches each call:
//   header   (default) context.AddMetadata("authorization", "Bearer ..."),
//            the fixed header a hand-written client sets;
//   session  context.set_credentials(session->Credentials()) of a
//            tollgate_client Session resumed from an in-memory pair with
//            that access token (valid for the hour sum_bench_server gives
//            it, so no Refresh falls in a run; a real Session makes one
//            Refresh per token lifetime, 900 s by default);
//   fixed-credentials  diagnostic: call credentials from a plugin that
//            returns the fixed header inline, the least any
//            grpc::CallCredentials cost in gRPC 1.51.
// bench/session_bench.sh compares the two (bench/README.md).
//
// Prints one line of key=value pairs:
//   sum_load label=.. calls=.. seconds=.. rps=.. p50_us=.. p99_us=.. errors=..
//   cpu_us_per_call=.. statuses=OK:n,.. [first_error="CODE: message"]
// cpu_us_per_call is this process's CPU time (user + system, whole run)
// divided by every call it completed: what the client side costs, which
// varies less than rps when other work shares the machine.
// Exit 0 when it ran (whatever the statuses), 2 for bad flags or no server.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "client/session/in_memory_token_store.h"
#include "client/session/session.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace {

using SteadyClock = std::chrono::steady_clock;
namespace v1 = tollgate::sum::v1;

constexpr int kStatusCodes = 17;  // OK .. UNAUTHENTICATED
constexpr int64_t kA = 20261123;
constexpr int64_t kB = 4;

const char* CodeName(int code) {
  static constexpr const char* kNames[kStatusCodes] = {
      "OK",           "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  return code >= 0 && code < kStatusCodes ? kNames[code] : "?";
}

[[noreturn]] void Fail(std::string_view what) {
  std::cerr << "sum_load: " << what << "\n";
  std::exit(2);
}

struct Flags {
  std::string target;
  std::string token_file;
  int channels = 4;
  int concurrency = 64;
  double duration_seconds = 10;
  double warmup_seconds = 2;
  int64_t calls = 0;  // > 0: exactly this many calls, untimed
  std::string label = "sum";
  std::string auth = "header";  // --auth
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const size_t equals = arg.find('=');
    if (arg.substr(0, 2) != "--" || equals == std::string_view::npos) {
      Fail("flags are --name=value; unexpected '" + std::string(arg) + "'");
    }
    const std::string_view name = arg.substr(2, equals - 2);
    const std::string value(arg.substr(equals + 1));
    if (name == "target") {
      flags.target = value;
    } else if (name == "token-file") {
      flags.token_file = value;
    } else if (name == "channels") {
      flags.channels = std::atoi(value.c_str());
    } else if (name == "concurrency") {
      flags.concurrency = std::atoi(value.c_str());
    } else if (name == "duration") {
      flags.duration_seconds = std::atof(value.c_str());
    } else if (name == "warmup") {
      flags.warmup_seconds = std::atof(value.c_str());
    } else if (name == "calls") {
      flags.calls = std::atoll(value.c_str());
    } else if (name == "label") {
      flags.label = value;
    } else if (name == "auth") {
      if (value != "header" && value != "session" && value != "fixed-credentials") {
        Fail("--auth is header, session or fixed-credentials");
      }
      flags.auth = value;
    } else {
      Fail("unknown flag --" + std::string(name));
    }
  }
  if (flags.target.empty()) Fail("--target=host:port is required");
  if (flags.channels < 1 || flags.concurrency < 1) Fail("--channels and --concurrency must be >= 1");
  if (flags.duration_seconds <= 0 || flags.warmup_seconds < 0) Fail("bad --duration or --warmup");
  if (flags.auth != "header" && flags.token_file.empty()) Fail("--auth=" + flags.auth + " needs --token-file");
  return flags;
}

std::string ReadToken(const std::string& path) {
  std::ifstream file(path);
  if (!file) Fail("cannot read " + path);
  std::stringstream contents;
  contents << file.rdbuf();
  std::string token = contents.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) Fail(path + " is empty");
  return token;
}

class Load;

// Call credentials that add one fixed header, inline (--auth=fixed-credentials).
class FixedHeaderPlugin final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit FixedHeaderPlugin(std::string authorization) : authorization_(std::move(authorization)) {}
  bool IsBlocking() const override { return false; }
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<grpc::string, grpc::string>* metadata) override {
    metadata->emplace("authorization", authorization_);
    return grpc::Status::OK;
  }

 private:
  const std::string authorization_;
};

// One in-flight call at a time; its callback starts the next.
struct Slot {
  Load* load = nullptr;
  v1::SumService::Stub* stub = nullptr;
  std::unique_ptr<grpc::ClientContext> context;
  v1::SumRequest request;
  v1::SumResponse response;
  SteadyClock::time_point started;
  // Touched only by this slot's own (sequential) callbacks until Run()
  // collects them after every slot stopped.
  std::vector<uint32_t> latencies_us;
  std::array<int64_t, kStatusCodes> statuses{};
  int64_t wrong_results = 0;
  std::string first_error;
};

class Load {
 public:
  explicit Load(const Flags& flags) : flags_(flags) {
    if (!flags.token_file.empty()) authorization_ = "Bearer " + ReadToken(flags.token_file);
    if (flags.auth == "session") {
      session_ = SessionWith(ReadToken(flags.token_file));
      credentials_ = session_->Credentials();
    } else if (flags.auth == "fixed-credentials") {
      credentials_ = grpc::experimental::MetadataCredentialsFromPlugin(
          std::make_unique<FixedHeaderPlugin>(authorization_), GRPC_SECURITY_NONE);
    }
    for (int i = 0; i < flags.channels; ++i) {
      grpc::ChannelArguments args;
      // Separate connections, not one shared subchannel.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("tollgate.bench.channel", i);
      channels_.push_back(
          grpc::CreateCustomChannel(flags.target, grpc::InsecureChannelCredentials(), args));
      if (!channels_.back()->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
        Fail("cannot connect to " + flags.target);
      }
      stubs_.push_back(v1::SumService::NewStub(channels_.back()));
    }
  }

  void Run() {
    const int slot_count =
        flags_.calls > 0 ? static_cast<int>(std::min<int64_t>(flags_.calls, flags_.concurrency))
                         : flags_.concurrency;
    remaining_calls_ = flags_.calls;
    slots_.resize(slot_count);
    const auto begin = SteadyClock::now();
    if (flags_.calls > 0) {
      measure_from_ = begin;
      measure_until_ = SteadyClock::time_point::max();
    } else {
      measure_from_ = begin + ToDuration(flags_.warmup_seconds);
      measure_until_ = measure_from_ + ToDuration(flags_.duration_seconds);
    }
    running_slots_ = slot_count;
    cpu_seconds_at_start_ = ProcessCpuSeconds();
    for (int i = 0; i < slot_count; ++i) {
      Slot& slot = slots_[i];
      slot.load = this;
      slot.stub = stubs_[i % stubs_.size()].get();
      slot.request.set_a(kA);
      slot.request.set_b(kB);
      if (flags_.calls == 0) slot.latencies_us.reserve(1 << 16);
      if (!TakeCall()) {
        SlotStopped();
        continue;
      }
      StartCall(slot);
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      all_stopped_.wait(lock, [this] { return running_slots_ == 0; });
    }
    const auto end = SteadyClock::now();
    Report(flags_.calls > 0 ? std::chrono::duration<double>(end - begin).count()
                            : flags_.duration_seconds);
  }

  void OnDone(Slot& slot, const grpc::Status& status) {
    const auto now = SteadyClock::now();
    const int code = static_cast<int>(status.error_code());
    const bool right = status.ok() && slot.response.result() == kA + kB;
    if (!right) {
      if (status.ok()) {
        ++slot.wrong_results;
      }
      if (slot.first_error.empty()) {
        slot.first_error = status.ok() ? std::string("OK: wrong result")
                                       : std::string(CodeName(code)) + ": " + status.error_message();
      }
    }
    if (code >= 0 && code < kStatusCodes) ++slot.statuses[code];
    if (now >= measure_from_ && now <= measure_until_) {
      slot.latencies_us.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - slot.started).count()));
    }
    if (now < measure_until_ && TakeCall()) {
      StartCall(slot);
    } else {
      SlotStopped();
    }
  }

 private:
  // A Session holding `access_token` as a pair saved now, valid for an
  // hour. Its AuthService channel points nowhere: the token is not due
  // within a run, so no Refresh is made.
  static std::shared_ptr<tollgate::client::Session> SessionWith(const std::string& access_token) {
    tollgate::client::SavedTokens tokens;
    tokens.access_token = access_token;
    tokens.refresh_token = "tgr_not-used-in-a-run";
    tokens.access_lifetime_seconds = 3600;
    tokens.access_expires_at_unix_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count() +
        tokens.access_lifetime_seconds;
    auto store = std::make_shared<tollgate::client::InMemoryTokenStore>(tokens);
    auto auth_channel = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
    auto session = tollgate::client::Session::Resume(auth_channel, store);
    if (!session.ok()) Fail("session: " + std::string(session.status().message()));
    return *session;
  }

  static double ProcessCpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
  }

  static SteadyClock::duration ToDuration(double seconds) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
  }

  bool TakeCall() {
    if (flags_.calls == 0) return true;
    return remaining_calls_.fetch_sub(1, std::memory_order_relaxed) > 0;
  }

  void StartCall(Slot& slot) {
    slot.context = std::make_unique<grpc::ClientContext>();
    if (credentials_ != nullptr) {
      slot.context->set_credentials(credentials_);
    } else if (!authorization_.empty()) {
      slot.context->AddMetadata("authorization", authorization_);
    }
    slot.response.Clear();
    slot.started = SteadyClock::now();
    Slot* raw = &slot;
    slot.stub->async()->Sum(slot.context.get(), &slot.request, &slot.response,
                            [raw](grpc::Status status) { raw->load->OnDone(*raw, status); });
  }

  void SlotStopped() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--running_slots_ == 0) all_stopped_.notify_all();
  }

  void Report(double seconds) {
    std::vector<uint32_t> latencies;
    std::array<int64_t, kStatusCodes> statuses{};
    int64_t wrong_results = 0;
    std::string first_error;
    for (Slot& slot : slots_) {
      latencies.insert(latencies.end(), slot.latencies_us.begin(), slot.latencies_us.end());
      for (int i = 0; i < kStatusCodes; ++i) statuses[i] += slot.statuses[i];
      wrong_results += slot.wrong_results;
      if (first_error.empty()) first_error = slot.first_error;
    }
    std::sort(latencies.begin(), latencies.end());
    auto percentile = [&latencies](double p) -> uint32_t {
      if (latencies.empty()) return 0;
      size_t index = static_cast<size_t>(p * static_cast<double>(latencies.size()));
      return latencies[std::min(index, latencies.size() - 1)];
    };
    int64_t errors = wrong_results;
    for (int i = 1; i < kStatusCodes; ++i) errors += statuses[i];
    int64_t completed = 0;
    for (int i = 0; i < kStatusCodes; ++i) completed += statuses[i];
    const double cpu_seconds = ProcessCpuSeconds() - cpu_seconds_at_start_;
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(1);
    out << "sum_load label=" << flags_.label << " calls=" << latencies.size()
        << " seconds=" << seconds << " rps=" << static_cast<double>(latencies.size()) / seconds
        << " p50_us=" << percentile(0.50) << " p99_us=" << percentile(0.99) << " errors=" << errors
        << " cpu_us_per_call=" << (completed > 0 ? cpu_seconds * 1e6 / completed : 0.0)
        << " statuses=";
    bool first = true;
    for (int i = 0; i < kStatusCodes; ++i) {
      if (statuses[i] == 0) continue;
      out << (first ? "" : ",") << CodeName(i) << ":" << statuses[i];
      first = false;
    }
    if (first) out << "none";
    if (!first_error.empty()) out << " first_error=\"" << first_error << "\"";
    std::cout << out.str() << std::endl;
  }

  const Flags flags_;
  std::string authorization_;
  std::shared_ptr<tollgate::client::Session> session_;
  std::shared_ptr<grpc::CallCredentials> credentials_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::SumService::Stub>> stubs_;
  std::vector<Slot> slots_;
  double cpu_seconds_at_start_ = 0;
  SteadyClock::time_point measure_from_;
  SteadyClock::time_point measure_until_;
  std::atomic<int64_t> remaining_calls_{0};
  std::mutex mutex_;
  std::condition_variable all_stopped_;
  int running_slots_ = 0;  // guarded by mutex_
};

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  Load load(flags);
  load.Run();
  return 0;
}
