#include "client/cli/command_spec.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tollgate::cli {
namespace {

constexpr absl::string_view kPasswordHelp =
    "the password (visible to other users in 'ps'; prefer TOLLGATE_PASSWORD or stdin)";
constexpr absl::string_view kNewPasswordHelp =
    "the new password (visible in 'ps'; prefer TOLLGATE_NEW_PASSWORD or stdin)";
constexpr absl::string_view kShowTokensHelp =
    "print the access and refresh tokens instead of \"<saved to PATH>\"";

const FlagSpec kPasswordFlag{"password", "PASSWORD", kPasswordHelp};
const FlagSpec kShowTokensFlag{"show-tokens", "", kShowTokensHelp};

std::vector<CommandSpec> BuildCommands() {
  std::vector<CommandSpec> commands;
  commands.push_back(CommandSpec{
      .name = "register",
      .rpc = "Register",
      .summary = "create an account and log in (saves the tokens)",
      .positionals = {"EMAIL"},
      .min_positionals = 1,
      .flags = {{"first-name", "NAME", "first name (required)", true},
                {"last-name", "NAME", "last name (required)", true},
                kPasswordFlag,
                kShowTokensFlag},
      .details = "The password comes from --password, else TOLLGATE_PASSWORD, else one line\n"
                 "of stdin (read without echo on a terminal).\n",
  });
  commands.push_back(CommandSpec{
      .name = "login",
      .rpc = "Login",
      .summary = "log in and save the token pair in the token file",
      .positionals = {"EMAIL"},
      .min_positionals = 1,
      .flags = {kPasswordFlag, kShowTokensFlag},
      .details = "The password comes from --password, else TOLLGATE_PASSWORD, else one line\n"
                 "of stdin (read without echo on a terminal).\n",
  });
  commands.push_back(CommandSpec{
      .name = "refresh",
      .rpc = "Refresh",
      .summary = "exchange the saved refresh token for a new pair (saved)",
      .flags = {kShowTokensFlag},
  });
  commands.push_back(CommandSpec{
      .name = "logout",
      .rpc = "Logout",
      .summary = "revoke the saved session and delete the token file",
      .flags = {{"all-sessions", "", "revoke every session of the account, not just this one"}},
      .details = "If the call fails the token file is kept, so that logout can be retried.\n",
  });
  commands.push_back(CommandSpec{
      .name = "jwks",
      .rpc = "GetJwks",
      .summary = "print the public verification keys (RFC 7517 JWK Set)",
  });
  commands.push_back(CommandSpec{
      .name = "me",
      .rpc = "GetCurrentUser",
      .summary = "print the logged-in account",
      .authenticated = true,
  });
  commands.push_back(CommandSpec{
      .name = "profile update",
      .rpc = "UpdateProfile",
      .summary = "change the given fields of the logged-in account",
      .flags = {{"first-name", "NAME", "new first name"},
                {"last-name", "NAME", "new last name"},
                {"email", "EMAIL", "new email (becomes unverified)"}},
      .authenticated = true,
      .details = "At least one of the options is required; only the given fields change.\n",
  });
  commands.push_back(CommandSpec{
      .name = "password change",
      .rpc = "ChangePassword",
      .summary = "change the password; all sessions end, a fresh pair is saved",
      .flags = {{"password", "PASSWORD",
                 "the current password (visible in 'ps'; prefer TOLLGATE_PASSWORD or stdin)"},
                {"new-password", "PASSWORD", kNewPasswordHelp},
                kShowTokensFlag},
      .authenticated = true,
      .details = "The current password comes from --password, else TOLLGATE_PASSWORD; the new\n"
                 "one from --new-password, else TOLLGATE_NEW_PASSWORD. Whatever is missing is\n"
                 "read from stdin, one line each, current first (without echo on a terminal).\n"
                 "The server ends every session of the account, this one included; the fresh\n"
                 "pair it returns replaces the token file.\n",
  });
  commands.push_back(CommandSpec{
      .name = "password reset-request",
      .rpc = "RequestPasswordReset",
      .summary = "mail a password reset code (answers OK for unknown emails too)",
      .positionals = {"EMAIL"},
      .min_positionals = 1,
  });
  commands.push_back(CommandSpec{
      .name = "password reset",
      .rpc = "ResetPassword",
      .summary = "set a new password with the mailed reset code (tgp_...)",
      .positionals = {"CODE"},
      .min_positionals = 1,
      .flags = {{"new-password", "PASSWORD", kNewPasswordHelp}},
      .details = "CODE is the tgp_... code from the password reset mail. The new password\n"
                 "comes from --new-password, else TOLLGATE_NEW_PASSWORD, else one line of\n"
                 "stdin (read without echo on a terminal). Every session of the account ends.\n",
  });
  commands.push_back(CommandSpec{
      .name = "email verify-request",
      .rpc = "RequestEmailVerification",
      .summary = "mail an email verification code to the logged-in account",
      .authenticated = true,
  });
  commands.push_back(CommandSpec{
      .name = "email verify",
      .rpc = "VerifyEmail",
      .summary = "mark an email verified with the mailed code (tge_...)",
      .positionals = {"CODE"},
      .min_positionals = 1,
      .details = "CODE is the tge_... code from the verification mail. Prints the account.\n",
  });
  commands.push_back(CommandSpec{
      .name = "users list",
      .rpc = "ListUsers",
      .summary = "page through all accounts (role admin)",
      .flags = {{"page-size", "N", "at most N users per page (0: the server's default)"},
                {"page-token", "TOKEN", "the next_page_token of the previous page"},
                {"all", "", "follow next_page_token to the last page, print every user"}},
      .authenticated = true,
      .details = "Prints {\"users\":[...],\"next_page_token\":\"...\"}; an empty next_page_token\n"
                 "is the last page. With --all the pages are fetched one after another (from\n"
                 "--page-token if given, --page-size users each) and printed as one reply with\n"
                 "every user and an empty next_page_token.\n",
  });
  commands.push_back(CommandSpec{
      .name = "users roles",
      .rpc = "SetUserRoles",
      .summary = "replace an account's roles (role admin)",
      .positionals = {"USER_ID", "ROLE"},
      .min_positionals = 2,
      .variadic = true,
      .authenticated = true,
  });
  commands.push_back(CommandSpec{
      .name = "users activate",
      .rpc = "SetUserActive",
      .summary = "activate an account (role admin)",
      .positionals = {"USER_ID"},
      .min_positionals = 1,
      .authenticated = true,
  });
  commands.push_back(CommandSpec{
      .name = "users deactivate",
      .rpc = "SetUserActive",
      .summary = "deactivate an account and end its sessions (role admin)",
      .positionals = {"USER_ID"},
      .min_positionals = 1,
      .authenticated = true,
  });
  commands.push_back(CommandSpec{
      .name = "sum",
      .rpc = "Sum",
      .summary = "print A + B (SumService)",
      .positionals = {"A", "B"},
      .min_positionals = 2,
      .authenticated = true,
      .sum_service = true,
      .details = "A and B are decimal int64 values.\n",
  });
  commands.push_back(CommandSpec{
      .name = "sum-stream",
      .rpc = "SumStream",
      .summary = "stream values and print their sum (SumService)",
      .positionals = {"VALUE"},
      .variadic = true,
      .authenticated = true,
      .sum_service = true,
      .details = "The values are decimal int64 arguments, or with the single argument '-'\n"
                 "one value per line of stdin (blank lines are skipped). No values: sum 0.\n",
  });
  commands.push_back(CommandSpec{
      .name = "usage",
      .rpc = "GetUsage",
      .summary = "print the Sum/SumStream calls per subject (SumService, role admin)",
      .authenticated = true,
      .sum_service = true,
  });

  commands.push_back(CommandSpec{
      .name = "token inspect",
      .summary = "print a token's header and claims, NOT verified",
      .positionals = {"TOKEN"},
      .min_positionals = 1,
      .details = "Decodes a compact JWS and pretty-prints its header and claims (with exp, iat\n"
                 "and nbf as dates), under a line saying that nothing was verified: anyone\n"
                 "can write any claims into a token. TOKEN '-' reads it from stdin (a token\n"
                 "in the arguments is visible in 'ps'). Exit 1 when it is not a compact JWS\n"
                 "with a JSON object header.\n",
  });
  commands.push_back(CommandSpec{
      .name = "token verify",
      .summary = "verify a token with a JWK Set, as the services do",
      .positionals = {"TOKEN"},
      .min_positionals = 1,
      .flags = {{"jwks", "FILE|URL", "the keys: a JWK Set file, or an http(s):// URL such as\n"
                                      "                         AuthService's /.well-known/jwks.json",
                 true},
                {"iss", "ISSUER", "the required iss (default tollgate)"},
                {"aud", "AUDIENCE", "the required aud (default tollgate)"},
                {"now", "UNIX_SECONDS", "the time to check exp, nbf and iat at (default now)"},
                {"leeway", "SECONDS", "clock leeway, 0..86400 (default 30)"},
                {"jws-only", "", "check only the JWS: form, header, algorithm, signature"}},
      .details =
          "Runs the checks of the services' interceptor (common/token): size, form,\n"
          "header (alg, no embedded keys, no crit, typ at+jwt), key by kid, algorithm\n"
          "against the key, signature, then iss, aud, exp/nbf/iat and the claims\n"
          "tollgate needs. Valid: the claims as one line of JSON, exit 0. Invalid:\n"
          "'tollgate: token verify: <error>: <why>' on stderr, exit 1, where <error>\n"
          "is the check that failed (expired, bad_signature, unknown_kid, ...; the\n"
          "names of the reason label of tollgate_auth_denied_total).\n"
          "\n"
          "--jws-only checks the JWS alone (any typ, any payload, no claims), for\n"
          "published JWS test vectors; it prints {\"header\":...,\"payload\":\"...\"}\n"
          "and takes none of --iss, --aud, --now, --leeway.\n"
          "\n"
          "A key set file may hold an oct key (an HS256 secret); a key set fetched\n"
          "from a URL may not (a published secret is no secret). An https:// URL is\n"
          "checked against the system's CAs, or --tls-ca when given. A key set that\n"
          "cannot be read or fetched is exit 1 too, with 'cannot load the key set'.\n"
          "TOKEN '-' reads it from stdin.\n",
  });
  commands.push_back(CommandSpec{
      .name = "health",
      .rpc = "Check",
      .summary = "ask a service's gRPC health service (for container health checks)",
      .flags = {{"service", "NAME",
                 "the service to ask about (default \"\": the whole server)"},
                {"addr", "ADDR", "the server to ask (default: the --sum address when NAME is\n"
                                 "                         tollgate.sum.v1.SumService, else --auth)"}},
      .service = "grpc.health.v1.Health",
      .details = "SERVING: prints {\"status\":\"SERVING\"}, exit 0. Anything else (NOT_SERVING,\n"
                 "an unknown service name, no answer within --timeout): one line on stderr\n"
                 "saying which, exit 1. AuthService answers NOT_SERVING while its database\n"
                 "is unreachable; both services while they stop.\n",
  });

  // Older names, documented before the group/verb grammar: the same command
  // under its old name.
  const auto add_alias = [&commands](absl::string_view alias, absl::string_view current) {
    const auto it = std::find_if(commands.begin(), commands.end(),
                                 [&](const CommandSpec& c) { return c.name == current; });
    CommandSpec spec = *it;
    spec.name = alias;
    spec.alias_of = current;
    commands.push_back(std::move(spec));
  };
  add_alias("whoami", "me");
  add_alias("update-profile", "profile update");
  add_alias("change-password", "password change");
  add_alias("request-password-reset", "password reset-request");
  add_alias("reset-password", "password reset");
  add_alias("request-email-verification", "email verify-request");
  add_alias("verify-email", "email verify");
  add_alias("list-users", "users list");
  add_alias("set-roles", "users roles");
  // Its own grammar: one command for both verbs.
  commands.push_back(CommandSpec{
      .name = "set-active",
      .rpc = "SetUserActive",
      .summary = "activate or deactivate an account (role admin)",
      .positionals = {"USER_ID", "true|false"},
      .min_positionals = 2,
      .authenticated = true,
      .alias_of = "users activate|deactivate",
  });
  return commands;
}

std::vector<CommandGroup> BuildGroups() {
  return {
      {"profile", "change the logged-in account"},
      {"password", "change the password, or reset a forgotten one by mail"},
      {"email", "verify the account's email by mail"},
      {"users", "manage accounts (role admin)"},
      {"token", "decode or verify an access token here, with no call"},
  };
}

std::string FlagColumn(const FlagSpec& flag) {
  std::string column = absl::StrCat("--", flag.name);
  if (!flag.is_switch()) absl::StrAppend(&column, " ", flag.value_name);
  return column;
}

std::string PositionalsText(const CommandSpec& command) {
  std::string text;
  for (size_t i = 0; i < command.positionals.size(); ++i) {
    const bool last = i + 1 == command.positionals.size();
    std::string name(command.positionals[i]);
    if (last && command.variadic) name += "...";
    if (i >= command.min_positionals) name = "[" + name + "]";
    // sum-stream's one positional has a second form: a lone "-" (stdin).
    if (command.name == "sum-stream") name = "[VALUE... | -]";
    if (!text.empty()) text += " ";
    text += name;
  }
  return text;
}

// Width of the first column of the command lists.
constexpr size_t kListColumn = 30;

// One line "  <label> <positionals>   <summary>" of a command list (the
// summary on the next line when the first column is too wide).
void AppendListEntry(absl::string_view label, const CommandSpec& command, std::string* text) {
  std::string column(label);
  const std::string positionals_text = PositionalsText(command);
  if (!positionals_text.empty()) column += " " + positionals_text;
  if (column.size() < kListColumn) column.resize(kListColumn, ' ');
  else column += "\n" + std::string(kListColumn + 2, ' ');
  absl::StrAppend(text, "  ", column, command.summary, "\n");
}

constexpr absl::string_view kGlobalOptionsHelp =
    "Global options (also accepted after the command):\n"
    "  --auth ADDR          AuthService address (env TOLLGATE_AUTH_ADDR,\n"
    "                       default 127.0.0.1:50051)\n"
    "  --sum ADDR           SumService address (env TOLLGATE_SUM_ADDR,\n"
    "                       default 127.0.0.1:50052)\n"
    "  --token-file PATH    where the tokens are kept, mode 0600 (env TOLLGATE_TOKEN_FILE,\n"
    "                       default $HOME/.config/tollgate/tokens.json)\n"
    "  --timeout SECONDS    deadline of each call, 1..86400 (env TOLLGATE_TIMEOUT,\n"
    "                       default 10)\n"
    "  --tls-ca FILE        TLS to both services, trusting the PEM CAs in FILE\n"
    "                       (env TOLLGATE_TLS_CA; default plaintext)\n"
    "  --tls-cert FILE      PEM client certificate for mTLS, with --tls-key\n"
    "                       (env TOLLGATE_TLS_CERT)\n"
    "  --tls-key FILE       PEM private key of --tls-cert (env TOLLGATE_TLS_KEY)\n"
    "  -h, --help           show help\n";

}  // namespace

