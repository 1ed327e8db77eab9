// OutboxStore and OutboxDispatcher against a real PostgreSQL and a real SMTP
// server (the sink), with a FakeClock.
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "auth_service/db/migrations.h"
#include "auth_service/db/postgres_pool.h"
#include "auth_service/mail/outbox_dispatcher.h"
#include "auth_service/mail/outbox_store.h"
#include "auth_service/mail/smtp_mail_sender.h"
#include "tests/support/fake_clock.h"
#include "tests/support/postgres_suite.h"
#include "tests/support/smtp_sink.h"

namespace tollgate::auth {
namespace {

using ::tollgate::testing::FakeClock;
using ::tollgate::testing::SinkMessage;
using ::tollgate::testing::SmtpSink;

constexpr std::chrono::milliseconds kArrival{5000};
constexpr char kFrom[] = "no-reply@tollgate.example";

OutgoingMail CodeMail(int n = 0) {
  return {"user" + std::to_string(n) + "@example.org", "Your reset code",
          "Your code is 73" + std::to_string(1000 + n) + ".\n"};
}

// One outbox row as the tests look at it.
struct Row {
  bool body_null = false;
  std::string body;
  int attempts = 0;
  int64_t next_attempt_at = 0;
  int64_t claimed_until = 0;
  std::optional<int64_t> sent_at;
  std::optional<int64_t> abandoned_at;
  std::string last_error;
};

// A sender that fails on purpose (for what the sink cannot do).
class StatusSender final : public MailSender {
 public:
  explicit StatusSender(absl::Status status) : status_(std::move(status)) {}
  absl::Status Send(const MailMessage&) override {
    ++calls;
    return status_;
  }
  std::atomic<int> calls{0};

 private:
  const absl::Status status_;
};

class OutboxTest : public ::tollgate::testing::PostgresSuite {
 protected:
  void SetUp() override {
    // Fails (never skips) every test when PostgreSQL could not start.
    ASSERT_NE(cluster_, nullptr) << "PostgreSQL did not start: " << start_status_;
    static int databases = 0;
    absl::StatusOr<std::string> url = cluster_->CreateDatabase("outbox_" + std::to_string(++databases));
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    pool_ = MakePool();
    ASSERT_EQ(ApplyMigrations(*pool_), absl::OkStatus());
    store_ = std::make_unique<OutboxStore>(*pool_);
  }

  std::unique_ptr<PostgresPool> MakePool() {
    PostgresPool::Options options;
    options.url = url_;
    options.size = 4;
    options.acquire_timeout = std::chrono::milliseconds(5000);
    options.prepared_statements = OutboxStore::PreparedStatements();
    return std::make_unique<PostgresPool>(options);
  }

  Row ReadRow(int64_t id) {
    pqxx::connection connection(url_);
    pqxx::nontransaction txn(connection);
    const pqxx::row row = txn.exec_params1(
        "SELECT body, attempts, next_attempt_at, claimed_until, sent_at, abandoned_at, last_error "
        "FROM mail_outbox WHERE id = $1",
        id);
    Row result;
    result.body_null = row["body"].is_null();
    result.body = row["body"].as<std::string>("");
    result.attempts = row["attempts"].as<int>();
    result.next_attempt_at = row["next_attempt_at"].as<int64_t>();
    result.claimed_until = row["claimed_until"].as<int64_t>();
    if (!row["sent_at"].is_null()) result.sent_at = row["sent_at"].as<int64_t>();
    if (!row["abandoned_at"].is_null()) result.abandoned_at = row["abandoned_at"].as<int64_t>();
    result.last_error = row["last_error"].as<std::string>("");
    return result;
  }

  int64_t RowCount() {
    pqxx::connection connection(url_);
    pqxx::nontransaction txn(connection);
    return txn.exec1("SELECT count(*) FROM mail_outbox")[0].as<int64_t>();
  }

