#include "common/config/settings.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace tollgate::config {

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::string Describe(const Setting& setting) {
  return absl::StrCat(setting.env, " (--", setting.flag, ")");
}

absl::StatusOr<RawSettings> RawSettings::Read(std::span<const Setting* const> settings, int argc,
                                              char** argv, const EnvLookup& env) {
  RawSettings raw;
  std::map<absl::string_view, const Setting*> by_flag;
  for (const Setting* setting : settings) by_flag[setting->flag] = setting;

  std::map<absl::string_view, std::string> from_flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") continue;
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "' (see --help)"));
    }
    arg.remove_prefix(2);
    absl::string_view name = arg.substr(0, arg.find('='));
    auto found = by_flag.find(name);
    if (found == by_flag.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    if (name.size() < arg.size()) {
      from_flags[found->first] = std::string(arg.substr(name.size() + 1));
    } else if (i + 1 < argc) {
      from_flags[found->first] = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
    }
  }

  for (const Setting* setting : settings) {
    std::string value;
    absl::string_view source = "default";
    if (auto flag = from_flags.find(setting->flag); flag != from_flags.end()) {
      value = flag->second;
      source = "flag";
    } else if (std::optional<std::string> env_value = env(std::string(setting->env))) {
      value = *env_value;
      source = "env";
    }
    // An empty value means unset, so `VAR=` in a compose file does not
    // override a default with nothing.
    if (value.empty()) {
      value = std::string(setting->default_value);
      source = "default";
    }
    raw.order_.push_back(setting);
    raw.values_[setting->flag] = std::move(value);
    raw.sources_[setting->flag] = source;
  }
  return raw;
}

std::vector<LoggedSetting> RawSettings::ForLog() const {
  std::vector<LoggedSetting> logged;
  for (const Setting* setting : order_) {
    const std::string& value = Get(*setting);
    std::string shown;
    switch (setting->secrecy) {
      case Secrecy::kNone: shown = value; break;
      case Secrecy::kSecret: shown = value.empty() ? "" : "<set>"; break;
      case Secrecy::kPasswordInUrl: shown = WithPasswordMasked(value); break;
    }
    logged.push_back(
        LoggedSetting{std::string(setting->env), std::move(shown), sources_.at(setting->flag)});
  }
  return logged;
}

std::string WithPasswordMasked(absl::string_view url) {
  constexpr std::string_view kMask = "***";
  std::string out(url);
  // scheme://user:PASSWORD@host: the user info ends at the last '@' before
  // the query, so a password holding a raw '@' or '/' is still masked whole.
  if (const size_t scheme_end = out.find("://"); scheme_end != std::string::npos) {
    const size_t start = scheme_end + 3;
    const size_t query = out.find('?', start);
    const size_t at = out.rfind('@', query == std::string::npos ? std::string::npos : query);
    if (at != std::string::npos && at > start) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, kMask);
    }
  }
  // password=VALUE: a URI query parameter (ends at '&') or a libpq keyword
  // (ends at a space, or at the closing quote of 'a quoted value').
  constexpr std::string_view kKey = "password=";
  for (size_t at = out.find(kKey); at != std::string::npos; at = out.find(kKey, at + 1)) {
    const size_t start = at + kKey.size();
    size_t end;
    if (start < out.size() && out[start] == '\'') {
      end = start + 1;
      while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, out.size());
    } else {
      end = std::min(out.find_first_of(" &", start), out.size());
    }
    if (end > start) out.replace(start, end - start, kMask);
  }
  return out;
}

absl::StatusOr<int64_t> ParseInteger(const RawSettings& raw, const Setting& setting,
                                     int64_t min_value, int64_t max_value, absl::string_view unit) {
  const std::string& text = raw.Get(setting);
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min_value || value > max_value) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(setting), ": must be ", unit, " in [",
                                                   min_value, ", ", max_value, "], got '", text,
                                                   "'"));
  }
  return value;
}

absl::StatusOr<int64_t> ParseSeconds(const RawSettings& raw, const Setting& setting,
                                     int64_t min_seconds, int64_t max_seconds) {
  return ParseInteger(raw, setting, min_seconds, max_seconds, "whole seconds");
}

