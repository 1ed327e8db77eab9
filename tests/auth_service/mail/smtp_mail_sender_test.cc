#include "auth_service/mail/smtp_mail_sender.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/smtp_sink.h"

namespace tollgate::auth {
namespace {

using ::tollgate::testing::SinkMessage;
using ::tollgate::testing::SmtpSink;

constexpr std::chrono::milliseconds kArrival{5000};

MailMessage ResetMail() {
  MailMessage message;
  message.message_id = "<outbox-42.1800000000@example.com>";
  message.from = "no-reply@example.com";
  message.to = "ann@example.org";
  message.subject = "Ihr Code für Tollgate";
  message.body = "Hallo Ann,\nIhr Code: 483920 (gültig 15 Minuten)\n";
  message.date_unix_seconds = 1'800'000'000;
  return message;
}

constexpr char kResetMailText[] =
    "Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"
    "From: no-reply@example.com\r\n"
    "To: ann@example.org\r\n"
    "Subject: =?UTF-8?B?SWhyIENvZGUgZsO8ciBUb2xsZ2F0ZQ==?=\r\n"
    "Message-ID: <outbox-42.1800000000@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Hallo Ann,\r\n"
    "Ihr Code: 483920 (gültig 15 Minuten)\r\n";

SmtpSettings SettingsFor(const std::string& url, std::string user = "", std::string password = "") {
  absl::StatusOr<SmtpSettings> settings = SmtpSettings::Parse(url, user, password);
  EXPECT_TRUE(settings.ok()) << settings.status();
  SmtpSettings result = settings.value_or(SmtpSettings());
  result.connect_timeout = std::chrono::milliseconds(3000);
  result.total_timeout = std::chrono::milliseconds(10000);
  return result;
}

std::unique_ptr<SmtpSink> StartSink(const SmtpSink::Options& options = {}) {
  absl::StatusOr<std::unique_ptr<SmtpSink>> sink = SmtpSink::Start(options);
  EXPECT_TRUE(sink.ok()) << sink.status();
  return sink.ok() ? *std::move(sink) : nullptr;
}

TEST(SmtpMailSenderTest, DeliversTheExactMessage) {
  std::unique_ptr<SmtpSink> sink = StartSink();
  ASSERT_NE(sink, nullptr);
  SmtpMailSender sender(SettingsFor(sink->url()));
  ASSERT_EQ(sender.Send(ResetMail()), absl::OkStatus());
  const std::vector<SinkMessage> messages = sink->WaitForMessages(1, kArrival);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].mail_from, "no-reply@example.com");
  EXPECT_EQ(messages[0].rcpt_to, std::vector<std::string>{"ann@example.org"});
  EXPECT_EQ(messages[0].raw, kResetMailText);
}

TEST(SmtpMailSenderTest, FormatsAsciiSubjectAndNormalizesLineEndsAndDots) {
  MailMessage message = ResetMail();
  message.subject = "Verify your email";
  message.body = "line one\r\n.leading dot\rlast line";
  absl::StatusOr<std::string> text = SmtpMailSender::FormatMessage(message);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find("\r\nSubject: Verify your email\r\n"), std::string::npos);
  EXPECT_TRUE(text->ends_with("\r\n\r\nline one\r\n.leading dot\r\nlast line\r\n")) << *text;

  // A dot at the start of a line survives the SMTP transfer (dot-stuffing).
  std::unique_ptr<SmtpSink> sink = StartSink();
  ASSERT_NE(sink, nullptr);
  SmtpMailSender sender(SettingsFor(sink->url()));
  ASSERT_EQ(sender.Send(message), absl::OkStatus());
  const std::vector<SinkMessage> messages = sink->WaitForMessages(1, kArrival);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].raw, *text);
}

TEST(SmtpMailSenderTest, LongNonAsciiSubjectIsFoldedIntoEncodedWords) {
  MailMessage message = ResetMail();
  message.subject = std::string(40, 'a') + "ééééé";  // 50 bytes: two encoded words
  absl::StatusOr<std::string> text = SmtpMailSender::FormatMessage(message);
  ASSERT_TRUE(text.ok()) << text.status();
  // 40 'a' and two é (44 bytes: the third é would cross 45), then three é.
  EXPECT_NE(text->find("\r\nSubject: =?UTF-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYcOpw6k=?=\r\n"
                       " =?UTF-8?B?w6nDqcOp?=\r\nMessage-ID: "),
            std::string::npos)
      << *text;
}

TEST(SmtpMailSenderTest, AuthWithCredentialsFromTheUrl) {
  std::unique_ptr<SmtpSink> sink = StartSink({.user = "mailer", .password = "p@ss:w rd"});
  ASSERT_NE(sink, nullptr);
  SmtpMailSender sender(SettingsFor("smtp://mailer:p%40ss%3Aw%20rd@127.0.0.1:" +
                                    std::to_string(sink->port())));
  ASSERT_EQ(sender.Send(ResetMail()), absl::OkStatus());
  EXPECT_EQ(sink->WaitForMessages(1, kArrival).size(), 1u);
}

