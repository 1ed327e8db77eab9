#include "common/metrics/process_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "prometheus/text_serializer.h"

namespace tollgate {
namespace {

std::map<std::string, double> Values(const ProcessMetrics& metrics) {
  std::map<std::string, double> values;
  for (const auto& family : metrics.Collect()) {
    EXPECT_EQ(family.metric.size(), 1u) << family.name;
    const auto& metric = family.metric.at(0);
    values[family.name] = family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                                         : metric.gauge.value;
  }
  return values;
}

void Write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(ProcessMetrics, ReadsAFakeProcTree) {
  const std::filesystem::path root =
      std::filesystem::path(::testing::TempDir()) / ("fake_proc_" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "self" / "fd");
  for (const char* fd : {"0", "1", "2", "7"}) Write(root / "self" / "fd" / fd, "");
  Write(root / "self" / "statm", "5000 1234 300 10 0 900 0\n");
  // proc(5): field 14 utime, 15 stime, 22 starttime (clock ticks). The comm
  // has a space and a ')' in it.
  Write(root / "self" / "stat",
        "4242 (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
        "250 150 0 0 20 0 3 0 123456 10000000 1234 18446744073709551615\n");
  Write(root / "stat", "cpu  1 2 3\nbtime 1700000000\nprocesses 42\n");

  const ProcessMetrics metrics(root.string());
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const std::map<std::string, double> values = Values(metrics);
  EXPECT_EQ(values.size(), 4u);
  EXPECT_EQ(values.at("process_resident_memory_bytes"), 1234.0 * sysconf(_SC_PAGESIZE));
  EXPECT_EQ(values.at("process_start_time_seconds"), 1700000000 + 123456 / ticks);
  EXPECT_EQ(values.at("process_cpu_seconds_total"), (250 + 150) / ticks);
  EXPECT_EQ(values.at("process_open_fds"), 4);

  // Read on every collect: a changed statm shows at the next scrape.
  Write(root / "self" / "statm", "5000 2000 300 10 0 900 0\n");
  EXPECT_EQ(Values(metrics).at("process_resident_memory_bytes"), 2000.0 * sysconf(_SC_PAGESIZE));
  std::filesystem::remove_all(root);
}

TEST(ProcessMetrics, MissingFilesAreLeftOut) {
  const auto before = std::chrono::system_clock::now();
  const ProcessMetrics metrics("/nonexistent-proc");
  const std::map<std::string, double> values = Values(metrics);
  ASSERT_EQ(values.size(), 1u);
  // The start time falls back to the construction time.
  const double start = values.at("process_start_time_seconds");
  EXPECT_GE(start, std::chrono::duration<double>(before.time_since_epoch()).count() - 1);
  EXPECT_LE(start, std::chrono::duration<double>(
                       std::chrono::system_clock::now().time_since_epoch()).count() + 1);
}

TEST(ProcessMetrics, RealProcIsPlausible) {
  const ProcessMetrics metrics;
  const std::map<std::string, double> values = Values(metrics);
  ASSERT_EQ(values.size(), 4u);
  EXPECT_GT(values.at("process_resident_memory_bytes"), 0);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // This test process started moments ago (the boot-time arithmetic has
  // 1 s and 1 tick of resolution).
  EXPECT_LE(values.at("process_start_time_seconds"), now + 1);
  EXPECT_GE(values.at("process_start_time_seconds"), now - 600);
  EXPECT_GE(values.at("process_open_fds"), 3);

  const std::string text = prometheus::TextSerializer().Serialize(metrics.Collect());
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace tollgate
