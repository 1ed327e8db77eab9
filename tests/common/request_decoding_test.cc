// AnswerUndecodableRequests end to end (SPEC section 3): a real grpc::Server
// on 127.0.0.1:0 serves the test-only DecodeTestService through the callback
// API behind InstallCallPipeline, and a generic stub sends raw request
// bytes. An undecodable request gets exactly INVALID_ARGUMENT "request could
// not be decoded" on both the interceptor path and the admitted fast path
// (no interceptor), never reaches the method, is counted once, and writes
// nothing to stderr; a refused call keeps its refusal whatever its body.
// The read mark of streaming reactors (MarkUnread, ReadFailedToDecode) on
// gRPC's own decoding; SumServerTest runs it end to end on SumStream.
#include "common/request_decoding.h"

#include <google/protobuf/stubs/logging.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/auth/access_policy.h"
#include "common/auth/admission.h"
#include "common/server/call_pipeline.h"
#include "common/keys/key_source.h"
#include "tests/common/auth/test_tokens.h"
#include "tests/support/fake_clock.h"
#include "tests/support/test_keys.h"
#include "tollgate/testing/decode_test.grpc.pb.h"

namespace tollgate {
namespace {

using std::chrono::seconds;
using tollgate::testing::DecodeTestService;
using tollgate::testing::TextRequest;
using tollgate::testing::TextResponse;

constexpr int64_t kNow = 1'800'000'000;
constexpr char kOpenEcho[] = "/tollgate.testing.DecodeTestService/OpenEcho";
constexpr char kGuardedEcho[] = "/tollgate.testing.DecodeTestService/GuardedEcho";
constexpr char kMissingMessage[] =
    "authorization metadata is required: send 'authorization: Bearer <token>'";

// TextRequest{text: <2 bytes that are not UTF-8>}: field 1, length 2,
// 0xC3 0x28 (a lead byte followed by a non-continuation byte).
const std::string kInvalidUtf8("\x0a\x02\xc3\x28", 4);
// Not a message at all: a tag varint that never ends.
const std::string kGarbage("\xff\xff\xff", 3);
// Field 1 (length-delimited) whose length varint is cut off.
const std::string kTruncatedVarint("\x0a\x80", 2);

// Echoes the text in upper case; with the guard of admission.h on
// GuardedEcho. Counts the calls that reached the business logic.
class DecodeTestServiceImpl final : public DecodeTestService::CallbackService {
 public:
  grpc::ServerUnaryReactor* OpenEcho(grpc::CallbackServerContext* context,
                                     const TextRequest* request, TextResponse* response) override {
    open_runs_.fetch_add(1);
    response->set_text(request->text());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* GuardedEcho(grpc::CallbackServerContext* context,
                                        const TextRequest* request,
                                        TextResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (Admission admission = AdmissionOf(context); !admission.admitted()) {
      reactor->Finish(admission.rejection());
      return reactor;
    }
    guarded_runs_.fetch_add(1);
    response->set_text(request->text());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  int open_runs() const { return open_runs_.load(); }
  int guarded_runs() const { return guarded_runs_.load(); }

 private:
  std::atomic<int> open_runs_{0};
  std::atomic<int> guarded_runs_{0};
};

// Sends everything written to file descriptor 2 (stderr) to a temporary
// file while alive; Text() ends the capture and returns what was written.
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    file_ = std::tmpfile();
    saved_ = dup(STDERR_FILENO);
    dup2(fileno(file_), STDERR_FILENO);
  }
  ~StderrCapture() { Text(); }

  std::string Text() {
    if (file_ == nullptr) return text_;
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    std::rewind(file_);
    char buffer[4096];
    size_t read;
    while ((read = std::fread(buffer, 1, sizeof(buffer), file_)) > 0) text_.append(buffer, read);
    std::fclose(file_);
    file_ = nullptr;
    return text_;
  }

 private:
  std::FILE* file_ = nullptr;
  int saved_ = -1;
  std::string text_;
};

struct RawResult {
  grpc::Status status;
  std::string www_authenticate;
};

class RequestDecodingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signing_key_ = new Jwk(tollgate::testing::GenerateKey(JwsAlgorithm::kES256));
  }
  static void TearDownTestSuite() { delete signing_key_; }

  RequestDecodingTest() : minter_(*signing_key_, AccessTokenOptions{"tollgate", "tollgate", 900}) {
    clock_.Set(kNow);
  }

