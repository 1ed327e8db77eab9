// Real gRPC servers on 127.0.0.1:0 with the credentials common/tls makes,
// against real clients: the right CA, a wrong CA, no TLS at all, with and
// without a client certificate, and a certificate replaced on disk while
// the server runs.
#include "common/tls/tls_credentials.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/support/test_certificates.h"
#include "tollgate/sum/v1/sum.grpc.pb.h"

namespace tollgate::tls {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using testing::IssuedCertificate;
using testing::ReplaceFile;
using testing::SerialOf;
using testing::TestCertificateAuthority;

class TlsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tollgate-tls-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    const IssuedCertificate server = ca_.IssueServer();
    server_serial_ = server.serial_hex;
    files_ = ServerTlsFiles{{"CERT", Write("server.pem", server.certificate_pem)},
                            {"KEY", Write("server-key.pem", server.private_key_pem)},
                            {"CLIENT_CA", ""}};
    ca_file_ = Write("ca.pem", ca_.certificate_pem());
    other_ca_file_ = Write("other-ca.pem", other_ca_.certificate_pem());
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << contents;
    return path;
  }

  // Serves grpc.health.v1.Health on 127.0.0.1:0 with credentials from `files`.
  void StartServer(const ServerTlsFiles& files) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        ServerCredentialsFrom(files);
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port_);
    builder.RegisterService(&unused_service_);  // a server needs one of its own
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
  }

  std::shared_ptr<grpc::ChannelCredentials> TlsTrusting(const std::string& ca_file,
                                                        const IssuedCertificate* client = nullptr) {
    ClientTlsFiles files{{"CA", ca_file}, {"CLIENT_CERT", ""}, {"CLIENT_KEY", ""}};
    if (client != nullptr) {
      files.certificate.path = Write("client-" + client->serial_hex + ".pem",
                                     client->certificate_pem);
      files.private_key.path = Write("client-key-" + client->serial_hex + ".pem",
                                     client->private_key_pem);
    }
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        ChannelCredentialsFrom(files);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    return credentials.ok() ? *credentials : nullptr;
  }

  // One Health/Check on a new connection (a channel of its own, not shared
  // with earlier ones). The server certificate's serial goes to `*serial`.
  grpc::Status Check(const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                     std::string* serial = nullptr) {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port_), credentials,
                                             arguments);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    HealthCheckResponse response;
    const grpc::Status status =
        Health::NewStub(channel)->Check(&context, HealthCheckRequest(), &response);
    if (status.ok()) {
      EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
      if (serial != nullptr) {
        const auto pems = context.auth_context()->FindPropertyValues("x509_pem_cert");
        *serial = pems.empty() ? "" : SerialOf(std::string(pems[0].data(), pems[0].size()));
      }
    }
    return status;
  }

  std::string dir_;
  TestCertificateAuthority ca_{"tollgate test CA"};
  TestCertificateAuthority other_ca_{"some other CA"};
  ServerTlsFiles files_;
  std::string server_serial_;
  std::string ca_file_;
  std::string other_ca_file_;
  int port_ = 0;
  sum::v1::SumService::Service unused_service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(TlsCredentialsTest, ServesAClientThatTrustsItsCa) {
  StartServer(files_);
  std::string serial;
  const grpc::Status status = Check(TlsTrusting(ca_file_), &serial);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(serial, server_serial_);
}

TEST_F(TlsCredentialsTest, RefusesAPlaintextClient) {
  StartServer(files_);
  EXPECT_EQ(Check(grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsCredentialsTest, AClientTrustingAnotherCaFails) {
  StartServer(files_);
  EXPECT_EQ(Check(TlsTrusting(other_ca_file_)).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsCredentialsTest, AClientRefusesACertificateForAnotherHost) {
  const IssuedCertificate elsewhere = ca_.IssueServer("DNS:elsewhere.example");
  ServerTlsFiles files = files_;
  files.certificate.path = Write("elsewhere.pem", elsewhere.certificate_pem);
  files.private_key.path = Write("elsewhere-key.pem", elsewhere.private_key_pem);
  StartServer(files);
  // Same CA, but the certificate does not name 127.0.0.1.
  EXPECT_EQ(Check(TlsTrusting(ca_file_)).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsCredentialsTest, NoFilesServesPlaintext) {
  StartServer(ServerTlsFiles{{"CERT", ""}, {"KEY", ""}, {"CLIENT_CA", ""}});
  const grpc::Status status = Check(grpc::InsecureChannelCredentials());
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
}

TEST_F(TlsCredentialsTest, WithAClientCaOnlyClientsWithItsCertificateAreServed) {
  ServerTlsFiles files = files_;
  files.client_ca.path = ca_file_;
  StartServer(files);

  EXPECT_EQ(Check(TlsTrusting(ca_file_)).error_code(), grpc::StatusCode::UNAVAILABLE);
  const IssuedCertificate stranger = other_ca_.IssueClient("stranger");
  EXPECT_EQ(Check(TlsTrusting(ca_file_, &stranger)).error_code(), grpc::StatusCode::UNAVAILABLE);
  const IssuedCertificate member = ca_.IssueClient("sum_service");
  const grpc::Status status = Check(TlsTrusting(ca_file_, &member));
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
}

TEST_F(TlsCredentialsTest, PresentsAReplacedCertificateWithoutARestart) {
  StartServer(files_);
  std::string serial;
  ASSERT_TRUE(Check(TlsTrusting(ca_file_), &serial).ok());
  ASSERT_EQ(serial, server_serial_);

  const IssuedCertificate renewed = ca_.IssueServer();
  ASSERT_NE(renewed.serial_hex, server_serial_);
  ReplaceFile(files_.private_key.path, renewed.private_key_pem);
  ReplaceFile(files_.certificate.path, renewed.certificate_pem);

  // The files are re-read every kReloadInterval; allow three.
  const auto deadline = std::chrono::steady_clock::now() + 3 * kReloadInterval;
  while (serial != renewed.serial_hex && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    serial.clear();
    Check(TlsTrusting(ca_file_), &serial);
  }
  EXPECT_EQ(serial, renewed.serial_hex);
}

TEST_F(TlsCredentialsTest, BadFilesFailBeforeAnyServerStarts) {
  ServerTlsFiles files = files_;
  files.private_key.path = Write("wrong-key.pem", ca_.IssueServer().private_key_pem);
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> server = ServerCredentialsFrom(files);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(),
            "KEY: " + files.private_key.path + " does not match the certificate in CERT");

  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> client =
      ChannelCredentialsFrom(ClientTlsFiles{{"CA", dir_ + "/none.pem"}, {"C", ""}, {"K", ""}});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().message(),
            "CA: cannot read " + dir_ + "/none.pem: No such file or directory");
}

}  // namespace
}  // namespace tollgate::tls