  int64_t MustEnqueue(const OutgoingMail& mail, int64_t now) {
    absl::StatusOr<int64_t> id = store_->Enqueue(mail, now);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(-1);
  }

  static SmtpSettings SettingsFor(int port) {
    absl::StatusOr<SmtpSettings> settings =
        SmtpSettings::Parse("smtp://127.0.0.1:" + std::to_string(port), "", "");
    EXPECT_TRUE(settings.ok()) << settings.status();
    SmtpSettings result = settings.value_or(SmtpSettings());
    result.connect_timeout = std::chrono::milliseconds(3000);
    result.total_timeout = std::chrono::milliseconds(10000);
    return result;
  }

  static OutboxDispatcher::Options DispatcherOptions() {
    OutboxDispatcher::Options options;
    options.from = kFrom;
    options.batch = 10;
    options.lease_seconds = 300;
    options.send_budget_seconds = 60;
    options.initial_backoff_seconds = 30;
    options.max_backoff_seconds = 3600;
    options.max_attempts = 5;
    return options;
  }

  static std::string Header(const std::string& raw, const std::string& name) {
    const std::string key = "\r\n" + name + ": ";
    const size_t at = ("\r\n" + raw).find(key);
    if (at == std::string::npos) return "";
    const size_t start = at + key.size() - 2;
    return raw.substr(start, raw.find("\r\n", start) - start);
  }

  std::string url_;
  std::unique_ptr<PostgresPool> pool_;
  std::unique_ptr<OutboxStore> store_;
  FakeClock clock_;
};

TEST_F(OutboxTest, EnqueueInsideARolledBackTransactionLeavesNoRow) {
  const int64_t now = clock_.NowUnixSeconds();
  absl::StatusOr<int64_t> rolled_back = pool_->Run<int64_t>(
      [&](pqxx::connection& connection) -> absl::StatusOr<int64_t> {
        pqxx::work txn(connection);
        absl::StatusOr<int64_t> id = OutboxStore::Enqueue(txn, CodeMail(), now);
        if (!id.ok()) return id;
        return absl::AbortedError("the flow failed after enqueueing");  // no commit
      });
  EXPECT_EQ(rolled_back.status(), absl::AbortedError("the flow failed after enqueueing"));
  EXPECT_EQ(RowCount(), 0);
  EXPECT_EQ(store_->CountPending().value_or(-1), 0);

  absl::StatusOr<int64_t> committed = pool_->Run<int64_t>(
      [&](pqxx::connection& connection) -> absl::StatusOr<int64_t> {
        pqxx::work txn(connection);
        absl::StatusOr<int64_t> id = OutboxStore::Enqueue(txn, CodeMail(), now);
        if (!id.ok()) return id;
        txn.commit();
        return id;
      });
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(store_->CountPending().value_or(-1), 1);
  const Row row = ReadRow(*committed);
  EXPECT_EQ(row.body, "Your code is 731000.\n");
  EXPECT_EQ(row.next_attempt_at, now);
  EXPECT_EQ(row.attempts, 0);
}

TEST_F(OutboxTest, EnqueueRefusesHeaderInjectionWithoutARow) {
  OutgoingMail mail = CodeMail();
  mail.subject = "Code\r\nBcc: eve@example.net";
  EXPECT_EQ(store_->Enqueue(mail, 1).status(),
            absl::InvalidArgumentError("mail: CR, LF or another control character in the subject"));
  mail = CodeMail();
  mail.to = "ann@example.org\nBcc: eve@example.net";
  EXPECT_EQ(store_->Enqueue(mail, 1).status(),
            absl::InvalidArgumentError("mail: bad recipient address"));
  mail.to = "";
  EXPECT_EQ(store_->Enqueue(mail, 1).status(),
            absl::InvalidArgumentError("mail: bad recipient address"));
  EXPECT_EQ(RowCount(), 0);
}

TEST_F(OutboxTest, ClaimLeasesRowsUntilTheLeaseEnds) {
  const int64_t now = clock_.NowUnixSeconds();
  const int64_t first = MustEnqueue(CodeMail(1), now);
  const int64_t second = MustEnqueue(CodeMail(2), now);
  MustEnqueue(CodeMail(3), now + 100);  // not due yet

  absl::StatusOr<std::vector<ClaimedMail>> claimed = store_->Claim(now, 10, 300);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].id, first);
  EXPECT_EQ((*claimed)[0].recipient, "user1@example.org");
  EXPECT_EQ((*claimed)[0].subject, "Your reset code");
  EXPECT_EQ((*claimed)[0].body, "Your code is 731001.\n");
  EXPECT_EQ((*claimed)[0].created_at, now);
  EXPECT_EQ((*claimed)[0].attempts, 1);
  EXPECT_EQ((*claimed)[0].claimed_until, now + 300);
  EXPECT_EQ((*claimed)[1].id, second);