  void SetUp() override {
    keys_ = std::make_unique<StaticKeySource>(*JwkSet::FromKeys({*signing_key_}));
    auto policy = AccessPolicy::FromServices({"tollgate.testing.DecodeTestService"});
    ASSERT_TRUE(policy.ok()) << policy.status();
    authenticator_ = std::make_unique<BearerAuthenticator>(
        *std::move(policy), AccessTokenVerifier(AccessTokenVerifierOptions{"tollgate", "tollgate", 30}),
        *keys_, clock_, BearerAuthenticator::Options{});
    service_ = std::make_unique<DecodeTestServiceImpl>();
    AnswerUndecodableRequests(*service_);
    AnswerUndecodableRequests(*service_);  // a second call changes nothing

    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    factory_ = &InstallCallPipeline(
        builder, CallPipelineOptions{authenticator_.get(), {}, {"tollgate.testing.DecodeTestService"}});
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    ASSERT_TRUE(channel_->WaitForConnected(std::chrono::system_clock::now() + seconds(10)));
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::string UserBearer() { return "Bearer " + minter_.Mint({"user"}, kNow); }

  RawResult RawCall(const std::string& method, const std::string& body,
                    const std::string& authorization = "", std::string* response_bytes = nullptr) {
    grpc::GenericStub generic(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                      [&done](grpc::Status status) { done.set_value(status); });
    std::future<grpc::Status> status = done.get_future();
    RawResult result;
    if (status.wait_for(seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "the call did not finish";
      return result;
    }
    result.status = status.get();
    auto trailers = context.GetServerTrailingMetadata();
    if (auto it = trailers.find("www-authenticate"); it != trailers.end()) {
      result.www_authenticate.assign(it->second.data(), it->second.size());
    }
    if (response_bytes != nullptr && result.status.ok()) {
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(response.Dump(&slices).ok());
      response_bytes->clear();
      for (const grpc::Slice& s : slices) {
        response_bytes->append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    return result;
  }

  // Sends `body` three times; each must answer exactly INVALID_ARGUMENT
  // "request could not be decoded", count once, run no business logic and
  // write nothing to stderr.
  void ExpectUndecodable(const std::string& method, const std::string& body,
                         const std::string& authorization = "") {
    const uint64_t counted_before = UndecodableRequestsTotal();
    StderrCapture capture;
    for (int i = 0; i < 3; ++i) {
      const RawResult result = RawCall(method, body, authorization);
      EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << result.status.error_message();
      EXPECT_EQ(result.status.error_message(), "request could not be decoded");
      EXPECT_EQ(result.www_authenticate, "");
      EXPECT_EQ(UndecodableRequestsTotal(), counted_before + i + 1);
    }
    EXPECT_EQ(capture.Text(), "");
    EXPECT_EQ(service_->open_runs(), 0);
    EXPECT_EQ(service_->guarded_runs(), 0);
  }

  static Jwk* signing_key_;
  tollgate::testing::FakeClock clock_;
  tollgate::testing::TokenMinter minter_;
  std::unique_ptr<KeySource> keys_;
  std::unique_ptr<BearerAuthenticator> authenticator_;
  std::unique_ptr<DecodeTestServiceImpl> service_;
  const CallPipeline* factory_ = nullptr;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

Jwk* RequestDecodingTest::signing_key_ = nullptr;

TEST_F(RequestDecodingTest, WellFormedRequestsAreAnswered) {
  TextRequest request;
  request.set_text("h\xc3\xa9llo");  // valid UTF-8
  const std::string body = request.SerializeAsString();
  std::string bytes;
  RawResult open = RawCall(kOpenEcho, body, "", &bytes);
  ASSERT_TRUE(open.status.ok()) << open.status.error_code() << " " << open.status.error_message();
  TextResponse response;
  ASSERT_TRUE(response.ParseFromString(bytes));
  EXPECT_EQ(response.text(), "h\xc3\xa9llo");

  RawResult guarded = RawCall(kGuardedEcho, body, UserBearer(), &bytes);
  ASSERT_TRUE(guarded.status.ok()) << guarded.status.error_message();
  ASSERT_TRUE(response.ParseFromString(bytes));
  EXPECT_EQ(response.text(), "h\xc3\xa9llo");
  EXPECT_EQ(service_->open_runs(), 1);
  EXPECT_EQ(service_->guarded_runs(), 1);
}

// A public method called without a token takes the interceptor path.
TEST_F(RequestDecodingTest, InvalidUtf8OnPublicMethod) {
  const uint64_t dropped_before = DroppedProtobufUtf8ParseLogsTotal();
  ExpectUndecodable(kOpenEcho, kInvalidUtf8);
  // protobuf did want to log each one; the filter dropped the line.
  EXPECT_EQ(DroppedProtobufUtf8ParseLogsTotal(), dropped_before + 3);
}

TEST_F(RequestDecodingTest, GarbageOnPublicMethod) { ExpectUndecodable(kOpenEcho, kGarbage); }

TEST_F(RequestDecodingTest, TruncatedVarintOnPublicMethod) {
  ExpectUndecodable(kOpenEcho, kTruncatedVarint);
}

// An admitted call with a token runs without any interceptor (the fast
// path): nothing but the handler wrapper can change its status.
TEST_F(RequestDecodingTest, UndecodableOnAdmittedFastPath) {
  const uint64_t interceptors_before = factory_->interceptors_created();
  ExpectUndecodable(kGuardedEcho, kInvalidUtf8, UserBearer());
  ExpectUndecodable(kGuardedEcho, kGarbage, UserBearer());
  ExpectUndecodable(kGuardedEcho, kTruncatedVarint, UserBearer());
  ExpectUndecodable(kOpenEcho, kGarbage, UserBearer());
  EXPECT_EQ(factory_->interceptors_created(), interceptors_before);
}

// Auth wins: a refused call answers its refusal whatever its body is, and is
// not counted as undecodable.
TEST_F(RequestDecodingTest, RefusedCallKeepsItsRefusalWhateverItsBody) {
  const uint64_t counted_before = UndecodableRequestsTotal();
  StderrCapture capture;
  for (const std::string& body : {kInvalidUtf8, kGarbage, kTruncatedVarint}) {
    RawResult missing = RawCall(kGuardedEcho, body);
    EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(missing.status.error_message(), kMissingMessage);
    EXPECT_EQ(missing.www_authenticate,
              std::string("Bearer error=\"invalid_token\", error_description=\"") +
                  kMissingMessage + "\"");

    // Decided by the factory (a token that does not verify).
    RawResult bad = RawCall(kGuardedEcho, body, "Bearer not.a.token");
    EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(bad.www_authenticate, "");

    // A valid token without the role.
    RawResult no_role = RawCall(kGuardedEcho, body, "Bearer " + minter_.Mint({}, kNow));
    EXPECT_EQ(no_role.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(UndecodableRequestsTotal(), counted_before);
  EXPECT_EQ(service_->guarded_runs(), 0);
  EXPECT_EQ(capture.Text(), "");
}

// The filter drops only the UTF-8 parse line; anything else protobuf logs
// still reaches stderr.
TEST_F(RequestDecodingTest, ProtobufLogFilterForwardsOtherMessages) {
  StderrCapture capture;
  GOOGLE_LOG(ERROR) << "String field 'x' contains invalid UTF-8 data when parsing a protocol "
                       "buffer. Use the 'bytes' type if you intend to send raw bytes. ";
  GOOGLE_LOG(WARNING) << "an unrelated protobuf warning";
  const std::string text = capture.Text();
  EXPECT_EQ(text.find("invalid UTF-8"), std::string::npos) << text;
  EXPECT_NE(text.find("an unrelated protobuf warning"), std::string::npos) << text;
}

// The read mark of client-streaming and bidi reactors, through gRPC's own
// decoding (SerializationTraits, as CallOpRecvMessage uses it): a message
// that came and failed to decode, whatever the failure, removes the mark;
// no message leaves it; a decoded message replaces it.
TEST(RequestDecodingReadMarkTest, TellsAFailedDecodeFromNoMessage) {
  InstallProtobufLogFilter();  // the invalid UTF-8 case would log otherwise
  auto decode = [](const std::string& body, TextRequest* request) {
    grpc::Slice slice(body);
    grpc::ByteBuffer buffer(&slice, 1);
    return grpc::SerializationTraits<TextRequest>::Deserialize(&buffer, request);
  };
  // A client that sends the mark's tag and some value, then garbage.
  const std::string mark_like = std::string("\xf9\xff\xff\xff\x0f", 5) + std::string(8, 'x') + kGarbage;
  for (const std::string& body : {kInvalidUtf8, kGarbage, kTruncatedVarint, mark_like}) {
    TextRequest request;
    request.set_text("left over from the previous message");
    MarkUnread(request);
    EXPECT_FALSE(ReadFailedToDecode(request));  // as at the half-close: nothing decoded
    EXPECT_FALSE(decode(body, &request).ok());
    EXPECT_TRUE(ReadFailedToDecode(request));
  }
  TextRequest request;
  MarkUnread(request);
  ASSERT_TRUE(decode(std::string("\x0a\x02ok", 4), &request).ok());
  EXPECT_EQ(request.text(), "ok");
  EXPECT_EQ(request.ByteSizeLong(), 4u);  // the mark is gone
}

// CountUndecodableRequest counts once per call and gives the exact status.
TEST(RequestDecodingReadMarkTest, CountUndecodableRequestCountsAndAnswers) {
  const uint64_t before = UndecodableRequestsTotal();
  grpc::Status status = CountUndecodableRequest();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "request could not be decoded");
  EXPECT_EQ(UndecodableRequestsTotal(), before + 1);
}

}  // namespace
}  // namespace tollgate
