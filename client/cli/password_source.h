#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/command_line.h"

namespace tollgate::cli {

// Where a command's passwords come from, in this order:
//   1. the option (--password / --new-password): simplest, but visible to
//      every local user in `ps` and /proc/PID/cmdline;
//   2. the environment variable (TOLLGATE_PASSWORD / TOLLGATE_NEW_PASSWORD);
//   3. one line of `in` (without its line end). When `in` is a terminal the
//      prompt goes to `prompt_out` and echo is turned off while the line is
//      typed, so the password is neither shown nor left in the scroll-back.
// An empty option counts as given (the server then rejects the empty
// password with its policy message); an empty variable counts as unset, as
// for every other TOLLGATE_* variable.
class PasswordSource final {
 public:
  // `in_is_terminal`: `in` reads the controlling terminal on file descriptor
  // 0 (the real stdin). Tests pass a stringstream and false.
  PasswordSource(EnvLookup env, std::istream& in, std::ostream& prompt_out, bool in_is_terminal);

  // INVALID_ARGUMENT "no <what>: give --<flag>, set <env>, or write it as one
  // line on stdin" when all three are missing (stdin at end of file).
  [[nodiscard]] absl::StatusOr<std::string> Read(const std::optional<std::string>& flag_value,
                                                 absl::string_view flag_name,
                                                 absl::string_view env_name,
                                                 absl::string_view what);

 private:
  EnvLookup env_;
  std::istream& in_;
  std::ostream& prompt_out_;
  const bool in_is_terminal_;
};

}  // namespace tollgate::cli
