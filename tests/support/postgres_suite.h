#pragma once

#include <gtest/gtest.h>

#include "tests/support/postgres_cluster.h"

namespace tollgate::testing {

// A gtest fixture base for suites that share one throwaway PostgreSQL
// cluster per test binary: started before the suite's first test (a failure
// to start fails the tests loudly, never skips them), stopped after its last.
class PostgresSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = PostgresCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  // Null when the cluster failed to start; tests check it in SetUp().
  inline static PostgresCluster* cluster_ = nullptr;
};

}  // namespace tollgate::testing