  // Leased: nobody else gets them, until the lease ends.
  EXPECT_EQ(store_->Claim(now + 299, 10, 300).value_or(std::vector<ClaimedMail>(1)).size(), 1u)
      << "only the row due at now + 100";
  absl::StatusOr<std::vector<ClaimedMail>> again = store_->Claim(now + 300, 10, 300);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ((*again)[0].id, first);
  EXPECT_EQ((*again)[0].attempts, 2);
  EXPECT_EQ(store_->CountPending().value_or(-1), 3);
}

TEST_F(OutboxTest, AClaimSkipsRowsAnotherOpenClaimHolds) {
  const int64_t now = clock_.NowUnixSeconds();
  for (int i = 0; i < 5; ++i) MustEnqueue(CodeMail(i), now);

  // Replica A claims 3 rows in a transaction that is still open.
  pqxx::connection replica_a(url_);
  for (const auto& [name, sql] : OutboxStore::PreparedStatements()) replica_a.prepare(name, sql);
  auto open_claim = std::make_unique<pqxx::work>(replica_a);
  const pqxx::result held = open_claim->exec_prepared("outbox_claim", now, 3, 300);
  ASSERT_EQ(held.size(), 3u);

  // Replica B is not blocked and gets only the other two.
  absl::StatusOr<std::vector<ClaimedMail>> b = store_->Claim(now, 10, 300);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->size(), 2u);
  std::set<int64_t> held_ids;
  for (const auto& row : held) held_ids.insert(row["id"].as<int64_t>());
  for (const ClaimedMail& row : *b) EXPECT_EQ(held_ids.count(row.id), 0u) << row.id;

  // A rolls back (it died before committing): its rows are claimable again.
  open_claim->abort();
  open_claim.reset();
  absl::StatusOr<std::vector<ClaimedMail>> after = store_->Claim(now, 10, 300);
  ASSERT_TRUE(after.ok()) << after.status();
  std::set<int64_t> after_ids;
  for (const ClaimedMail& row : *after) after_ids.insert(row.id);
  EXPECT_EQ(after_ids, held_ids);
}

TEST_F(OutboxTest, ConcurrentClaimsByTwoReplicasNeverShareARow) {
  const int64_t now = clock_.NowUnixSeconds();
  constexpr int kRows = 300;
  {
    pqxx::connection connection(url_);
    pqxx::work txn(connection);
    txn.exec_params(
        "INSERT INTO mail_outbox (recipient, subject, body, created_at, next_attempt_at) "
        "SELECT 'u' || g || '@example.org', 's', 'b', $1, $1 FROM generate_series(1, $2) g",
        now, kRows);
    txn.commit();
  }
  std::unique_ptr<PostgresPool> other_pool = MakePool();
  OutboxStore other(*other_pool);
  std::vector<int64_t> ids[2];
  std::atomic<int> errors{0};
  auto replica = [&](OutboxStore& store, std::vector<int64_t>& mine) {
    while (true) {
      absl::StatusOr<std::vector<ClaimedMail>> batch = store.Claim(now, 7, 300);
      if (!batch.ok()) {
        ++errors;
        return;
      }
      if (batch->empty()) return;
      for (const ClaimedMail& row : *batch) mine.push_back(row.id);
    }
  };
  std::thread a(replica, std::ref(*store_), std::ref(ids[0]));
  std::thread b(replica, std::ref(other), std::ref(ids[1]));
  a.join();
  b.join();
  EXPECT_EQ(errors.load(), 0);
  std::set<int64_t> all(ids[0].begin(), ids[0].end());
  EXPECT_EQ(all.size(), ids[0].size()) << "replica A got a row twice";
  for (const int64_t id : ids[1]) EXPECT_TRUE(all.insert(id).second) << "row " << id << " twice";
  EXPECT_EQ(all.size(), static_cast<size_t>(kRows));
  EXPECT_FALSE(ids[0].empty());
  EXPECT_FALSE(ids[1].empty());
}

