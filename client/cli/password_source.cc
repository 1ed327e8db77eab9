#include "client/cli/password_source.h"

#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <istream>
#include <ostream>

#include "absl/strings/str_cat.h"

namespace tollgate::cli {
namespace {

// Turns terminal echo off for its lifetime (only if it was on).
class EchoOff final {
 public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

}  // namespace

PasswordSource::PasswordSource(EnvLookup env, std::istream& in, std::ostream& prompt_out,
                               bool in_is_terminal)
    : env_(std::move(env)), in_(in), prompt_out_(prompt_out), in_is_terminal_(in_is_terminal) {}

absl::StatusOr<std::string> PasswordSource::Read(const std::optional<std::string>& flag_value,
                                                 absl::string_view flag_name,
                                                 absl::string_view env_name,
                                                 absl::string_view what) {
  if (flag_value.has_value()) return *flag_value;
  if (env_) {
    std::optional<std::string> value = env_(std::string(env_name));
    if (value.has_value() && !value->empty()) {
      return *value;
    }
  }
  std::string line;
  bool got_line = false;
  if (in_is_terminal_) {
    std::string prompt = absl::StrCat(what, ": ");
    prompt[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(prompt[0])));
    prompt_out_ << prompt << std::flush;
    EchoOff echo_off;
    got_line = static_cast<bool>(std::getline(in_, line));
  } else {
    got_line = static_cast<bool>(std::getline(in_, line));
  }
  if (!got_line) {
    return absl::InvalidArgumentError(absl::StrCat("no ", what, ": give --", flag_name, ", set ",
                                                   env_name,
                                                   ", or write it as one line on stdin"));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace tollgate::cli
