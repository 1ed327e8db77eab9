// `tollgate token inspect` and `tollgate token verify` in process (Cli with
// a fake clock): tokens minted here with the token core, each refusal with
// its exit status and the exact TokenError name and sentence; the key set
// from a file and over HTTP (a server on 127.0.0.1 started here); --jws-only
// against the published JWS examples of tests/testdata/jose/jws_vectors.json
// and tampered forms of them.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/token/access_token_issuer.h"
#include "common/token/base64url.h"
#include "common/token/jwk.h"
#include "common/token/jwk_set.h"
#include "common/token/jws.h"
#include "nlohmann/json.hpp"
#include "tests/client/cli_in_process.h"
#include "tests/client/temp_dir.h"
#include "tests/support/fake_clock.h"
#include "tests/support/test_keys.h"

namespace tollgate::cli {
namespace {

using testing::TempDir;

constexpr int64_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z
constexpr char kJwsVectorsFile[] = TOLLGATE_TESTDATA_DIR "/jose/jws_vectors.json";

using Outcome = tollgate::testing::ProgramOutcome;

// The parts of a compact JWS, and one put back together.
std::vector<std::string> Segments(const std::string& token) {
  std::vector<std::string> segments;
  std::stringstream in(token);
  for (std::string segment; std::getline(in, segment, '.');) segments.push_back(segment);
  if (!token.empty() && token.back() == '.') segments.push_back("");
  return segments;
}
std::string Joined(const std::vector<std::string>& segments) {
  std::string token;
  for (size_t i = 0; i < segments.size(); ++i) token += (i ? "." : "") + segments[i];
  return token;
}
nlohmann::json DecodedSegment(const std::string& segment) {
  return nlohmann::json::parse(Base64UrlDecode(segment).value());
}

class TokenCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    jwks_path_ = dir_.path() + "/jwks.json";
    auto keys = JwkSet::FromKeys({signing_key_, other_published_key_});
    ASSERT_TRUE(keys.ok());
    std::ofstream(jwks_path_) << keys->ToPublicJson();
  }

  Outcome Run(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    return tollgate::testing::RunCliInProcess(args, /*env=*/{}, clock_, stdin_text);
  }

  Outcome Verify(const std::string& token, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"token", "verify", "--jwks", jwks_path_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(token);
    return Run(args);
  }

  // An access token as AuthService mints it, signed by `key`.
  std::string Mint(const Jwk& key, int64_t issued_at = kNow, AccessTokenOptions options = {}) {
    AccessTokenIssuer issuer(key, std::move(options), random_);
    auto issued = issuer.Issue({"user-1", "ada@example.com", {"user"}}, issued_at);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? issued->token : "";
  }

  // A JWS with this header and payload, signed by `key`.
  static std::string Sign(const Jwk& key, const nlohmann::json& header,
                          const nlohmann::json& payload) {
    auto token = JwsSignCompact(key, header.dump(), payload.dump());
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }

  static void ExpectInvalid(const Outcome& outcome, const std::string& line) {
    EXPECT_EQ(outcome.exit_code, kExitFailure);
    EXPECT_EQ(outcome.err, line + "\n");
    EXPECT_EQ(outcome.out, "");
  }

  TempDir dir_;
  std::string jwks_path_;
  tollgate::testing::FakeClock clock_{kNow};
  tollgate::testing::CountingRandomSource random_;
  const Jwk signing_key_ = tollgate::testing::GenerateKey(JwsAlgorithm::kES256);
  const Jwk other_published_key_ = tollgate::testing::GenerateKey(JwsAlgorithm::kEdDSA);
  const Jwk unpublished_key_ = tollgate::testing::GenerateKey(JwsAlgorithm::kES256);
};

// --- token verify: tokens minted here --------------------------------------