TEST_F(OutboxTest, SinkDownRetriesWithBackoffThenDeliversOnce) {
  absl::StatusOr<int> port = SmtpSink::UnusedPort();
  ASSERT_TRUE(port.ok()) << port.status();
  SmtpMailSender sender(SettingsFor(*port));
  OutboxDispatcher dispatcher(*store_, sender, clock_, DispatcherOptions());
  const int64_t t0 = clock_.NowUnixSeconds();
  const int64_t id = MustEnqueue(CodeMail(7), t0);

  absl::StatusOr<DrainResult> first = dispatcher.DrainOnce();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->claimed, 1);
  EXPECT_EQ(first->retried, 1);
  EXPECT_EQ(first->sent, 0);
  Row row = ReadRow(id);
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(row.next_attempt_at, t0 + 30);
  EXPECT_EQ(row.claimed_until, 0);
  EXPECT_TRUE(row.last_error.starts_with("UNAVAILABLE: smtp: ")) << row.last_error;
  EXPECT_EQ(row.last_error.find("73"), std::string::npos) << row.last_error;

  // The second failure waits twice as long.
  clock_.Advance(30);
  ASSERT_EQ(dispatcher.DrainOnce().value_or(DrainResult()).retried, 1);
  EXPECT_EQ(ReadRow(id).next_attempt_at, t0 + 30 + 60);

  // The server comes up; nothing goes before the row is due.
  SmtpSink::Options sink_options;
  sink_options.port = *port;
  absl::StatusOr<std::unique_ptr<SmtpSink>> sink = SmtpSink::Start(sink_options);
  ASSERT_TRUE(sink.ok()) << sink.status();
  clock_.Advance(59);
  EXPECT_EQ(dispatcher.DrainOnce().value_or(DrainResult{.claimed = -1}).claimed, 0);
  clock_.Advance(1);
  absl::StatusOr<DrainResult> delivered = dispatcher.DrainOnce();
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(delivered->sent, 1);
  EXPECT_EQ(delivered->retried, 0);

  row = ReadRow(id);
  EXPECT_TRUE(row.body_null);
  EXPECT_EQ(row.sent_at, clock_.NowUnixSeconds());
  EXPECT_EQ(row.last_error, "");
  EXPECT_EQ(row.attempts, 3);
  EXPECT_EQ(store_->CountPending().value_or(-1), 0);

  // Once: later rounds find nothing.
  clock_.Advance(100000);
  EXPECT_EQ(dispatcher.DrainOnce().value_or(DrainResult{.claimed = -1}).claimed, 0);
  const std::vector<SinkMessage> messages = (*sink)->WaitForMessages(2, std::chrono::milliseconds(300));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].mail_from, kFrom);
  EXPECT_EQ(messages[0].rcpt_to, std::vector<std::string>{"user7@example.org"});
  EXPECT_EQ(Header(messages[0].raw, "Message-ID"),
            "<outbox-" + std::to_string(id) + "." + std::to_string(t0) + "@tollgate.example>");
  EXPECT_EQ(Header(messages[0].raw, "Subject"), "Your reset code");
  EXPECT_TRUE(messages[0].raw.ends_with("\r\n\r\nYour code is 731007.\r\n")) << messages[0].raw;
}