absl::string_view CommandSpec::group() const {
  const size_t space = name.find(' ');
  return space == absl::string_view::npos ? absl::string_view() : name.substr(0, space);
}

const FlagSpec* CommandSpec::FindFlag(absl::string_view flag_name) const {
  for (const FlagSpec& flag : flags) {
    if (flag.name == flag_name) return &flag;
  }
  return nullptr;
}

std::string CommandSpec::UsageLine() const {
  std::string line = absl::StrCat("tollgate ", name);
  for (const FlagSpec& flag : flags) {
    if (flag.required) absl::StrAppend(&line, " ", FlagColumn(flag));
  }
  if (std::any_of(flags.begin(), flags.end(), [](const FlagSpec& f) { return !f.required; })) {
    absl::StrAppend(&line, " [options]");
  }
  const std::string positionals_text = PositionalsText(*this);
  if (!positionals_text.empty()) absl::StrAppend(&line, " ", positionals_text);
  return line;
}

std::string CommandSpec::HelpText() const {
  std::string text = absl::StrCat("Usage: ", UsageLine(), "\n\n", summary, "\n\n");
  if (rpc.empty()) {
    text += "Makes no gRPC call.\n";
  } else {
    const absl::string_view called_service = !service.empty() ? service
                                             : sum_service    ? "tollgate.sum.v1.SumService"
                                                              : "tollgate.auth.v1.AuthService";
    absl::StrAppend(&text, "Calls ", called_service, "/", rpc, ".\n");
  }
  if (!alias_of.empty()) {
    absl::StrAppend(&text, "An older name of 'tollgate ", alias_of, "', still accepted.\n");
  }
  if (authenticated) {
    text +=
        "Sends the saved access token; refreshes it first when less than max(60 s, 10%\n"
        "of its lifetime) is left, and once more (then retries once) when the call\n"
        "answers UNAUTHENTICATED.\n";
  }
  if (!flags.empty()) {
    text += "\nOptions:\n";
    for (const FlagSpec& flag : flags) {
      std::string column = FlagColumn(flag);
      if (column.size() < 22) column.resize(22, ' ');
      else column += "\n" + std::string(22, ' ');
      absl::StrAppend(&text, "  ", column, " ", flag.help, "\n");
    }
  }
  if (!details.empty()) absl::StrAppend(&text, "\n", details);
  absl::StrAppend(&text, "\n", kGlobalOptionsHelp);
  return text;
}