TEST_F(TokenCommandsTest, AValidTokenPrintsItsClaimsAndExitsZero) {
  const std::string token = Mint(signing_key_);
  const Outcome outcome = Verify(token);
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.err, "");
  ASSERT_EQ(outcome.out.back(), '\n');
  EXPECT_EQ(outcome.out.find('\n'), outcome.out.size() - 1) << "one line";
  EXPECT_EQ(nlohmann::json::parse(outcome.out), DecodedSegment(Segments(token)[1]));
  EXPECT_EQ(nlohmann::json::parse(outcome.out)["sub"], "user-1");
}

// exp = kNow - 30: refused at kNow with the default leeway of 30 s (now >=
// exp + leeway), accepted one second earlier.
TEST_F(TokenCommandsTest, AnExpiredTokenIsExitOneWithTheNameExpired) {
  const std::string token = Mint(signing_key_, kNow - 900 - 30);
  ExpectInvalid(Verify(token),
                "tollgate: token verify: expired: token expired: exp is 2027-01-15T07:59:30Z, "
                "checked at 2027-01-15T08:00:00Z with a leeway of 30 s");
  EXPECT_EQ(Verify(token, {"--now", std::to_string(kNow - 1)}).exit_code, kExitSuccess);
  ExpectInvalid(Verify(token, {"--now", std::to_string(kNow - 1), "--leeway", "0"}),
                "tollgate: token verify: expired: token expired: exp is 2027-01-15T07:59:30Z, "
                "checked at 2027-01-15T07:59:59Z with a leeway of 0 s");
}

TEST_F(TokenCommandsTest, ATokenFromTheFutureIsNotYetValid) {
  const std::string token = Mint(signing_key_, kNow + 31);
  ExpectInvalid(Verify(token),
                "tollgate: token verify: not_yet_valid: token not yet valid: nbf is "
                "2027-01-15T08:00:31Z, checked at 2027-01-15T08:00:00Z with a leeway of 30 s");
  EXPECT_EQ(Verify(Mint(signing_key_, kNow + 30)).exit_code, kExitSuccess);
}

TEST_F(TokenCommandsTest, AnotherAudienceIsWrongAudience) {
  const std::string token = Mint(signing_key_, kNow, {.audience = "billing"});
  ExpectInvalid(Verify(token), "tollgate: token verify: wrong_audience: wrong audience: aud is "
                               "\"billing\", expected \"tollgate\" (--aud)");
  EXPECT_EQ(Verify(token, {"--aud", "billing"}).exit_code, kExitSuccess);
}

TEST_F(TokenCommandsTest, AnotherIssuerIsWrongIssuer) {
  const std::string token = Mint(signing_key_, kNow, {.issuer = "someone-else"});
  ExpectInvalid(Verify(token), "tollgate: token verify: wrong_issuer: wrong issuer: iss is "
                               "\"someone-else\", expected \"tollgate\" (--iss)");
  EXPECT_EQ(Verify(token, {"--iss", "someone-else"}).exit_code, kExitSuccess);
}

TEST_F(TokenCommandsTest, AKeyTheSetDoesNotHoldIsUnknownKid) {
  const std::string token = Mint(unpublished_key_);
  ExpectInvalid(Verify(token), "tollgate: token verify: unknown_kid: unknown key id: no key \"" +
                                   unpublished_key_.kid() + "\"; the key set holds \"" +
                                   signing_key_.kid() + "\", \"" +
                                   other_published_key_.kid() + "\"");
}

// The payload gains the admin role; header and signature are the original's.
TEST_F(TokenCommandsTest, ATamperedPayloadIsBadSignature) {
  std::vector<std::string> segments = Segments(Mint(signing_key_));
  nlohmann::json claims = DecodedSegment(segments[1]);
  claims["roles"] = {"user", "admin"};
  segments[1] = Base64UrlEncode(claims.dump());
  ExpectInvalid(Verify(Joined(segments)), "tollgate: token verify: bad_signature: bad signature");
}