TEST_F(OutboxTest, CrashAfterSendIsResentWithTheSameMessageIdAfterTheLease) {
  absl::StatusOr<std::unique_ptr<SmtpSink>> sink = SmtpSink::Start();
  ASSERT_TRUE(sink.ok()) << sink.status();
  SmtpMailSender sender(SettingsFor((*sink)->port()));
  const OutboxDispatcher::Options options = DispatcherOptions();
  const int64_t t0 = clock_.NowUnixSeconds();
  const int64_t id = MustEnqueue(CodeMail(9), t0);

  // A replica claims and sends, then dies before MarkSent.
  absl::StatusOr<std::vector<ClaimedMail>> claimed = store_->Claim(t0, 10, options.lease_seconds);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);
  MailMessage message{OutboxDispatcher::MessageId(id, (*claimed)[0].created_at, kFrom), kFrom,
                      (*claimed)[0].recipient, (*claimed)[0].subject, (*claimed)[0].body,
                      (*claimed)[0].created_at};
  ASSERT_EQ(sender.Send(message), absl::OkStatus());

  // Another replica: nothing while the lease lasts, the resend after it.
  OutboxDispatcher dispatcher(*store_, sender, clock_, options);
  clock_.Advance(options.lease_seconds - 1);
  EXPECT_EQ(dispatcher.DrainOnce().value_or(DrainResult{.claimed = -1}).claimed, 0);
  clock_.Advance(1);
  absl::StatusOr<DrainResult> resent = dispatcher.DrainOnce();
  ASSERT_TRUE(resent.ok()) << resent.status();
  EXPECT_EQ(resent->sent, 1);

  const std::vector<SinkMessage> messages = (*sink)->WaitForMessages(2, kArrival);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].raw, messages[1].raw) << "the same message, byte for byte";
  EXPECT_EQ(Header(messages[1].raw, "Message-ID"),
            "<outbox-" + std::to_string(id) + "." + std::to_string(t0) + "@tollgate.example>");
  const Row row = ReadRow(id);
  EXPECT_TRUE(row.body_null);
  EXPECT_EQ(row.attempts, 2);
  EXPECT_EQ(row.sent_at, t0 + options.lease_seconds);
}

TEST_F(OutboxTest, PermanentRefusalIsAbandonedAtOnce) {
  SmtpSink::Options sink_options;
  sink_options.rcpt_code = 550;
  absl::StatusOr<std::unique_ptr<SmtpSink>> sink = SmtpSink::Start(sink_options);
  ASSERT_TRUE(sink.ok()) << sink.status();
  SmtpMailSender sender(SettingsFor((*sink)->port()));
  OutboxDispatcher dispatcher(*store_, sender, clock_, DispatcherOptions());
  const int64_t id = MustEnqueue(CodeMail(), clock_.NowUnixSeconds());

  absl::StatusOr<DrainResult> result = dispatcher.DrainOnce();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->abandoned, 1);
  EXPECT_EQ(result->retried, 0);
  const Row row = ReadRow(id);
  EXPECT_TRUE(row.body_null);
  EXPECT_EQ(row.abandoned_at, clock_.NowUnixSeconds());
  EXPECT_EQ(row.sent_at, std::nullopt);
  EXPECT_EQ(row.last_error, "FAILED_PRECONDITION: smtp: server refused the message (550)");
  clock_.Advance(100000);
  EXPECT_EQ(dispatcher.DrainOnce().value_or(DrainResult{.claimed = -1}).claimed, 0);
  EXPECT_EQ(store_->CountPending().value_or(-1), 0);
}