absl::Status CommandSpec::UsageError(absl::string_view problem) const {
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": ", problem, " (see 'tollgate ", name, " --help')"));
}

const std::vector<CommandSpec>& AllCommands() {
  static const std::vector<CommandSpec>* const commands =
      new std::vector<CommandSpec>(BuildCommands());
  return *commands;
}

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& command : AllCommands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

std::string GeneralHelpText() {
  std::string text =
      "Usage: tollgate [global options] COMMAND [options] [arguments]\n"
      "\n"
      "A command-line client for every RPC of tollgate's AuthService and SumService,\n"
      "a token inspector and verifier, and a health probe.\n"
      "Replies are printed on stdout as JSON (proto field names); errors as one line\n"
      "on stderr: 'tollgate: <RPC>: <CODE>: <message>'.\n"
      "\n"
      "Commands:\n";
  for (const CommandSpec& command : AllCommands()) {
    if (command.alias_of.empty()) AppendListEntry(command.name, command, &text);
  }
  text += "\nOlder names, still accepted:\n";
  for (const CommandSpec& command : AllCommands()) {
    if (command.alias_of.empty()) continue;
    std::string column(command.name);
    column.resize(std::max<size_t>(column.size(), kListColumn), ' ');
    absl::StrAppend(&text, "  ", column, command.alias_of, "\n");
  }
  text += "\n";
  absl::StrAppend(&text, kGlobalOptionsHelp);
  text +=
      "\n"
      "login, register, refresh and password change save the token pair in the token\n"
      "file (created with mode 0600, replaced atomically); logout deletes it. A token\n"
      "file readable by group or others is refused. Tokens are printed only with\n"
      "--show-tokens.\n"
      "\n"
      "Passwords come from --password / --new-password, else TOLLGATE_PASSWORD /\n"
      "TOLLGATE_NEW_PASSWORD, else one line each from stdin (no echo on a terminal).\n"
      "Options are visible to other users in 'ps': prefer the environment or stdin.\n"
      "\n"
      "Exit status: 0 success; 1 the call failed, the token file cannot be used, the\n"
      "token is invalid (token verify) or the service is not SERVING (health); 2 usage\n"
      "error. 'tollgate COMMAND --help' shows the options of one command, 'tollgate\n"
      "GROUP --help' (profile, password, email, users, token) the verbs of a group.\n";
  return text;
}