// The kid names the ES256 key, the header says HS256: the classic key
// confusion (the public key used as an HMAC secret) is refused by the key's
// algorithm.
TEST_F(TokenCommandsTest, AnAlgorithmOtherThanTheKeysIsAlgorithmMismatch) {
  const Jwk secret = Jwk::FromHmacSecret(std::string(32, 'k')).value();
  const std::string token =
      Sign(secret, {{"alg", "HS256"}, {"kid", signing_key_.kid()}, {"typ", "at+jwt"}},
           DecodedSegment(Segments(Mint(signing_key_))[1]));
  ExpectInvalid(Verify(token), "tollgate: token verify: algorithm_mismatch: algorithm does not "
                               "match the key: alg is \"HS256\", the key \"" +
                                   signing_key_.kid() + "\" is for ES256");
}

TEST_F(TokenCommandsTest, AJwsThatIsNotAnAccessTokenIsWrongTypeButAValidJws) {
  const std::string token = Sign(signing_key_, {{"alg", "ES256"}, {"kid", signing_key_.kid()}},
                                 {{"hello", "world"}});
  ExpectInvalid(Verify(token), "tollgate: token verify: wrong_type: wrong token type (typ must "
                               "be at+jwt): typ is absent (--jws-only checks a JWS of any typ)");
  const Outcome jws_only = Verify(token, {"--jws-only"});
  EXPECT_EQ(jws_only.exit_code, kExitSuccess) << jws_only.err;
  EXPECT_EQ(jws_only.out, "{\"header\":{\"alg\":\"ES256\",\"kid\":\"" + signing_key_.kid() +
                              "\"},\"payload\":\"{\\\"hello\\\":\\\"world\\\"}\"}\n");
}

TEST_F(TokenCommandsTest, NotAJwsAtAllIsMalformed) {
  ExpectInvalid(Verify("not-a-token"), "tollgate: token verify: malformed: malformed token");
}

TEST_F(TokenCommandsTest, TheTokenMayComeFromStdin) {
  const std::string token = Mint(signing_key_);
  const Outcome outcome = Run({"token", "verify", "--jwks", jwks_path_, "-"}, token + "\n");
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(nlohmann::json::parse(outcome.out)["sub"], "user-1");
  const Outcome empty = Run({"token", "verify", "--jwks", jwks_path_, "-"}, "\n");
  EXPECT_EQ(empty.exit_code, kExitUsage);
  EXPECT_EQ(empty.err, "tollgate: token verify: TOKEN '-': no token on stdin (see 'tollgate "
                       "token verify --help')\n");
}

TEST_F(TokenCommandsTest, UsageErrorsExitTwo) {
  const std::string token = Mint(signing_key_);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"token", "verify", token},
       "token verify: missing option --jwks (see 'tollgate token verify --help')"},
      {{"token", "verify", "--jwks", jwks_path_},
       "token verify: missing argument TOKEN (see 'tollgate token verify --help')"},
      {{"token", "verify", "--jwks", jwks_path_, "--now", "soon", token},
       "token verify: --now: expected a whole number from 0 to 253402300799, got 'soon' "
       "(see 'tollgate token verify --help')"},
      {{"token", "verify", "--jwks", jwks_path_, "--leeway", "-1", token},
       "token verify: --leeway: expected a whole number from 0 to 86400, got '-1' "
       "(see 'tollgate token verify --help')"},
      {{"token", "verify", "--jwks", jwks_path_, "--jws-only", "--aud", "x", token},
       "token verify: --aud does not apply with --jws-only, which checks no claims "
       "(see 'tollgate token verify --help')"},
      {{"token", "inspect"}, "token inspect: missing argument TOKEN (see 'tollgate token "
                             "inspect --help')"},
      {{"token"}, "token: missing verb, expected inspect or verify (see 'tollgate token --help')"},
  };
  for (const auto& [args, message] : cases) {
    const Outcome outcome = Run(args);
    EXPECT_EQ(outcome.exit_code, kExitUsage) << message;
    EXPECT_EQ(outcome.err, "tollgate: " + message + "\n");
    EXPECT_EQ(outcome.out, "");
  }
}

