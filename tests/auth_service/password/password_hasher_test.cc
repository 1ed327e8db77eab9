#include "auth_service/password/password_hasher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollgate::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Argon2id of "password" with salt "somesalt", m=65536 t=2 p=1: a known
// answer from the reference implementation's test suite
// (phc-winner-argon2/src/test.c), so this is not libsodium checking itself.
constexpr char kReferenceVector[] =
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";

// Argon2id of "correct horse" with salt "tollgate-salt-16", m=64 t=1 p=4, made
// with Debian's reference libargon2 (argon2id_hash_encoded): a hash with 4
// lanes, which libsodium verifies but cannot produce.
constexpr char kFourLaneVector[] =
    "$argon2id$v=19$m=64,t=1,p=4$dG9sbGdhdGUtc2FsdC0xNg$6pOnQ+J77lN0N/AIfJbKmOaB+ZcYj7sDc4j4z9dl02w";

// A libsodium hash of "pw" at m=8192 t=1 p=1, the base of the malformed cases.
constexpr char kSmallHash[] =
    "$argon2id$v=19$m=8192,t=1,p=1$jFOcTto2LP3eXo8esK8cyg$aNwXmI5WRaERvDF/B67RxLNw/5jH0Tp6sJwgjWrV/mk";

class PasswordHasherTest : public ::testing::Test {
 protected:
  static PasswordHasher Make(const Argon2Params& params) {
    absl::StatusOr<PasswordHasher> hasher = PasswordHasher::Create(params);
    EXPECT_TRUE(hasher.ok()) << hasher.status();
    return *std::move(hasher);
  }
  // "match", "mismatch" or the error, so one EXPECT_EQ shows all three.
  static std::string Outcome(const absl::StatusOr<bool>& verified) {
    if (!verified.ok()) return verified.status().ToString();
    return *verified ? "match" : "mismatch";
  }
  // Cheap parameters for tests that do not check the defaults.
  static constexpr Argon2Params kFast{.memory_kib = 64, .iterations = 1, .parallelism = 1};
  // The "older, cheaper" parameters of a stored hash that needs an upgrade.
  static constexpr Argon2Params kSmall{.memory_kib = 8192, .iterations = 1, .parallelism = 1};
};

TEST_F(PasswordHasherTest, DefaultsAreOwaspMinimum) {
  const Argon2Params params;
  EXPECT_EQ(params.memory_kib, 19456u);
  EXPECT_EQ(params.iterations, 2u);
  EXPECT_EQ(params.parallelism, 1u);
}

TEST_F(PasswordHasherTest, HashIsAPhcStringWithTheExactDefaultPrefix) {
  const PasswordHasher hasher = Make(Argon2Params{});
  absl::StatusOr<std::string> phc = hasher.Hash("correct horse battery staple");
  ASSERT_TRUE(phc.ok()) << phc.status();
  const std::string prefix = "$argon2id$v=19$m=19456,t=2,p=1$";
  ASSERT_THAT(*phc, StartsWith(prefix));
  // Then 16 bytes of salt and 32 bytes of hash in unpadded base64.
  const std::string rest = phc->substr(prefix.size());
  const size_t dollar = rest.find('$');
  ASSERT_NE(dollar, std::string::npos);
  EXPECT_EQ(dollar, 22u);
  EXPECT_EQ(rest.size() - dollar - 1, 43u);
  EXPECT_THAT(*phc, Not(HasSubstr("=$")));
}

TEST_F(PasswordHasherTest, VerifiesTheRightPasswordAndRefusesAWrongOne) {
  const PasswordHasher hasher = Make(Argon2Params{});
  absl::StatusOr<std::string> phc = hasher.Hash("correct horse battery staple");
  ASSERT_TRUE(phc.ok()) << phc.status();
  EXPECT_EQ(Outcome(hasher.Verify("correct horse battery staple", *phc)), "match");
  EXPECT_EQ(Outcome(hasher.Verify("correct horse battery stapler", *phc)), "mismatch");
  EXPECT_EQ(Outcome(hasher.Verify("Correct horse battery staple", *phc)), "mismatch");
  EXPECT_EQ(Outcome(hasher.Verify("", *phc)), "mismatch");
}

