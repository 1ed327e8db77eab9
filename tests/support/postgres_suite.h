#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "tests/support/postgres_cluster.h"

namespace tollgate::testing {

// A gtest fixture base for suites that share one throwaway PostgreSQL
// cluster per test binary: started before the suite's first test (a failure
// to start fails the tests loudly, never skips them), stopped after its last.
class PostgresSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Start();
    if (cluster.ok()) {
      cluster_ = *std::move(cluster);
    } else {
      start_status_ = cluster.status();
    }
  }
  static void TearDownTestSuite() { cluster_.reset(); }

  // Null when the cluster failed to start (then start_status_ says why):
  // tests check it in SetUp(), so every test fails loudly.
  static inline std::unique_ptr<PostgresCluster> cluster_;
  static inline absl::Status start_status_;
};

}  // namespace tollgate::testing