// --- the key set ------------------------------------------------------------

TEST_F(TokenCommandsTest, AKeySetThatCannotBeLoadedIsExitOne) {
  const std::string token = Mint(signing_key_);
  const std::string missing = dir_.path() + "/missing.json";
  Outcome outcome = Run({"token", "verify", "--jwks", missing, token});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err,
            "tollgate: token verify: cannot load the key set: no such file: " + missing + "\n");
  const std::string not_json = dir_.path() + "/not.json";
  std::ofstream(not_json) << "keys?";
  outcome = Run({"token", "verify", "--jwks", not_json, token});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err.rfind("tollgate: token verify: cannot load the key set: " + not_json +
                                  ": not a usable JWK Set: ",
                              0),
            0u)
      << outcome.err;
}

// A key set file may hold an HS256 secret (a verifier may be given one).
TEST_F(TokenCommandsTest, AKeySetFileMayHoldAnOctKey) {
  const Jwk secret = Jwk::FromHmacSecret("a shared secret of at least 32 bytes").value();
  const std::string path = dir_.path() + "/oct.json";
  std::ofstream(path) << nlohmann::json{
      {"keys",
       {{{"kty", "oct"},
         {"kid", secret.kid()},
         {"k", Base64UrlEncode("a shared secret of at least 32 bytes")}}}}}.dump();
  const Outcome outcome = Run({"token", "verify", "--jwks", path, Mint(secret)});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
}

// A JWKS over HTTP from a server started here: served, missing (404), and
// one that publishes a secret.
class TokenVerifyOverHttpTest : public TokenCommandsTest {
 protected:
  void SetUp() override {
    TokenCommandsTest::SetUp();
    const std::string published = JwkSet::FromKeys({signing_key_}).value().ToPublicJson();
    server_.Get("/.well-known/jwks.json", [published](const httplib::Request&,
                                                      httplib::Response& response) {
      response.set_content(published, "application/jwk-set+json");
    });
    server_.Get("/leaky.json", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(R"({"keys":[{"kty":"oct","kid":"s","k":")" +
                               Base64UrlEncode(std::string(32, 's')) + R"("}]})",
                           "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Bound and listening: connections wait in the backlog until the loop runs.
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(TokenVerifyOverHttpTest, FetchesTheKeySetFromAUrl) {
  const std::string token = Mint(signing_key_);
  Outcome outcome = Run({"token", "verify", "--jwks", Url("/.well-known/jwks.json"), token});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(nlohmann::json::parse(outcome.out)["sub"], "user-1");

  std::vector<std::string> segments = Segments(token);
  segments[2][0] = segments[2][0] == 'A' ? 'B' : 'A';
  ExpectInvalid(Run({"token", "verify", "--jwks", Url("/.well-known/jwks.json"), Joined(segments)}),
                "tollgate: token verify: bad_signature: bad signature");
}

TEST_F(TokenVerifyOverHttpTest, RefusesAFetchedSetThatHoldsASecret) {
  const Outcome outcome = Run({"token", "verify", "--jwks", Url("/leaky.json"), Mint(signing_key_)});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err, "tollgate: token verify: cannot load the key set: " + Url("/leaky.json") +
                             ": the set holds an oct (HS256) secret, key 's'; a secret that is "
                             "served over HTTP is public, so it is not used\n");
}

TEST_F(TokenVerifyOverHttpTest, AnHttpErrorIsExitOne) {
  const Outcome outcome = Run({"token", "verify", "--jwks", Url("/nothing"), Mint(signing_key_)});
  EXPECT_EQ(outcome.exit_code, kExitFailure);
  EXPECT_EQ(outcome.err, "tollgate: token verify: cannot load the key set: GET " + Url("/nothing") +
                             ": HTTP status 404\n");
}

