#include "common/logging/logger.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"

namespace tollgate::logging {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(LoggerTest, JsonLineHasTimestampLevelServiceMessageAndFieldsInOrder) {
  std::ostringstream out;
  Logger logger("auth", Format::kJson, Level::kInfo, &out);
  logger.Log(Level::kInfo, "call", {{"method", "/tollgate.auth.v1.AuthService/Login"},
                                    {"code", "OK"},
                                    {"duration_ms", 1.5},
                                    {"attempts", 3},
                                    {"admitted", true}});
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  const nlohmann::json line = nlohmann::json::parse(lines[0]);
  EXPECT_TRUE(std::regex_match(line["ts"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << line["ts"];
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["service"], "auth");
  EXPECT_EQ(line["msg"], "call");
  EXPECT_EQ(line["method"], "/tollgate.auth.v1.AuthService/Login");
  EXPECT_EQ(line["code"], "OK");
  EXPECT_EQ(line["duration_ms"], 1.5);
  EXPECT_EQ(line["attempts"], 3);
  EXPECT_EQ(line["admitted"], true);
  // The order is the one given: ts, level, service, msg, then the fields.
  EXPECT_LT(lines[0].find("\"ts\""), lines[0].find("\"level\""));
  EXPECT_LT(lines[0].find("\"msg\""), lines[0].find("\"method\""));
  EXPECT_LT(lines[0].find("\"method\""), lines[0].find("\"admitted\""));
}

TEST(LoggerTest, ClientValuesCannotForgeFieldsOrLines) {
  std::ostringstream out;
  Logger logger("auth", Format::kJson, Level::kInfo, &out);
  logger.Log(Level::kWarn, "denied",
             {{"peer", "1.2.3.4\n{\"level\":\"error\"}"}, {"request_id", "a\",\"sub\":\"root"},
              {"bad_utf8", std::string_view("\xff\xfe", 2)}});
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  const nlohmann::json line = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(line["peer"], "1.2.3.4\n{\"level\":\"error\"}");
  EXPECT_EQ(line["request_id"], "a\",\"sub\":\"root");
  EXPECT_FALSE(line.contains("sub"));
  EXPECT_EQ(line["level"], "warn");
}

// Values are scanned 8 bytes at a time: every byte value, at every
// position of a 20-byte value (in the first word, the second, or the tail),
// comes out as JSON reads it back. A byte >= 0x80 alone is invalid UTF-8,
// so it reads back as U+FFFD.
TEST(LoggerTest, EveryByteAtEveryPositionIsEscapedAsJsonNeeds) {
  for (int byte = 0; byte < 256; ++byte) {
    for (size_t position = 0; position < 20; ++position) {
      std::string value(20, 'a');
      value[position] = static_cast<char>(byte);
      std::ostringstream out;
      Logger logger("auth", Format::kJson, Level::kInfo, &out);
      logger.Log(Level::kInfo, "m", {{"value", value}});
      const nlohmann::json line = nlohmann::json::parse(out.str());
      std::string expected = value;
      if (byte >= 0x80) expected.replace(position, 1, "\xef\xbf\xbd");
      ASSERT_EQ(line["value"], expected) << "byte " << byte << " at " << position;
    }
  }
}

TEST(LoggerTest, TextFormatIsOneReadableLine) {
  std::ostringstream out;
  Logger logger("sum", Format::kText, Level::kInfo, &out);
  logger.Log(Level::kError, "key fetch failed", {{"source", "grpc://127.0.0.1:50051"},
                                                  {"reason", "deadline exceeded"},
                                                  {"attempt", 2}});
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(std::regex_match(
      lines[0], std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ERROR sum: key fetch failed )"
                           R"(source=grpc://127.0.0.1:50051 reason="deadline exceeded" attempt=2)")))
      << lines[0];
}

TEST(LoggerTest, LinesBelowTheMinimumLevelAreDropped) {
  std::ostringstream out;
  Logger logger("auth", Format::kJson, Level::kWarn, &out);
  logger.Log(Level::kDebug, "a");
  logger.Log(Level::kInfo, "b");
  logger.Log(Level::kWarn, "c");
  logger.Log(Level::kError, "d");
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["msg"], "c");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["msg"], "d");
  EXPECT_FALSE(logger.Enabled(Level::kInfo));
  EXPECT_TRUE(logger.Enabled(Level::kError));
}

TEST(LoggerTest, LinesFromManyThreadsNeverInterleave) {
  std::ostringstream out;
  Logger logger("auth", Format::kJson, Level::kInfo, &out);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < 200; ++i) logger.Log(Level::kInfo, "tick", {{"thread", t}, {"i", i}});
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 800u);
  for (const std::string& line : lines) {
    EXPECT_EQ(nlohmann::json::parse(line)["msg"], "tick") << line;
  }
}

TEST(LoggerTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("info"), Level::kInfo);
  EXPECT_EQ(*ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(*ParseLevel("warning"), Level::kWarn);
  EXPECT_EQ(*ParseLevel("error"), Level::kError);
  EXPECT_EQ(ParseLevel("loud").status(),
            absl::InvalidArgumentError("expected debug, info, warn or error"));
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(*ParseFormat("text"), Format::kText);
  EXPECT_EQ(ParseFormat("xml").status(), absl::InvalidArgumentError("expected json or text"));
}

TEST(LoggerTest, TheDefaultLoggerCanBeReplaced) {
  auto* stream = new std::ostringstream;  // outlives the logger, which is never freed
  SetDefaultLogger(std::make_unique<Logger>("test", Format::kJson, Level::kInfo, stream));
  Info("hello", {{"n", 1}});
  const nlohmann::json line = nlohmann::json::parse(stream->str());
  EXPECT_EQ(line["service"], "test");
  EXPECT_EQ(line["msg"], "hello");
  EXPECT_EQ(line["n"], 1);
}

}  // namespace
}  // namespace tollgate::logging