TEST_F(OutboxTest, GivesUpAfterMaxAttemptsWithCappedBackoff) {
  StatusSender sender(absl::UnavailableError("smtp: server deferred the message (451)"));
  OutboxDispatcher::Options options = DispatcherOptions();
  options.max_attempts = 4;
  options.initial_backoff_seconds = 1000;
  options.max_backoff_seconds = 2500;
  OutboxDispatcher dispatcher(*store_, sender, clock_, options);
  EXPECT_EQ(dispatcher.BackoffSeconds(1), 1000);
  EXPECT_EQ(dispatcher.BackoffSeconds(2), 2000);
  EXPECT_EQ(dispatcher.BackoffSeconds(3), 2500);
  EXPECT_EQ(dispatcher.BackoffSeconds(60), 2500);

  const int64_t id = MustEnqueue(CodeMail(), clock_.NowUnixSeconds());
  for (const int64_t wait : {1000, 2000, 2500}) {
    ASSERT_EQ(dispatcher.DrainOnce().value_or(DrainResult()).retried, 1);
    EXPECT_EQ(ReadRow(id).next_attempt_at, clock_.NowUnixSeconds() + wait);
    clock_.Advance(wait);
  }
  absl::StatusOr<DrainResult> last = dispatcher.DrainOnce();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->abandoned, 1);
  const Row row = ReadRow(id);
  EXPECT_EQ(row.attempts, 4);
  EXPECT_TRUE(row.body_null);
  EXPECT_EQ(row.last_error, "UNAVAILABLE: smtp: server deferred the message (451)");
  EXPECT_EQ(sender.calls.load(), 4);
}

TEST_F(OutboxTest, DrainTakesFullBatchesUntilTheOutboxIsEmpty) {
  StatusSender sender(absl::OkStatus());
  OutboxDispatcher::Options options = DispatcherOptions();
  options.batch = 3;
  OutboxDispatcher dispatcher(*store_, sender, clock_, options);
  for (int i = 0; i < 7; ++i) MustEnqueue(CodeMail(i), clock_.NowUnixSeconds());
  absl::StatusOr<DrainResult> all = dispatcher.Drain([] { return true; });
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->claimed, 7);
  EXPECT_EQ(all->sent, 7);
  EXPECT_EQ(store_->CountPending().value_or(-1), 0);

  for (int i = 0; i < 7; ++i) MustEnqueue(CodeMail(i), clock_.NowUnixSeconds());
  int rounds = 0;
  absl::StatusOr<DrainResult> stopped = dispatcher.Drain([&] { return rounds++ < 1; });
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->sent, 3);
  EXPECT_EQ(store_->CountPending().value_or(-1), 4);
}

// A sender whose sends take `seconds` of the fake clock.
class SlowSender final : public MailSender {
 public:
  SlowSender(FakeClock& clock, int64_t seconds) : clock_(clock), seconds_(seconds) {}
  absl::Status Send(const MailMessage& message) override {
    clock_.Advance(seconds_);
    ids.push_back(message.message_id);
    return absl::OkStatus();
  }
  std::vector<std::string> ids;

 private:
  FakeClock& clock_;
  const int64_t seconds_;
};

TEST_F(OutboxTest, RowsWhoseLeaseIsAboutToEndAreLeftForTheNextClaim) {
  SlowSender sender(clock_, 250);  // lease 300, budget 60: room for one send
  OutboxDispatcher dispatcher(*store_, sender, clock_, DispatcherOptions());
  const int64_t t0 = clock_.NowUnixSeconds();
  const int64_t first = MustEnqueue(CodeMail(1), t0);
  const int64_t second = MustEnqueue(CodeMail(2), t0);

  absl::StatusOr<DrainResult> result = dispatcher.DrainOnce();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->claimed, 2);
  EXPECT_EQ(result->sent, 1);
  EXPECT_EQ(result->skipped, 1);
  EXPECT_EQ(ReadRow(first).sent_at, t0 + 250);
  EXPECT_EQ(ReadRow(second).claimed_until, t0 + 300);

  clock_.Advance(49);  // t0 + 299: still leased
  EXPECT_EQ(dispatcher.DrainOnce().value_or(DrainResult{.claimed = -1}).claimed, 0);
  clock_.Advance(1);
  result = dispatcher.DrainOnce();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->sent, 1);
  EXPECT_EQ(ReadRow(second).attempts, 2);
  EXPECT_EQ(sender.ids, (std::vector<std::string>{
                            OutboxDispatcher::MessageId(first, t0, kFrom),
                            OutboxDispatcher::MessageId(second, t0, kFrom)}));
}

