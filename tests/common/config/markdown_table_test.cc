#include <gtest/gtest.h>

#include <string>

#include "common/config/settings.h"

namespace tollgate::config {
namespace {

constexpr Setting kAuthListen{"listen", "AUTH_LISTEN", "0.0.0.0:50051", "", "gRPC address"};
constexpr Setting kSecret{"secret", "SECRET", "", "unset", "shared secret"};
constexpr Setting kAuthLeeway{"leeway", "LEEWAY", "30", "", "leeway, seconds"};
constexpr Setting kSumLeeway{"leeway", "LEEWAY", "60", "", "leeway, seconds"};
constexpr Setting kPiped{"alt", "ALT", "", "", "a|b"};

constexpr const Setting* kAuth[] = {&kAuthListen, &kSecret, &kAuthLeeway};
constexpr const Setting* kSum[] = {&kSecret, &kSumLeeway, &kPiped};

constexpr char kHeader[] =
    "| variable | flag | service | meaning | default |\n"
    "|---|---|---|---|---|\n";

TEST(MarkdownConfigTableTest, OneRowPerSettingAndASharedSettingOnceAsBoth) {
  const ServiceSettings services[] = {{"auth", kAuth}, {"sum", kSum}};
  EXPECT_EQ(MarkdownTable(services),
            std::string(kHeader) +
                "| `AUTH_LISTEN` | `--listen` | auth | gRPC address | `0.0.0.0:50051` |\n"
                "| `SECRET` | `--secret` | both | shared secret | unset |\n"
                // Same variable, different default: one row per service.
                "| `LEEWAY` | `--leeway` | auth | leeway, seconds | `30` |\n"
                "| `LEEWAY` | `--leeway` | sum | leeway, seconds | `60` |\n"
                // No default at all reads "unset"; a '|' cannot end the cell.
                "| `ALT` | `--alt` | sum | a\\|b | unset |\n");
}

TEST(MarkdownConfigTableTest, SharedByTwoOfThreeNamesThem) {
  constexpr const Setting* kOther[] = {&kAuthListen};
  const ServiceSettings services[] = {{"auth", kAuth}, {"sum", kSum}, {"other", kOther}};
  std::string table = MarkdownTable(services);
  EXPECT_NE(table.find("| `SECRET` | `--secret` | auth, sum | shared secret | unset |\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| `AUTH_LISTEN` | `--listen` | auth, other |"), std::string::npos)
      << table;
}

}  // namespace
}  // namespace tollgate::config
