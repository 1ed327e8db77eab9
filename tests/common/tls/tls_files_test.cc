// The checks made on TLS files before gRPC gets them: each failure is one
// line naming the setting and the cause.
#include "common/tls/tls_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/test_certificates.h"

namespace tollgate::tls {
namespace {

using testing::IssuedCertificate;
using testing::TestCertificateAuthority;

constexpr char kCert[] = "AUTH_TLS_CERT (--tls-cert)";
constexpr char kKey[] = "AUTH_TLS_KEY (--tls-key)";
constexpr char kClientCa[] = "AUTH_TLS_CLIENT_CA (--tls-client-ca)";

class TlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tollgate-tls-files-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    server_ = ca_.IssueServer();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << contents;
    return path;
  }

  // A valid server configuration, files written.
  ServerTlsFiles ValidServerFiles() {
    return ServerTlsFiles{{kCert, Write("cert.pem", server_.certificate_pem)},
                          {kKey, Write("key.pem", server_.private_key_pem)},
                          {kClientCa, Write("ca.pem", ca_.certificate_pem())}};
  }

  static std::string MessageOf(const absl::Status& status) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    return std::string(status.message());
  }

  std::string dir_;
  TestCertificateAuthority ca_{"tollgate test CA"};
  IssuedCertificate server_;
};

TEST_F(TlsFilesTest, AcceptsAMatchingCertificateKeyAndClientCa) {
  EXPECT_TRUE(VerifyServerFiles(ValidServerFiles()).ok());
  ServerTlsFiles without_client_ca = ValidServerFiles();
  without_client_ca.client_ca.path.clear();
  EXPECT_TRUE(VerifyServerFiles(without_client_ca).ok());
}

TEST_F(TlsFilesTest, NothingSetIsPlaintextAndNeedsNoFile) {
  const ServerTlsFiles files{{kCert, ""}, {kKey, ""}, {kClientCa, ""}};
  EXPECT_FALSE(files.enabled());
  EXPECT_TRUE(VerifyServerFiles(files).ok());
}

TEST_F(TlsFilesTest, RejectsACertificateWithoutItsKeyAndTheOtherWayRound) {
  ServerTlsFiles files = ValidServerFiles();
  files.private_key.path.clear();
  EXPECT_EQ(MessageOf(VerifyServerFiles(files)),
            "AUTH_TLS_CERT (--tls-cert) and AUTH_TLS_KEY (--tls-key): set both or neither");
  files = ValidServerFiles();
  files.certificate.path.clear();
  EXPECT_EQ(MessageOf(CheckServerPairing(files)),
            "AUTH_TLS_CERT (--tls-cert) and AUTH_TLS_KEY (--tls-key): set both or neither");
}

TEST_F(TlsFilesTest, RejectsAClientCaWithoutACertificate) {
  const ServerTlsFiles files{{kCert, ""}, {kKey, ""}, {kClientCa, "/tls/ca.pem"}};
  EXPECT_EQ(MessageOf(CheckServerPairing(files)),
            "AUTH_TLS_CLIENT_CA (--tls-client-ca): needs AUTH_TLS_CERT (--tls-cert) and "
            "AUTH_TLS_KEY (--tls-key)");
}

TEST_F(TlsFilesTest, NamesTheSettingOfAFileThatCannotBeRead) {
  ServerTlsFiles files = ValidServerFiles();
  files.certificate.path = dir_ + "/missing.pem";
  EXPECT_EQ(MessageOf(VerifyServerFiles(files)),
            "AUTH_TLS_CERT (--tls-cert): cannot read " + dir_ +
                "/missing.pem: No such file or directory");
  files = ValidServerFiles();
  files.private_key.path = dir_;
  EXPECT_EQ(MessageOf(VerifyServerFiles(files)),
            "AUTH_TLS_KEY (--tls-key): cannot read " + dir_ + ": Is a directory");
}

TEST_F(TlsFilesTest, RejectsFilesThatHoldNoPem) {
  ServerTlsFiles files = ValidServerFiles();
  files.certificate.path = Write("not-a-cert.pem", "hello\n");
  EXPECT_EQ(MessageOf(VerifyServerFiles(files)),
            "AUTH_TLS_CERT (--tls-cert): " + files.certificate.path + " holds no PEM certificate");

  files = ValidServerFiles();
  // A certificate where the key belongs is the usual mix-up.
  files.private_key.path = Write("cert-as-key.pem", server_.certificate_pem);
  EXPECT_EQ(MessageOf(VerifyServerFiles(files)),
            "AUTH_TLS_KEY (--tls-key): " + files.private_key.path +
                " holds no unencrypted PEM private key");

  files = ValidServerFiles();
  files.client_ca.path = Write("empty-ca.pem", "");
  EXPECT_EQ(MessageOf(VerifyServerFiles(files)),
            "AUTH_TLS_CLIENT_CA (--tls-client-ca): " + files.client_ca.path +
                " holds no PEM certificate");
}

TEST_F(TlsFilesTest, RejectsAKeyThatDoesNotMatchTheCertificate) {
  ServerTlsFiles files = ValidServerFiles();
  files.private_key.path = Write("other-key.pem", ca_.IssueServer().private_key_pem);
  EXPECT_EQ(MessageOf(VerifyServerFiles(files)),
            "AUTH_TLS_KEY (--tls-key): " + files.private_key.path +
                " does not match the certificate in AUTH_TLS_CERT (--tls-cert)");
}

TEST_F(TlsFilesTest, ChecksClientFilesAlike) {
  const IssuedCertificate client = ca_.IssueClient("sum_service");
  ClientTlsFiles files{{"SUM_KEYS_CA", Write("ca.pem", ca_.certificate_pem())},
                       {"SUM_KEYS_CLIENT_CERT", Write("client.pem", client.certificate_pem)},
                       {"SUM_KEYS_CLIENT_KEY", Write("client-key.pem", client.private_key_pem)}};
  EXPECT_TRUE(VerifyClientFiles(files).ok());

  ClientTlsFiles only_ca = files;
  only_ca.certificate.path.clear();
  only_ca.private_key.path.clear();
  EXPECT_TRUE(VerifyClientFiles(only_ca).ok());

  ClientTlsFiles half = files;
  half.private_key.path.clear();
  EXPECT_EQ(MessageOf(VerifyClientFiles(half)),
            "SUM_KEYS_CLIENT_CERT and SUM_KEYS_CLIENT_KEY: set both or neither");

  ClientTlsFiles missing_ca = files;
  missing_ca.ca.path = dir_ + "/nope.pem";
  EXPECT_EQ(MessageOf(VerifyClientFiles(missing_ca)),
            "SUM_KEYS_CA: cannot read " + dir_ + "/nope.pem: No such file or directory");

  ClientTlsFiles mismatched = files;
  mismatched.private_key.path = Write("server-key.pem", server_.private_key_pem);
  EXPECT_EQ(MessageOf(VerifyClientFiles(mismatched)),
            "SUM_KEYS_CLIENT_KEY: " + mismatched.private_key.path +
                " does not match the certificate in SUM_KEYS_CLIENT_CERT");
}

}  // namespace
}  // namespace tollgate::tls
