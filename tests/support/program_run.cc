#include "tests/support/program_run.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace tollgate::testing {

ProgramOutcome RunProgram(const std::string& binary, const std::vector<std::string>& args,
                          const std::vector<std::string>& environment,
                          const std::string& work_dir, const std::string& stdin_text) {
  const std::string in_path = work_dir + "/stdin.txt";
  const std::string out_path = work_dir + "/stdout.txt";
  const std::string err_path = work_dir + "/stderr.txt";
  {
    std::ofstream in(in_path, std::ios::trunc);
    in << stdin_text;
  }
  std::vector<char*> argv = {const_cast<char*>(binary.c_str())};
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open(in_path.c_str(), O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ProgramOutcome outcome;
  EXPECT_GT(pid, 0) << "fork failed";
  if (pid <= 0) return outcome;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  outcome.out = ReadFileText(out_path);
  outcome.err = ReadFileText(err_path);
  return outcome;
}

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace tollgate::testing