absl::StatusOr<logging::Format> ParseLogFormat(const RawSettings& raw, const Setting& setting) {
  const std::string& text = raw.Get(setting);
  absl::StatusOr<logging::Format> format = logging::ParseFormat(text);
  if (!format.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(setting), ": must be json or text, got '", text, "'"));
  }
  return format;
}

absl::StatusOr<logging::Level> ParseLogLevel(const RawSettings& raw, const Setting& setting) {
  const std::string& text = raw.Get(setting);
  absl::StatusOr<logging::Level> level = logging::ParseLevel(text);
  if (!level.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Describe(setting), ": must be debug, info, warn or error, got '", text, "'"));
  }
  return level;
}

absl::Status CheckListenAddress(const Setting& setting, const std::string& address) {
  if (absl::StartsWith(address, "unix:") && address.size() > 5) return absl::OkStatus();
  size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        Describe(setting), ": must be host:port with a port in [0, 65535], got '", address, "'"));
  }
  return absl::OkStatus();
}

std::string HelpTable(std::span<const Setting* const> settings) {
  size_t flag_width = 4, env_width = 8, default_width = 7;
  for (const Setting* setting : settings) {
    absl::string_view shown =
        setting->default_shown.empty() ? setting->default_value : setting->default_shown;
    flag_width = std::max(flag_width, setting->flag.size() + 2);
    env_width = std::max(env_width, setting->env.size());
    default_width = std::max(default_width, shown.size());
  }
  auto row = [&](absl::string_view flag, absl::string_view env, absl::string_view shown,
                 absl::string_view meaning) {
    return absl::StrCat("  ", flag, std::string(flag_width - flag.size() + 2, ' '), env,
                        std::string(env_width - env.size() + 2, ' '), shown,
                        std::string(default_width - shown.size() + 2, ' '), meaning, "\n");
  };
  std::string table = row("flag", "variable", "default", "meaning");
  for (const Setting* setting : settings) {
    absl::string_view shown =
        setting->default_shown.empty() ? setting->default_value : setting->default_shown;
    table += row(absl::StrCat("--", setting->flag), setting->env, shown, setting->meaning);
  }
  return table;
}

bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

std::string ServiceHelpText(absl::string_view program, absl::string_view about,
                            std::span<const Setting* const> settings) {
  return absl::StrCat(
      program, ": ", about, "\n",
      "\n"
      "Usage: ", program, " [--flag=value | --flag value]...\n"
      "\n"
      "Every flag has an environment variable of the same meaning; the flag wins.\n"
      "An empty value counts as unset. Pass secrets by variable: flags show in ps.\n"
      "\n",
      HelpTable(settings));
}

namespace {

bool SameSetting(const Setting& a, const Setting& b) {
  return a.env == b.env && a.flag == b.flag && a.default_value == b.default_value &&
         a.default_shown == b.default_shown && a.meaning == b.meaning;
}

// A table cell: a '|' would end the cell early.
std::string Cell(absl::string_view text) { return absl::StrReplaceAll(text, {{"|", "\\|"}}); }

}  // namespace

std::string MarkdownTable(std::span<const ServiceSettings> services) {
  struct Row {
    const Setting* setting;
    std::vector<absl::string_view> services;
  };
  std::vector<Row> rows;
  for (const ServiceSettings& service : services) {
    for (const Setting* setting : service.settings) {
      auto same = std::find_if(rows.begin(), rows.end(),
                               [&](const Row& row) { return SameSetting(*row.setting, *setting); });
      if (same != rows.end()) {
        same->services.push_back(service.service);
      } else {
        rows.push_back(Row{setting, {service.service}});
      }
    }
  }

  std::string table =
      "| variable | flag | service | meaning | default |\n"
      "|---|---|---|---|---|\n";
  for (const Row& row : rows) {
    const Setting& setting = *row.setting;
    std::string service = row.services.size() == 2 && services.size() == 2
                              ? "both"
                              : absl::StrJoin(row.services, ", ");
    std::string shown = !setting.default_shown.empty() ? std::string(setting.default_shown)
                        : setting.default_value.empty()
                            ? std::string("unset")
                            : absl::StrCat("`", setting.default_value, "`");
    absl::StrAppend(&table, "| `", setting.env, "` | `--", setting.flag, "` | ", service, " | ",
                    Cell(setting.meaning), " | ", Cell(shown), " |\n");
  }
  return table;
}

}  // namespace tollgate::config