TEST_F(PasswordHasherTest, TwoHashesOfOnePasswordDifferBySalt) {
  const PasswordHasher hasher = Make(kFast);
  absl::StatusOr<std::string> first = hasher.Hash("same password");
  absl::StatusOr<std::string> second = hasher.Hash("same password");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
  EXPECT_EQ(Outcome(hasher.Verify("same password", *first)), "match");
  EXPECT_EQ(Outcome(hasher.Verify("same password", *second)), "match");
}

TEST_F(PasswordHasherTest, VerifiesTheReferenceImplementationsVector) {
  const PasswordHasher hasher = Make(kFast);
  EXPECT_EQ(Outcome(hasher.Verify("password", kReferenceVector)), "match");
  EXPECT_EQ(Outcome(hasher.Verify("passwore", kReferenceVector)), "mismatch");
}

TEST_F(PasswordHasherTest, VerifiesWithTheStoredParametersNotTheConfiguredOnes) {
  absl::StatusOr<std::string> old_phc = Make(kSmall).Hash("correct horse battery staple");
  ASSERT_TRUE(old_phc.ok());
  ASSERT_THAT(*old_phc, StartsWith("$argon2id$v=19$m=8192,t=1,p=1$"));
  const PasswordHasher current = Make(Argon2Params{});
  EXPECT_EQ(Outcome(current.Verify("correct horse battery staple", *old_phc)), "match");
  EXPECT_EQ(Outcome(current.Verify("wrong", *old_phc)), "mismatch");
}

TEST_F(PasswordHasherTest, VerifiesAFourLaneHashFromAnotherImplementation) {
  const PasswordHasher hasher = Make(kFast);
  EXPECT_EQ(Outcome(hasher.Verify("correct horse", kFourLaneVector)), "match");
  EXPECT_EQ(Outcome(hasher.Verify("correct horsf", kFourLaneVector)), "mismatch");
}

TEST_F(PasswordHasherTest, NeedsRehashWhenTheStoredParametersDiffer) {
  const PasswordHasher current = Make(Argon2Params{});
  absl::StatusOr<std::string> old_phc = Make(kSmall).Hash("pw");
  absl::StatusOr<std::string> new_phc = current.Hash("pw");
  ASSERT_TRUE(old_phc.ok() && new_phc.ok());
  EXPECT_TRUE(current.NeedsRehash(*old_phc));
  EXPECT_FALSE(current.NeedsRehash(*new_phc));
  // And the other way round: a hash is "old" relative to the configuration.
  EXPECT_TRUE(Make(kSmall).NeedsRehash(*new_phc));
  EXPECT_FALSE(Make(kSmall).NeedsRehash(*old_phc));
}

TEST_F(PasswordHasherTest, NeedsRehashWhenOnlyParallelismDiffers) {
  // libsodium's crypto_pwhash_str_needs_rehash ignores p; ours does not.
  const PasswordHasher hasher = Make({.memory_kib = 64, .iterations = 1, .parallelism = 1});
  EXPECT_TRUE(hasher.NeedsRehash(kFourLaneVector));
}

TEST_F(PasswordHasherTest, NeedsRehashForAStringThatDoesNotParse) {
  const PasswordHasher hasher = Make(kFast);
  EXPECT_TRUE(hasher.NeedsRehash(""));
  EXPECT_TRUE(hasher.NeedsRehash("$2b$12$abcdefghijklmnopqrstuv"));
}

