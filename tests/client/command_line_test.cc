#include "client/cli/command_line.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace tollgate::cli {
namespace {

class CommandLineTest : public ::testing::Test {
 protected:
  absl::StatusOr<CommandLine> Parse(const std::vector<std::string>& args) {
    return CommandLine::Parse(args, [this](const std::string& name) -> std::optional<std::string> {
      const auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    });
  }

  // The usage message of a command line that must fail.
  std::string UsageError(const std::vector<std::string>& args) {
    absl::StatusOr<CommandLine> parsed = Parse(args);
    if (parsed.ok()) return "(parsed fine)";
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(parsed.status().message());
  }

  std::map<std::string, std::string> env_ = {{"HOME", "/home/ada"}};
};

TEST_F(CommandLineTest, DefaultsWithoutFlagsOrEnvironment) {
  absl::StatusOr<CommandLine> parsed = Parse({"jwks"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command()->name, "jwks");
  EXPECT_EQ(parsed->options().auth_address, "127.0.0.1:50051");
  EXPECT_EQ(parsed->options().sum_address, "127.0.0.1:50052");
  EXPECT_EQ(parsed->options().token_file, "/home/ada/.config/tollgate/tokens.json");
  EXPECT_EQ(parsed->options().timeout_seconds, 10);
  EXPECT_FALSE(parsed->help());
}

TEST_F(CommandLineTest, EnvironmentOverridesDefaults) {
  env_["TOLLGATE_AUTH_ADDR"] = "auth.internal:1";
  env_["TOLLGATE_SUM_ADDR"] = "sum.internal:2";
  env_["TOLLGATE_TOKEN_FILE"] = "/run/t.json";
  env_["TOLLGATE_TIMEOUT"] = "3";
  absl::StatusOr<CommandLine> parsed = Parse({"jwks"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options().auth_address, "auth.internal:1");
  EXPECT_EQ(parsed->options().sum_address, "sum.internal:2");
  EXPECT_EQ(parsed->options().token_file, "/run/t.json");
  EXPECT_EQ(parsed->options().timeout_seconds, 3);
}

TEST_F(CommandLineTest, FlagsOverrideEnvironmentBeforeOrAfterTheCommand) {
  env_["TOLLGATE_AUTH_ADDR"] = "auth.internal:1";
  env_["TOLLGATE_TIMEOUT"] = "3";
  absl::StatusOr<CommandLine> parsed =
      Parse({"--auth", "127.0.0.1:9", "jwks", "--timeout=7", "--token-file", "/x/t.json",
             "--sum=127.0.0.1:8"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options().auth_address, "127.0.0.1:9");
  EXPECT_EQ(parsed->options().sum_address, "127.0.0.1:8");
  EXPECT_EQ(parsed->options().token_file, "/x/t.json");
  EXPECT_EQ(parsed->options().timeout_seconds, 7);
}

TEST_F(CommandLineTest, EmptyEnvironmentValueCountsAsUnset) {
  env_["TOLLGATE_AUTH_ADDR"] = "";
  env_["TOLLGATE_TIMEOUT"] = "";
  absl::StatusOr<CommandLine> parsed = Parse({"jwks"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options().auth_address, "127.0.0.1:50051");
  EXPECT_EQ(parsed->options().timeout_seconds, 10);
}

TEST_F(CommandLineTest, NoHomeAndNoTokenFileLeavesThePathEmpty) {
  env_.clear();
  absl::StatusOr<CommandLine> parsed = Parse({"jwks"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options().token_file, "");
}

TEST_F(CommandLineTest, CommandOptionsAndPositionals) {
  absl::StatusOr<CommandLine> parsed =
      Parse({"register", "ada@example.com", "--first-name", "Ada", "--last-name=Lovelace",
             "--show-tokens"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->command()->name, "register");
  EXPECT_EQ(parsed->positionals(), std::vector<std::string>({"ada@example.com"}));
  EXPECT_EQ(parsed->Value("first-name"), "Ada");
  EXPECT_EQ(parsed->Value("last-name"), "Lovelace");
  EXPECT_TRUE(parsed->Has("show-tokens"));
  EXPECT_FALSE(parsed->Has("password"));
  EXPECT_EQ(parsed->Value("password"), std::nullopt);
}

TEST_F(CommandLineTest, AValueMayStartWithDashes) {
  absl::StatusOr<CommandLine> parsed = Parse({"login", "a@b.c", "--password", "--secret--"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->Value("password"), "--secret--");
}

TEST_F(CommandLineTest, NegativeNumbersAndDashArePositionals) {
  absl::StatusOr<CommandLine> parsed = Parse({"sum", "-5", "-9223372036854775808"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->positionals(), std::vector<std::string>({"-5", "-9223372036854775808"}));
  parsed = Parse({"sum-stream", "-"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->positionals(), std::vector<std::string>({"-"}));
}

TEST_F(CommandLineTest, DoubleDashEndsOptions) {
  absl::StatusOr<CommandLine> parsed = Parse({"verify-email", "--", "--token-looking-thing"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->positionals(), std::vector<std::string>({"--token-looking-thing"}));
}

TEST_F(CommandLineTest, VariadicCommandsTakeAnyNumberOfTrailingArguments) {
  absl::StatusOr<CommandLine> parsed = Parse({"set-roles", "u1", "user", "admin"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->positionals(), std::vector<std::string>({"u1", "user", "admin"}));
  parsed = Parse({"sum-stream"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->positionals().empty());
}

TEST_F(CommandLineTest, HelpForms) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"-h"}, {"help"}, {"--auth", "x:1", "--help"}}) {
    absl::StatusOr<CommandLine> parsed = Parse(args);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(parsed->help());
    EXPECT_EQ(parsed->command(), nullptr);
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"sum", "--help"}, {"sum", "-h"}, {"help", "sum"}, {"--help", "sum", "1"}}) {
    absl::StatusOr<CommandLine> parsed = Parse(args);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(parsed->help());
    ASSERT_NE(parsed->command(), nullptr);
    EXPECT_EQ(parsed->command()->name, "sum");
  }
}

TEST_F(CommandLineTest, ExactUsageErrors) {
  EXPECT_EQ(UsageError({}), "missing command (see 'tollgate --help')");
  EXPECT_EQ(UsageError({"frobnicate"}), "unknown command 'frobnicate' (see 'tollgate --help')");
  EXPECT_EQ(UsageError({"help", "frobnicate"}),
            "unknown command 'frobnicate' (see 'tollgate --help')");
  EXPECT_EQ(UsageError({"--verbose", "jwks"}), "unknown option '--verbose' (see 'tollgate --help')");
  // A command's own option is not accepted before the command.
  EXPECT_EQ(UsageError({"--show-tokens", "login", "a@b.c"}),
            "unknown option '--show-tokens' (see 'tollgate --help')");
  EXPECT_EQ(UsageError({"sum", "1", "2", "--verbose"}),
            "sum: unknown option '--verbose' (see 'tollgate sum --help')");
  EXPECT_EQ(UsageError({"logout", "--all-sessions=yes"}),
            "logout: option --all-sessions takes no value (see 'tollgate logout --help')");
  EXPECT_EQ(UsageError({"--help=1"}), "option --help takes no value (see 'tollgate --help')");
  EXPECT_EQ(UsageError({"login", "a@b.c", "--password"}),
            "login: option --password needs a value (see 'tollgate login --help')");
  EXPECT_EQ(UsageError({"--auth"}), "option --auth needs a value (see 'tollgate --help')");
  EXPECT_EQ(UsageError({"jwks", "--auth="}),
            "jwks: option --auth needs a value (see 'tollgate jwks --help')");
  EXPECT_EQ(UsageError({"login", "a@b.c", "--password", "x", "--password=y"}),
            "login: option --password given twice (see 'tollgate login --help')");
  EXPECT_EQ(UsageError({"--timeout", "1", "jwks", "--timeout", "2"}),
            "jwks: option --timeout given twice (see 'tollgate jwks --help')");
  EXPECT_EQ(UsageError({"sum", "1"}), "sum: missing argument B (see 'tollgate sum --help')");
  EXPECT_EQ(UsageError({"sum"}), "sum: missing argument A (see 'tollgate sum --help')");
  EXPECT_EQ(UsageError({"sum", "1", "2", "3"}),
            "sum: unexpected argument '3' (see 'tollgate sum --help')");
  EXPECT_EQ(UsageError({"whoami", "me"}),
            "whoami: unexpected argument 'me' (see 'tollgate whoami --help')");
  EXPECT_EQ(UsageError({"set-roles", "u1"}),
            "set-roles: missing argument ROLE (see 'tollgate set-roles --help')");
  EXPECT_EQ(UsageError({"set-active", "u1"}),
            "set-active: missing argument true|false (see 'tollgate set-active --help')");
  EXPECT_EQ(UsageError({"register", "a@b.c", "--last-name", "L"}),
            "register: missing option --first-name (see 'tollgate register --help')");
}

TEST_F(CommandLineTest, ExactTimeoutErrors) {
  EXPECT_EQ(UsageError({"jwks", "--timeout", "0"}),
            "jwks: --timeout: expected whole seconds from 1 to 86400, got '0' "
            "(see 'tollgate jwks --help')");
  EXPECT_EQ(UsageError({"jwks", "--timeout", "10s"}),
            "jwks: --timeout: expected whole seconds from 1 to 86400, got '10s' "
            "(see 'tollgate jwks --help')");
  EXPECT_EQ(UsageError({"jwks", "--timeout", "86401"}),
            "jwks: --timeout: expected whole seconds from 1 to 86400, got '86401' "
            "(see 'tollgate jwks --help')");
  env_["TOLLGATE_TIMEOUT"] = "-1";
  EXPECT_EQ(UsageError({"jwks"}),
            "jwks: TOLLGATE_TIMEOUT: expected whole seconds from 1 to 86400, got '-1' "
            "(see 'tollgate jwks --help')");
}

TEST_F(CommandLineTest, TlsOptionsComeFromFlagsOrEnvironmentAndNameTheirSource) {
  absl::StatusOr<CommandLine> parsed = Parse({"sum", "1", "2"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->options().tls.any_set());

  env_["TOLLGATE_TLS_CA"] = "/env/ca.pem";
  env_["TOLLGATE_TLS_KEY"] = "/env/key.pem";
  parsed = Parse({"--tls-cert", "/flag/cert.pem", "sum", "1", "2"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const tls::ClientTlsFiles& tls = parsed->options().tls;
  EXPECT_EQ(tls.ca.path, "/env/ca.pem");
  EXPECT_EQ(tls.ca.setting, "TOLLGATE_TLS_CA");
  EXPECT_EQ(tls.certificate.path, "/flag/cert.pem");
  EXPECT_EQ(tls.certificate.setting, "--tls-cert");
  EXPECT_EQ(tls.private_key.path, "/env/key.pem");
  EXPECT_EQ(tls.private_key.setting, "TOLLGATE_TLS_KEY");

  env_.clear();
  parsed = Parse({"jwks", "--tls-ca=/flag/ca.pem"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options().tls.ca.path, "/flag/ca.pem");
  EXPECT_EQ(parsed->options().tls.ca.setting, "--tls-ca");
}

TEST_F(CommandLineTest, ExactTlsUsageErrors) {
  EXPECT_EQ(UsageError({"--tls-cert", "/c.pem", "jwks"}),
            "jwks: --tls-cert and --tls-key: set both or neither (see 'tollgate jwks --help')");
  env_["TOLLGATE_TLS_KEY"] = "/k.pem";
  EXPECT_EQ(UsageError({"jwks"}),
            "jwks: --tls-cert and TOLLGATE_TLS_KEY: set both or neither "
            "(see 'tollgate jwks --help')");
  EXPECT_EQ(UsageError({"jwks", "--tls-ca"}),
            "jwks: option --tls-ca needs a value (see 'tollgate jwks --help')");
}

TEST_F(CommandLineTest, EveryCommandHasAHelpTextNamingItsRpc) {
  for (const CommandSpec& command : AllCommands()) {
    const std::string help = command.HelpText();
    EXPECT_EQ(help.rfind("Usage: tollgate " + std::string(command.name), 0), 0u) << help;
    if (command.rpc.empty()) {
      EXPECT_NE(help.find("\nMakes no gRPC call.\n"), std::string::npos) << help;
    } else {
      EXPECT_NE(help.find("/" + std::string(command.rpc) + ".\n"), std::string::npos) << help;
    }
  }
  EXPECT_NE(FindCommand("health")->HelpText().find("\nCalls grpc.health.v1.Health/Check.\n"),
            std::string::npos);
  // 19 current names of RPCs (users activate and deactivate both
  // SetUserActive), token inspect, token verify and health, and 10 older
  // names.
  EXPECT_EQ(AllCommands().size(), 32u);
}

TEST_F(CommandLineTest, TwoWordCommandsAreAGroupAndAVerb) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"me"}, "me"},
      {{"profile", "update", "--email", "a@b.c"}, "profile update"},
      {{"password", "change"}, "password change"},
      {{"password", "reset-request", "a@b.c"}, "password reset-request"},
      {{"password", "reset", "tgp_x"}, "password reset"},
      {{"email", "verify-request"}, "email verify-request"},
      {{"email", "verify", "tge_x"}, "email verify"},
      {{"users", "list", "--all"}, "users list"},
      {{"users", "roles", "u1", "admin"}, "users roles"},
      {{"users", "activate", "u1"}, "users activate"},
      {{"users", "deactivate", "u1"}, "users deactivate"},
      // Global options may come between the two words.
      {{"users", "--timeout", "3", "deactivate", "u1"}, "users deactivate"},
  };
  for (const auto& [args, name] : cases) {
    absl::StatusOr<CommandLine> parsed = Parse(args);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->command()->name, name);
    EXPECT_EQ(parsed->command()->alias_of, "");
  }
  absl::StatusOr<CommandLine> parsed = Parse({"users", "roles", "u1", "user", "admin"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->positionals(), std::vector<std::string>({"u1", "user", "admin"}));
  EXPECT_EQ(parsed->group(), FindGroup("users"));
  parsed = Parse({"users", "list", "--all", "--page-size", "5"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->Has("all"));
  EXPECT_EQ(parsed->Value("page-size"), "5");
}

TEST_F(CommandLineTest, OlderNamesAreTheSameCommands) {
  const std::vector<std::pair<std::string, std::string>> aliases = {
      {"whoami", "me"},
      {"update-profile", "profile update"},
      {"change-password", "password change"},
      {"request-password-reset", "password reset-request"},
      {"reset-password", "password reset"},
      {"request-email-verification", "email verify-request"},
      {"verify-email", "email verify"},
      {"list-users", "users list"},
      {"set-roles", "users roles"},
  };
  for (const auto& [alias, current] : aliases) {
    const CommandSpec* old_name = FindCommand(alias);
    const CommandSpec* new_name = FindCommand(current);
    ASSERT_NE(old_name, nullptr) << alias;
    ASSERT_NE(new_name, nullptr) << current;
    EXPECT_EQ(old_name->alias_of, current);
    EXPECT_EQ(old_name->rpc, new_name->rpc);
    EXPECT_EQ(old_name->positionals, new_name->positionals);
    EXPECT_EQ(old_name->flags.size(), new_name->flags.size());
    EXPECT_EQ(old_name->authenticated, new_name->authenticated);
  }
  const CommandSpec* set_active = FindCommand("set-active");
  ASSERT_NE(set_active, nullptr);
  EXPECT_EQ(set_active->rpc, "SetUserActive");
  EXPECT_EQ(set_active->alias_of, "users activate|deactivate");
  EXPECT_EQ(FindCommand("users"), nullptr);  // a group, not a command
}

TEST_F(CommandLineTest, GroupHelpForms) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"users", "--help"}, {"users", "-h"}, {"help", "users"}, {"--help", "users"}}) {
    absl::StatusOr<CommandLine> parsed = Parse(args);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(parsed->help());
    EXPECT_EQ(parsed->command(), nullptr);
    EXPECT_EQ(parsed->group(), FindGroup("users"));
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"users", "roles", "--help"}, {"help", "users", "roles"}, {"users", "-h", "roles"}}) {
    absl::StatusOr<CommandLine> parsed = Parse(args);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(parsed->help());
    ASSERT_NE(parsed->command(), nullptr);
    EXPECT_EQ(parsed->command()->name, "users roles");
  }
}

TEST_F(CommandLineTest, ExactUsageErrorsOfTwoWordCommands) {
  EXPECT_EQ(UsageError({"users"}),
            "users: missing verb, expected list, roles, activate or deactivate "
            "(see 'tollgate users --help')");
  EXPECT_EQ(UsageError({"password"}),
            "password: missing verb, expected change, reset-request or reset "
            "(see 'tollgate password --help')");
  EXPECT_EQ(UsageError({"email", "confirm"}),
            "email: unknown verb 'confirm', expected verify-request or verify "
            "(see 'tollgate email --help')");
  EXPECT_EQ(UsageError({"profile"}),
            "profile: missing verb, expected update (see 'tollgate profile --help')");
  EXPECT_EQ(UsageError({"users roles", "u1", "admin"}),
            "unknown command 'users roles' (see 'tollgate --help')");
  EXPECT_EQ(UsageError({"users", "--all", "list"}),
            "users: unknown option '--all' (see 'tollgate users --help')");
  EXPECT_EQ(UsageError({"users", "roles", "u1"}),
            "users roles: missing argument ROLE (see 'tollgate users roles --help')");
  EXPECT_EQ(UsageError({"users", "roles"}),
            "users roles: missing argument USER_ID (see 'tollgate users roles --help')");
  EXPECT_EQ(UsageError({"users", "activate"}),
            "users activate: missing argument USER_ID (see 'tollgate users activate --help')");
  EXPECT_EQ(UsageError({"users", "deactivate", "u1", "u2"}),
            "users deactivate: unexpected argument 'u2' "
            "(see 'tollgate users deactivate --help')");
  EXPECT_EQ(UsageError({"users", "list", "--all=yes"}),
            "users list: option --all takes no value (see 'tollgate users list --help')");
  EXPECT_EQ(UsageError({"password", "reset-request"}),
            "password reset-request: missing argument EMAIL "
            "(see 'tollgate password reset-request --help')");
  EXPECT_EQ(UsageError({"password", "reset"}),
            "password reset: missing argument CODE (see 'tollgate password reset --help')");
  EXPECT_EQ(UsageError({"email", "verify"}),
            "email verify: missing argument CODE (see 'tollgate email verify --help')");
  EXPECT_EQ(UsageError({"me", "now"}), "me: unexpected argument 'now' (see 'tollgate me --help')");
  EXPECT_EQ(UsageError({"profile", "update", "--phone", "1"}),
            "profile update: unknown option '--phone' (see 'tollgate profile update --help')");
  EXPECT_EQ(UsageError({"email", "verify-request", "ada@example.com"}),
            "email verify-request: unexpected argument 'ada@example.com' "
            "(see 'tollgate email verify-request --help')");
}

}  // namespace
}  // namespace tollgate::cli