TEST_F(OutboxTest, MarkingAnUnknownRowIsNotFound) {
  EXPECT_EQ(store_->MarkSent(12345, 1), absl::NotFoundError("outbox row not found"));
  EXPECT_EQ(store_->MarkFailed(12345, 1, 2, "x"), absl::NotFoundError("outbox row not found"));
  EXPECT_EQ(store_->MarkAbandoned(12345, 1, "x"), absl::NotFoundError("outbox row not found"));
}

TEST_F(OutboxTest, MarkFailedLeavesASentRowAloneAndCutsTheError) {
  const int64_t id = MustEnqueue(CodeMail(), 100);
  ASSERT_EQ(store_->MarkFailed(id, 101, 500, std::string(300, 'e')), absl::OkStatus());
  EXPECT_EQ(ReadRow(id).last_error, std::string(200, 'e'));
  ASSERT_EQ(store_->MarkSent(id, 102), absl::OkStatus());
  ASSERT_EQ(store_->MarkFailed(id, 103, 900, "late"), absl::OkStatus());
  const Row row = ReadRow(id);
  EXPECT_EQ(row.sent_at, 102);
  EXPECT_EQ(row.next_attempt_at, 500);
  EXPECT_EQ(row.last_error, "");
}

TEST_F(OutboxTest, PurgeSentDeletesFinishedRowsOlderThanTheCutoffInBatches) {
  const int64_t sent_early = MustEnqueue(CodeMail(1), 100);
  const int64_t abandoned = MustEnqueue(CodeMail(2), 100);
  const int64_t sent_late = MustEnqueue(CodeMail(3), 100);
  const int64_t pending = MustEnqueue(CodeMail(4), 100);
  ASSERT_EQ(store_->MarkSent(sent_early, 1000), absl::OkStatus());
  ASSERT_EQ(store_->MarkAbandoned(abandoned, 1005, "FAILED_PRECONDITION: x"), absl::OkStatus());
  ASSERT_EQ(store_->MarkSent(sent_late, 2000), absl::OkStatus());

  EXPECT_EQ(store_->PurgeSent(1000, 10).value_or(-1), 0);  // strictly before
  EXPECT_EQ(store_->PurgeSent(1006, 1).value_or(-1), 1);
  EXPECT_EQ(store_->PurgeSent(1006, 10).value_or(-1), 1);
  EXPECT_EQ(store_->PurgeSent(1006, 10).value_or(-1), 0);
  EXPECT_EQ(RowCount(), 2);
  EXPECT_EQ(store_->PurgeSent(1'000'000, 10).value_or(-1), 1);  // sent_late; pending stays
  EXPECT_EQ(RowCount(), 1);
  EXPECT_EQ(ReadRow(pending).body, "Your code is 731004.\n");
}

TEST_F(OutboxTest, DatabaseDownIsUnavailable) {
  PostgresPool::Options options;
  options.url = "postgresql://postgres@127.0.0.1:1/none";
  options.prepared_statements = OutboxStore::PreparedStatements();
  PostgresPool down(options);
  OutboxStore store(down);
  StatusSender sender(absl::OkStatus());
  OutboxDispatcher dispatcher(store, sender, clock_, DispatcherOptions());
  EXPECT_EQ(store.Enqueue(CodeMail(), 1).status(), absl::UnavailableError("database unavailable"));
  EXPECT_EQ(dispatcher.DrainOnce().status(), absl::UnavailableError("database unavailable"));
  EXPECT_EQ(sender.calls.load(), 0);
}

}  // namespace
}  // namespace tollgate::auth