// --- token verify --jws-only: published vectors ------------------------------

class JwsVectorsTest : public TokenCommandsTest {
 protected:
  static nlohmann::json Vectors() {
    std::ifstream in(kJwsVectorsFile);
    return nlohmann::json::parse(in)["vectors"];
  }
  Outcome VerifyJwsOnly(const nlohmann::json& jwks, const std::string& jws) {
    const std::string path = dir_.path() + "/vector-jwks.json";
    std::ofstream(path, std::ios::trunc) << jwks.dump();
    return Run({"token", "verify", "--jws-only", "--jwks", path, jws});
  }
};

TEST_F(JwsVectorsTest, EachPublishedVectorGivesItsResult) {
  const nlohmann::json vectors = Vectors();
  ASSERT_EQ(vectors.size(), 7u);
  for (const nlohmann::json& vector : vectors) {
    SCOPED_TRACE(vector["name"].get<std::string>());
    const std::string jws = vector["jws"];
    const Outcome outcome = VerifyJwsOnly(vector["jwks"], jws);
    if (vector["result"] == "valid") {
      EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
      const nlohmann::json expected = {{"header", DecodedSegment(Segments(jws)[0])},
                                       {"payload", vector["payload"]}};
      EXPECT_EQ(outcome.out, expected.dump() + "\n");
      EXPECT_EQ(outcome.err, "");
    } else {
      EXPECT_EQ(outcome.exit_code, kExitFailure);
      EXPECT_EQ(outcome.err.rfind("tollgate: token verify: " +
                                      vector["result"].get<std::string>() + ": ",
                                  0),
                0u)
          << outcome.err;
    }
  }
}

// Every valid vector, spoilt the ways Wycheproof's JWS tests spoil tokens:
// each form is refused with its own error.
TEST_F(JwsVectorsTest, TamperedFormsOfEachValidVectorAreRefused) {
  for (const nlohmann::json& vector : Vectors()) {
    if (vector["result"] != "valid") continue;
    SCOPED_TRACE(vector["name"].get<std::string>());
    const std::vector<std::string> valid = Segments(vector["jws"]);
    ASSERT_EQ(valid.size(), 3u);
    auto with = [&](size_t index, const std::string& segment) {
      std::vector<std::string> segments = valid;
      segments[index] = segment;
      return Joined(segments);
    };
    std::string flipped_signature = Base64UrlDecode(valid[2]).value();
    flipped_signature[0] ^= 0x01;
    nlohmann::json none_header = DecodedSegment(valid[0]);
    none_header["alg"] = "none";

    const std::vector<std::pair<std::string, std::string>> cases = {
        {with(2, Base64UrlEncode(flipped_signature)), "bad_signature"},
        {with(1, Base64UrlEncode(Base64UrlDecode(valid[1]).value() + " ")), "bad_signature"},
        {with(0, Base64UrlEncode(DecodedSegment(valid[0]).dump() + " ")), "bad_signature"},
        {with(2, ""), "bad_signature"},
        {with(0, Base64UrlEncode(none_header.dump())), "unsecured_algorithm"},
        {valid[0] + "." + valid[1], "malformed"},
        {Joined(valid) + ".", "malformed"},
        {"." + valid[1] + "." + valid[2], "malformed"},
        // The signature covers the received bytes, so a padded payload
        // fails there; a padded header is refused before.
        {with(1, valid[1] + "="), "bad_signature"},
        {with(0, valid[0] + "="), "malformed"},
        {"", "malformed"},
    };
    for (const auto& [jws, error] : cases) {
      const Outcome outcome = VerifyJwsOnly(vector["jwks"], jws);
      EXPECT_EQ(outcome.exit_code, kExitFailure) << jws;
      EXPECT_EQ(outcome.err.rfind("tollgate: token verify: " + error + ": ", 0), 0u)
          << jws << " -> " << outcome.err;
    }
  }
}

// --- token inspect -----------------------------------------------------------