TEST(SmtpMailSenderTest, AuthWithCredentialsFromTheSeparateSettings) {
  std::unique_ptr<SmtpSink> sink = StartSink({.user = "mailer", .password = "s3cret"});
  ASSERT_NE(sink, nullptr);
  SmtpMailSender sender(SettingsFor(sink->url(), "mailer", "s3cret"));
  ASSERT_EQ(sender.Send(ResetMail()), absl::OkStatus());
  EXPECT_EQ(sink->WaitForMessages(1, kArrival).size(), 1u);
}

TEST(SmtpMailSenderTest, WrongPasswordIsUnavailableAndNotEchoed) {
  std::unique_ptr<SmtpSink> sink = StartSink({.user = "mailer", .password = "s3cret"});
  ASSERT_NE(sink, nullptr);
  SmtpMailSender sender(SettingsFor(sink->url(), "mailer", "wrong-pass"));
  const absl::Status status = sender.Send(ResetMail());
  EXPECT_EQ(status, absl::UnavailableError("smtp: login refused (535)"));
  EXPECT_TRUE(sink->Messages().empty());
}

TEST(SmtpMailSenderTest, NothingListeningIsUnavailable) {
  absl::StatusOr<int> port = SmtpSink::UnusedPort();
  ASSERT_TRUE(port.ok()) << port.status();
  SmtpMailSender sender(SettingsFor("smtp://127.0.0.1:" + std::to_string(*port)));
  const absl::Status status = sender.Send(ResetMail());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(std::string(status.message()).starts_with("smtp: ")) << status;
  EXPECT_EQ(status.message().find("483920"), std::string_view::npos);
}

TEST(SmtpMailSenderTest, RequiredStarttlsThatTheServerLacksIsUnavailable) {
  std::unique_ptr<SmtpSink> sink = StartSink();  // offers no STARTTLS
  ASSERT_NE(sink, nullptr);
  SmtpMailSender sender(SettingsFor(sink->url() + "?starttls=required"));
  const absl::Status status = sender.Send(ResetMail());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(sink->Messages().empty());
}

TEST(SmtpMailSenderTest, TemporaryRefusalIsUnavailable) {
  for (const int step : {0, 1}) {
    SmtpSink::Options options;
    (step == 0 ? options.rcpt_code : options.data_code) = 451;
    std::unique_ptr<SmtpSink> sink = StartSink(options);
    ASSERT_NE(sink, nullptr);
    SmtpMailSender sender(SettingsFor(sink->url()));
    EXPECT_EQ(sender.Send(ResetMail()),
              absl::UnavailableError("smtp: server deferred the message (451)"));
    EXPECT_TRUE(sink->Messages().empty());
  }
}

TEST(SmtpMailSenderTest, PermanentRefusalIsFailedPrecondition) {
  for (const int step : {0, 1}) {
    SmtpSink::Options options;
    (step == 0 ? options.rcpt_code : options.data_code) = 550;
    std::unique_ptr<SmtpSink> sink = StartSink(options);
    ASSERT_NE(sink, nullptr);
    SmtpMailSender sender(SettingsFor(sink->url()));
    EXPECT_EQ(sender.Send(ResetMail()),
              absl::FailedPreconditionError("smtp: server refused the message (550)"));
    EXPECT_TRUE(sink->Messages().empty());
  }
}

TEST(SmtpMailSenderTest, HeaderInjectionIsRefusedBeforeConnecting) {
  // Nothing listens: an attempt to connect would be UNAVAILABLE.
  absl::StatusOr<int> port = SmtpSink::UnusedPort();
  ASSERT_TRUE(port.ok()) << port.status();
  SmtpMailSender sender(SettingsFor("smtp://127.0.0.1:" + std::to_string(*port)));
  MailMessage message = ResetMail();
  message.subject = "Your code\r\nBcc: eve@example.net";
  EXPECT_EQ(sender.Send(message), absl::InvalidArgumentError(
                                      "mail: CR, LF or another control character in the subject"));
  message = ResetMail();
  message.subject = "Your code\nBcc: eve@example.net";
  EXPECT_EQ(sender.Send(message).code(), absl::StatusCode::kInvalidArgument);
  message = ResetMail();
  message.to = "ann@example.org\r\nBcc: eve@example.net";
  EXPECT_EQ(sender.Send(message), absl::InvalidArgumentError("mail: bad recipient address"));
  message = ResetMail();
  message.to = "ann@example.org>\r\nRCPT TO:<eve@example.net";
  EXPECT_EQ(sender.Send(message), absl::InvalidArgumentError("mail: bad recipient address"));
  message = ResetMail();
  message.from = "no-reply@example.com\nX: y";
  EXPECT_EQ(sender.Send(message), absl::InvalidArgumentError("mail: bad sender address"));
  message = ResetMail();
  message.body = std::string(999, 'x');
  EXPECT_EQ(sender.Send(message),
            absl::InvalidArgumentError("mail: a body line is longer than 998 bytes"));
}

