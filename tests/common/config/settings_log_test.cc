// How the start-up log shows settings (RawSettings::ForLog, WithPasswordMasked)
// and the *_LOG_FORMAT / *_LOG_LEVEL parsers.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config/settings.h"

namespace tollgate::config {
namespace {

constexpr Setting kListen{"listen", "LISTEN", "0.0.0.0:1", "", "address"};
constexpr Setting kSecret{"secret", "SECRET", "", "unset", "shared secret", Secrecy::kSecret};
constexpr Setting kUnsetSecret{"other-secret", "OTHER_SECRET", "", "unset", "unset secret",
                               Secrecy::kSecret};
constexpr Setting kUrl{"url", "URL", "", "", "a URL", Secrecy::kPasswordInUrl};
constexpr Setting kLogFormat{"log-format", "LOG_FORMAT", "json", "", "format"};
constexpr Setting kLogLevel{"log-level", "LOG_LEVEL", "info", "", "level"};

constexpr const Setting* kSettings[] = {&kListen, &kSecret, &kUnsetSecret, &kUrl,
                                        &kLogFormat, &kLogLevel};

absl::StatusOr<RawSettings> Read(std::vector<std::string> args,
                                 std::map<std::string, std::string> env) {
  args.insert(args.begin(), "service");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return RawSettings::Read(kSettings, static_cast<int>(args.size()), argv.data(),
                           [env](const std::string& name) -> std::optional<std::string> {
                             auto found = env.find(name);
                             if (found == env.end()) return std::nullopt;
                             return found->second;
                           });
}

TEST(RawSettingsForLogTest, EverySettingInOrderWithItsSourceAndSecretsMasked) {
  auto raw = Read({"--listen=127.0.0.1:5"},
                  {{"LISTEN", "ignored: the flag wins"},
                   {"SECRET", "hunter2hunter2"},
                   {"OTHER_SECRET", ""},
                   {"URL", "postgresql://app:pw%40x@db:5432/app?sslmode=require"}});
  ASSERT_TRUE(raw.ok()) << raw.status();
  const std::vector<LoggedSetting> logged = raw->ForLog();
  ASSERT_EQ(logged.size(), 6u);
  const auto expect = [&](size_t i, const std::string& name, const std::string& value,
                          const std::string& source) {
    EXPECT_EQ(logged[i].variable, name);
    EXPECT_EQ(logged[i].value, value) << name;
    EXPECT_EQ(std::string(logged[i].source), source) << name;
  };
  expect(0, "LISTEN", "127.0.0.1:5", "flag");
  expect(1, "SECRET", "<set>", "env");
  expect(2, "OTHER_SECRET", "", "default");  // empty counts as unset
  expect(3, "URL", "postgresql://app:***@db:5432/app?sslmode=require", "env");
  expect(4, "LOG_FORMAT", "json", "default");
  expect(5, "LOG_LEVEL", "info", "default");
}

TEST(WithPasswordMaskedTest, MasksTheUserInfoPasswordAndEveryPasswordParameter) {
  EXPECT_EQ(WithPasswordMasked("postgresql://app:s3cret@db/app"), "postgresql://app:***@db/app");
  EXPECT_EQ(WithPasswordMasked("smtps://mailer:p%40ss@mail.example.com:465"),
            "smtps://mailer:***@mail.example.com:465");
  // A raw '@' or '/' in the password: the user info ends at the last '@'.
  EXPECT_EQ(WithPasswordMasked("postgresql://app:a@b/c@db/app"), "postgresql://app:***@db/app");
  EXPECT_EQ(WithPasswordMasked("postgresql://db/app?user=app&password=s3cret&sslmode=require"),
            "postgresql://db/app?user=app&password=***&sslmode=require");
  EXPECT_EQ(WithPasswordMasked("host=db user=app password=s3cret dbname=app"),
            "host=db user=app password=*** dbname=app");
  EXPECT_EQ(WithPasswordMasked("host=db password='two words' dbname=app"),
            "host=db password=*** dbname=app");
}

TEST(WithPasswordMaskedTest, LeavesAUrlWithoutPasswordAlone) {
  for (const std::string url :
       {"postgresql://postgres@127.0.0.1:5432/tollgate", "smtp://127.0.0.1:2525",
        "smtp://mail.example.com?starttls=required", "", "postgresql:///tollgate"}) {
    EXPECT_EQ(WithPasswordMasked(url), url);
  }
}

TEST(ParseLogSettingsTest, FormatAndLevelOrANamedError) {
  auto raw = Read({"--log-format=text", "--log-level=warn"}, {});
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(*ParseLogFormat(*raw, kLogFormat), logging::Format::kText);
  EXPECT_EQ(*ParseLogLevel(*raw, kLogLevel), logging::Level::kWarn);

  raw = Read({"--log-format=xml", "--log-level=loud"}, {});
  ASSERT_TRUE(raw.ok()) << raw.status();
  const absl::StatusOr<logging::Format> format = ParseLogFormat(*raw, kLogFormat);
  EXPECT_EQ(format.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(format.status().message(), "LOG_FORMAT (--log-format): must be json or text, got 'xml'");
  const absl::StatusOr<logging::Level> level = ParseLogLevel(*raw, kLogLevel);
  EXPECT_EQ(level.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(level.status().message(),
            "LOG_LEVEL (--log-level): must be debug, info, warn or error, got 'loud'");
}

}  // namespace
}  // namespace tollgate::config