TEST_F(PasswordHasherTest, MalformedStoredHashIsInternalNotAWrongPassword) {
  const PasswordHasher hasher = Make(kFast);
  ASSERT_EQ(Outcome(hasher.Verify("pw", kSmallHash)), "match");
  const std::string base = kSmallHash;
  const std::vector<std::string> malformed = {
      "",
      "pw",
      "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  // bcrypt
      "$argon2i$v=19$m=8192,t=1,p=1$jFOcTto2LP3eXo8esK8cyg$aNwXmI5WRaERvDF/B67RxLNw/5jH0Tp6sJwgjWrV/mk",
      "$argon2id$v=16$m=8192,t=1,p=1$jFOcTto2LP3eXo8esK8cyg$aNwXmI5WRaERvDF/B67RxLNw/5jH0Tp6sJwgjWrV/mk",
      "$argon2id$m=8192,t=1,p=1$jFOcTto2LP3eXo8esK8cyg$aNwXmI5WRaERvDF/B67RxLNw/5jH0Tp6sJwgjWrV/mk",
      "$argon2id$v=19$m=08192,t=1,p=1$jFOcTto2LP3eXo8esK8cyg$aNwXmI5WRaERvDF/B67RxLNw/5jH0Tp6sJwgjWrV/mk",
      "$argon2id$v=19$m=8192,t=1,p=1$jFOcTto2LP3eXo8esK8cyg",
      base.substr(0, base.size() - 1) + "l",  // non-zero unused bits: not canonical base64
      base + "=",
      base + "$",
      " " + base,
      // Parses, but libsodium refuses the values:
      "$argon2id$v=19$m=8192,t=0,p=1$jFOcTto2LP3eXo8esK8cyg$aNwXmI5WRaERvDF/B67RxLNw/5jH0Tp6sJwgjWrV/mk",
      "$argon2id$v=19$m=1,t=1,p=1$jFOcTto2LP3eXo8esK8cyg$aNwXmI5WRaERvDF/B67RxLNw/5jH0Tp6sJwgjWrV/mk",
      "$argon2id$v=19$m=8192,t=1,p=1$jFOcTto$aNwXmI5WRaERvDF/B67RxLNw/5jH0Tp6sJwgjWrV/mk",
      std::string(kSmallHash).insert(40, std::string(1, '\0')),
  };
  for (const std::string& phc : malformed) {
    const absl::StatusOr<bool> verified = hasher.Verify("pw", phc);
    EXPECT_EQ(verified.status().code(), absl::StatusCode::kInternal) << phc;
    if (!phc.empty()) {
      EXPECT_THAT(std::string(verified.status().message()), Not(HasSubstr(phc))) << phc;
    }
  }
}

TEST_F(PasswordHasherTest, PasswordsAreLengthDelimitedNotNulTerminated) {
  const PasswordHasher hasher = Make(kFast);
  absl::StatusOr<std::string> phc = hasher.Hash(std::string_view("abc\0def", 7));
  ASSERT_TRUE(phc.ok());
  EXPECT_EQ(Outcome(hasher.Verify(std::string_view("abc\0def", 7), *phc)), "match");
  EXPECT_EQ(Outcome(hasher.Verify("abc", *phc)), "mismatch");
}

TEST_F(PasswordHasherTest, HashesAndVerifiesTheEmptyPassword) {
  const PasswordHasher hasher = Make(kFast);
  absl::StatusOr<std::string> phc = hasher.Hash("");
  ASSERT_TRUE(phc.ok());
  EXPECT_EQ(Outcome(hasher.Verify("", *phc)), "match");
  EXPECT_EQ(Outcome(hasher.Verify("x", *phc)), "mismatch");
}

TEST_F(PasswordHasherTest, CreateRefusesParametersLibsodiumCannotUse) {
  const absl::StatusOr<PasswordHasher> two_lanes =
      PasswordHasher::Create({.memory_kib = 19456, .iterations = 2, .parallelism = 2});
  EXPECT_EQ(two_lanes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(two_lanes.status().message()), HasSubstr("parallelism"));

  const absl::StatusOr<PasswordHasher> no_passes =
      PasswordHasher::Create({.memory_kib = 19456, .iterations = 0, .parallelism = 1});
  EXPECT_EQ(no_passes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_passes.status().message()), HasSubstr("iterations"));

  const absl::StatusOr<PasswordHasher> too_little_memory =
      PasswordHasher::Create({.memory_kib = 7, .iterations = 1, .parallelism = 1});
  EXPECT_EQ(too_little_memory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_little_memory.status().message()), HasSubstr("memory"));

  EXPECT_TRUE(PasswordHasher::Create({.memory_kib = 8, .iterations = 1, .parallelism = 1}).ok());
}

TEST_F(PasswordHasherTest, SpendOneHashReturnsForAnyPassword) {
  // Its point is timing, which tests do not assert (bench/ measures); this
  // only checks that it runs for awkward inputs without failing.
  const PasswordHasher hasher = Make(kFast);
  hasher.SpendOneHash("");
  hasher.SpendOneHash("some guess");
  hasher.SpendOneHash(std::string(1024, 'x'));
}

}  // namespace
}  // namespace tollgate::auth