TEST_F(TokenCommandsTest, InspectPrintsTheHeaderAndClaimsLabelledNotVerified) {
  // A fixed HS256 key and counting randomness: the token is the same every run.
  const Jwk key = Jwk::FromHmacSecret("tollgate token inspect test secret").value();
  const std::string token = Mint(key, kNow - 60);
  const Outcome outcome = Run({"token", "inspect", token});
  EXPECT_EQ(outcome.exit_code, kExitSuccess) << outcome.err;
  EXPECT_EQ(outcome.err, "");
  EXPECT_EQ(outcome.out,
            "NOT VERIFIED: decoded only; the signature, issuer, audience and times were not "
            "checked (use 'tollgate token verify').\n"
            "header:\n"
            "{\n"
            "  \"alg\": \"HS256\",\n"
            "  \"kid\": \"" + key.kid() + "\",\n"
            "  \"typ\": \"at+jwt\"\n"
            "}\n"
            "claims:\n"
            "{\n"
            "  \"aud\": \"tollgate\",\n"
            "  \"email\": \"ada@example.com\",\n"
            "  \"exp\": 1800000840,\n"
            "  \"iat\": 1799999940,\n"
            "  \"iss\": \"tollgate\",\n"
            "  \"jti\": \"" + DecodedSegment(Segments(token)[1])["jti"].get<std::string>() + "\",\n"
            "  \"nbf\": 1799999940,\n"
            "  \"roles\": [\n"
            "    \"user\"\n"
            "  ],\n"
            "  \"sub\": \"user-1\"\n"
            "}\n"
            "iat  2027-01-15T07:59:00Z  (1799999940, 60 s ago)\n"
            "nbf  2027-01-15T07:59:00Z  (1799999940, 60 s ago)\n"
            "exp  2027-01-15T08:14:00Z  (1800000840, in 14 min)\n");
}

// Inspect shows what a token claims even when nothing would verify it.
TEST_F(TokenCommandsTest, InspectShowsATamperedTokenAndAPayloadThatIsNotJson) {
  std::vector<std::string> segments = Segments(Mint(unpublished_key_));
  segments[2] = "";
  Outcome outcome = Run({"token", "inspect", Joined(segments)});
  EXPECT_EQ(outcome.exit_code, kExitSuccess);
  EXPECT_EQ(outcome.out.rfind("NOT VERIFIED: ", 0), 0u);

  const std::string text_payload =
      Base64UrlEncode(R"({"alg":"EdDSA"})") + "." + Base64UrlEncode("Example of Ed25519 signing") +
      ".c2ln";
  outcome = Run({"token", "inspect", text_payload});
  EXPECT_EQ(outcome.exit_code, kExitSuccess);
  EXPECT_NE(outcome.out.find("}\npayload (not a JSON object):\n\"Example of Ed25519 signing\"\n"),
            std::string::npos)
      << outcome.out;
}

TEST_F(TokenCommandsTest, InspectRefusesWhatIsNotACompactJws) {
  for (const std::string token : {"abc", "a.b", "e30.e30.c2ln.x", "W10.e30.c2ln"}) {
    const Outcome outcome = Run({"token", "inspect", token});
    EXPECT_EQ(outcome.exit_code, kExitFailure) << token;
    EXPECT_EQ(outcome.err, "tollgate: token inspect: malformed: not a compact JWS (three "
                           "base64url segments, a JSON object header)\n")
        << token;
    EXPECT_EQ(outcome.out, "");
  }
  const Outcome duplicate =
      Run({"token", "inspect", Base64UrlEncode(R"({"alg":"ES256","alg":"none"})") + ".e30.c2ln"});
  EXPECT_EQ(duplicate.exit_code, kExitFailure);
  EXPECT_EQ(duplicate.err,
            "tollgate: token inspect: duplicate_member: duplicate JSON member name\n");
}

}  // namespace
}  // namespace tollgate::cli
