#pragma once

#include <string>
#include <vector>

namespace tollgate::testing {

// What a program run to its end gave: how it exited, and its stdout and
// stderr apart.
struct ProgramOutcome {
  int exit_code = -1;  // 128 + the signal when a signal ended it
  std::string out;
  std::string err;
};

// Runs `binary` with `args` (argv[1..]) and exactly `environment` ("K=V"
// entries), `stdin_text` as its stdin, and waits for it to end. Its three
// streams go through files in `work_dir` (stdin.txt, stdout.txt,
// stderr.txt), replaced on every run. A failed fork is a test failure and
// exit_code -1; a binary that cannot be run exits 127.
ProgramOutcome RunProgram(const std::string& binary, const std::vector<std::string>& args,
                          const std::vector<std::string>& environment,
                          const std::string& work_dir, const std::string& stdin_text = "");

// The whole content of a file; empty when it cannot be read.
std::string ReadFileText(const std::string& path);

}  // namespace tollgate::testing