absl::Status GeneralUsageError(absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(problem, " (see 'tollgate --help')"));
}

const std::vector<CommandGroup>& AllGroups() {
  static const std::vector<CommandGroup>* const groups =
      new std::vector<CommandGroup>(BuildGroups());
  return *groups;
}

const CommandGroup* FindGroup(absl::string_view name) {
  for (const CommandGroup& group : AllGroups()) {
    if (group.name == name) return &group;
  }
  return nullptr;
}

std::vector<const CommandSpec*> CommandGroup::Commands() const {
  std::vector<const CommandSpec*> commands;
  for (const CommandSpec& command : AllCommands()) {
    if (command.group() == name) commands.push_back(&command);
  }
  return commands;
}

std::string CommandGroup::HelpText() const {
  std::string text =
      absl::StrCat("Usage: tollgate ", name, " VERB [options] [arguments]\n\n", summary,
                   "\n\nVerbs:\n");
  for (const CommandSpec* command : Commands()) {
    AppendListEntry(command->name.substr(name.size() + 1), *command, &text);
  }
  absl::StrAppend(&text, "\n'tollgate ", name,
                  " VERB --help' shows the options of one verb; 'tollgate --help' the\n"
                  "global options.\n");
  return text;
}

absl::Status CommandGroup::UsageError(absl::string_view problem) const {
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": ", problem, " (see 'tollgate ", name, " --help')"));
}

}  // namespace tollgate::cli