TEST(SmtpSettingsTest, ParsesSchemesPortsAndStarttls) {
  absl::StatusOr<SmtpSettings> plain = SmtpSettings::Parse("smtp://mail.example.com:2525", "", "");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->implicit_tls);
  EXPECT_FALSE(plain->require_starttls);
  EXPECT_EQ(plain->host, "mail.example.com");
  EXPECT_EQ(plain->port, 2525);
  EXPECT_EQ(plain->user, "");
  EXPECT_EQ(plain->CurlUrl(), "smtp://mail.example.com:2525");

  absl::StatusOr<SmtpSettings> starttls =
      SmtpSettings::Parse("smtp://mail.example.com/?starttls=required", "u", "p");
  ASSERT_TRUE(starttls.ok()) << starttls.status();
  EXPECT_TRUE(starttls->require_starttls);
  EXPECT_EQ(starttls->port, 25);
  EXPECT_EQ(starttls->user, "u");
  EXPECT_EQ(starttls->password, "p");

  absl::StatusOr<SmtpSettings> tls = SmtpSettings::Parse("smtps://a%2Fb:p%40w@[::1]", "", "");
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_TRUE(tls->implicit_tls);
  EXPECT_EQ(tls->host, "[::1]");
  EXPECT_EQ(tls->port, 465);
  EXPECT_EQ(tls->user, "a/b");
  EXPECT_EQ(tls->password, "p@w");
  EXPECT_EQ(tls->CurlUrl(), "smtps://[::1]:465");
}

TEST(SmtpSettingsTest, RefusesBadUrlsWithoutEchoingThem) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "AUTH_SMTP_URL is empty"},
      {"http://mail.example.com", "AUTH_SMTP_URL must start with smtp:// or smtps://"},
      {"SMTP://mail.example.com", "AUTH_SMTP_URL must start with smtp:// or smtps://"},
      {"smtp://", "AUTH_SMTP_URL has no host"},
      {"smtp://u:secretpw@:25", "AUTH_SMTP_URL has no host"},
      {"smtp://mail example.com", "AUTH_SMTP_URL has a bad host"},
      {"smtp://mail.example.com:", "AUTH_SMTP_URL has a bad port (want 1-65535)"},
      {"smtp://mail.example.com:0", "AUTH_SMTP_URL has a bad port (want 1-65535)"},
      {"smtp://mail.example.com:65536", "AUTH_SMTP_URL has a bad port (want 1-65535)"},
      {"smtp://mail.example.com:25x", "AUTH_SMTP_URL has a bad port (want 1-65535)"},
      {"smtp://mail.example.com:99999999999", "AUTH_SMTP_URL has a bad port (want 1-65535)"},
      {"smtp://mail.example.com/relay", "AUTH_SMTP_URL must have no path"},
      {"smtp://mail.example.com?starttls=yes",
       "AUTH_SMTP_URL: the only query option is starttls=required"},
      {"smtps://mail.example.com?starttls=required",
       "AUTH_SMTP_URL: starttls=required is for smtp:// (smtps:// is TLS from the start)"},
      {"smtp://u:secret%zzpw@mail.example.com",
       "AUTH_SMTP_URL has a bad percent-escape in its user or password"},
      {"smtp://u:secret%4@mail.example.com",
       "AUTH_SMTP_URL has a bad percent-escape in its user or password"},
      {"smtp://u@mail.example.com", "AUTH_SMTP_URL has a user but no password"},
  };
  for (const auto& [url, message] : cases) {
    absl::StatusOr<SmtpSettings> settings = SmtpSettings::Parse(url, "", "");
    EXPECT_EQ(settings.status(), absl::InvalidArgumentError(message)) << url;
    EXPECT_EQ(settings.status().message().find("secret"), std::string_view::npos) << url;
  }
}

TEST(SmtpSettingsTest, CredentialsComeFromOnePlace) {
  EXPECT_EQ(SmtpSettings::Parse("smtp://u:secretpw@mail.example.com", "v", "secret2").status(),
            absl::InvalidArgumentError(
                "AUTH_SMTP_URL carries credentials and AUTH_SMTP_USER or AUTH_SMTP_PASSWORD is "
                "set too; give them in one place"));
  EXPECT_EQ(SmtpSettings::Parse("smtp://mail.example.com", "v", "").status(),
            absl::InvalidArgumentError("AUTH_SMTP_USER is set without AUTH_SMTP_PASSWORD"));
  EXPECT_EQ(SmtpSettings::Parse("smtp://mail.example.com", "", "secret2").status(),
            absl::InvalidArgumentError("AUTH_SMTP_PASSWORD is set without AUTH_SMTP_USER"));
}

}  // namespace
}  // namespace tollgate::auth
