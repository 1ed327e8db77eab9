// README.md's "Configuration" table must be the one generated from the
// settings arrays that --help prints. On a failure, regenerate it with
// scripts/config_table.sh.
#include "tools/config_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "auth_service/auth_config.h"
#include "sum_service/sum_config.h"

namespace tollgate::tools {
namespace {

constexpr char kBegin[] = "<!-- config-table:begin -->\n";
constexpr char kEnd[] = "<!-- config-table:end -->\n";

std::string ReadReadme() {
  std::ifstream file(TOLLGATE_SOURCE_DIR "/README.md", std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(ReadmeConfigTableTest, MatchesTheSettingsThatHelpPrints) {
  const std::string readme = ReadReadme();
  ASSERT_FALSE(readme.empty()) << "cannot read " TOLLGATE_SOURCE_DIR "/README.md";
  const size_t begin = readme.find(kBegin);
  ASSERT_NE(begin, std::string::npos) << "README.md has no " << kBegin;
  ASSERT_EQ(readme.find(kBegin, begin + 1), std::string::npos) << "two " << kBegin;
  const size_t start = begin + sizeof(kBegin) - 1;
  const size_t end = readme.find(kEnd, start);
  ASSERT_NE(end, std::string::npos) << "README.md has no " << kEnd << " after " << kBegin;
  EXPECT_EQ(readme.substr(start, end - start), ConfigurationTable())
      << "README.md's configuration table is out of date: run scripts/config_table.sh";
}

TEST(ReadmeConfigTableTest, HasARowForEveryVariableOfBothServices) {
  const std::string table = ConfigurationTable();
  for (const auto& settings : {auth::AuthConfig::Settings(), sum::SumConfig::Settings()}) {
    for (const config::Setting* setting : settings) {
      EXPECT_NE(table.find("| `" + std::string(setting->env) + "` | `--" +
                           std::string(setting->flag) + "` |"),
                std::string::npos)
          << setting->env;
    }
  }
  // The settings both services share appear once, as "both".
  for (const char* shared : {"JWT_SECRET_KEY", "TOKEN_ISSUER", "TOKEN_AUDIENCE", "TOKEN_LEEWAY"}) {
    const std::string cell = "| `" + std::string(shared) + "` |";
    const size_t row = table.find(cell);
    ASSERT_NE(row, std::string::npos) << shared;
    EXPECT_EQ(table.find(cell, row + 1), std::string::npos) << shared << " has two rows";
    EXPECT_NE(table.substr(row, table.find('\n', row) - row).find(" | both | "),
              std::string::npos)
        << shared;
  }
}

}  // namespace
}  // namespace tollgate::tools
