// libFuzzer target for the token core. Every input goes through every
// parser an unauthenticated caller (or a fetched JWKS) can reach:
//
//  1. AccessTokenVerifier::Verify of the input as a token, against the fixed
//     keys (fuzz/fixed_keys.h) at several times around the seed tokens'
//     validity window (leeway edges included).
//  2. The same with the input's first two segments re-signed with the fixed
//     HS256 key, so that mutated headers and payloads get past the signature
//     and reach the claim checks (an attacker cannot do that; a broken or
//     compromised issuer can, and the checks must still not crash). Also
//     against a set holding only that key, where a token without kid is
//     verified with the only key.
//  3. If the input holds a newline: "<header JSON>\n<payload JSON>" signed
//     with the HS256 key, so the fuzzer can mutate the JSON directly instead
//     of through base64url; against both sets as in 2.
//  4. Base64UrlDecode, with encode(decode(x)) == x and decode(encode(x)) == x.
//  5. ParseStrictJsonObject, with dump -> parse giving the same value, and
//     against a reference: nlohmann's own SAX parser with a duplicate check
//     (the implementation it replaced; see ReferenceParse for the one
//     deliberate difference): same result, same value, same number types.
//     FlatJsonObject::Parse must agree with both.
//  6. JwkSet::FromJson, with its public JWKS parsing back to the same keys
//     and never carrying private members.
//
// Every Verify in 1-3 is also checked against ReferenceVerify: the claim
// checks as they were written over JwsVerifyCompact's DOM before Verify read
// the claims without one. Same TokenError, or the same identity.
//
// A broken property calls abort(), which libFuzzer reports as a crash.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/token/access_token_verifier.h"
#include "common/token/base64url.h"
#include "common/token/jwk_set.h"
#include "common/token/jws.h"
#include "common/token/strict_json.h"
#include "fuzz/fixed_keys.h"
#include "nlohmann/json.hpp"

namespace tollgate::fuzz {
namespace {

constexpr int64_t kLeewaySeconds = 30;  // AccessTokenVerifierOptions' default
constexpr int64_t kTtlSeconds = 900;    // AccessTokenOptions' default

// Around the seed tokens' window [iat - leeway, exp + leeway): both edges
// from each side, plus the extremes of the accepted NumericDate range.
constexpr int64_t kNows[] = {
    kSeedIssuedAt,
    kSeedIssuedAt - kLeewaySeconds - 1,
    kSeedIssuedAt - kLeewaySeconds,
    kSeedIssuedAt + kTtlSeconds + kLeewaySeconds - 1,
    kSeedIssuedAt + kTtlSeconds + kLeewaySeconds,
    0,
    kMaxNumericDate,
};

[[noreturn]] void Fail(const char* property) {
  std::fprintf(stderr, "token_fuzz: property broken: %s\n", property);
  std::abort();
}

const AccessTokenVerifier& Verifier() {
  static const AccessTokenVerifier* const verifier =
      new AccessTokenVerifier(AccessTokenVerifierOptions{});
  return *verifier;
}

// Only the HS256 key.
const JwkSet& Hs256OnlyKeySet() {
  static const JwkSet* const keys = [] {
    auto set = JwkSet::FromKeys({FixedKey("fuzz-hs256")});
    if (!set.ok()) Fail("cannot build the one-key set");
    return new JwkSet(*std::move(set));
  }();
  return *keys;
}

// ---- references: the DOM-based implementations the fast paths replaced ----

using Json = nlohmann::json;

// nlohmann's SAX parser building the DOM and noting duplicate names: the
// ParseStrictJsonObject before the hand-written parser.
class ReferenceDomBuilder {
 public:
  explicit ReferenceDomBuilder(Json& root) : root_(root) {}
  bool duplicate() const { return duplicate_; }
  bool null() { return Add(nullptr); }
  bool boolean(bool value) { return Add(value); }
  bool number_integer(Json::number_integer_t value) { return Add(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return Add(value); }
  bool number_float(Json::number_float_t value, const Json::string_t&) { return Add(value); }
  bool string(Json::string_t& value) { return Add(std::move(value)); }
  bool binary(Json::binary_t& value) { return Add(std::move(value)); }
  bool start_object(std::size_t) { return Open(Json::value_t::object); }
  bool key(Json::string_t& name) {
    auto [it, inserted] = open_.back()->get_ref<Json::object_t&>().try_emplace(std::move(name));
    if (!inserted) duplicate_ = true;
    member_ = &it->second;
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(Json::value_t::array); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  template <typename Value>
  Json* Place(Value&& value) {
    if (open_.empty()) {
      root_ = Json(std::forward<Value>(value));
      return &root_;
    }
    Json& parent = *open_.back();
    if (parent.is_array()) {
      auto& elements = parent.get_ref<Json::array_t&>();
      elements.emplace_back(std::forward<Value>(value));
      return &elements.back();
    }
    *member_ = Json(std::forward<Value>(value));
    return member_;
  }
  template <typename Value>
  bool Add(Value&& value) {
    Place(std::forward<Value>(value));
    return true;
  }
  bool Open(Json::value_t type) {
    open_.push_back(Place(type));
    return true;
  }
  bool Close() {
    open_.pop_back();
    return true;
  }
  Json& root_;
  std::vector<Json*> open_;
  Json* member_ = nullptr;
  bool duplicate_ = false;
};

// One deliberate difference: nlohmann takes a NUL byte for the end of the
// input, so it accepted "{}\0<anything>"; ParseStrictJsonObject refuses it
// (found by this fuzzer, fuzz/corpus/crash-json-nul-after-object). JSON
// text has no NUL byte anywhere, so the reference refuses every NUL.
TokenResult<Json> ReferenceParse(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return TokenError::kMalformed;
  Json value;
  ReferenceDomBuilder builder(value);
  if (!Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json,
                       /*strict=*/true, /*ignore_comments=*/false)) {
    return TokenError::kMalformed;
  }
  if (builder.duplicate()) return TokenError::kDuplicateMember;
  if (!value.is_object()) return TokenError::kMalformed;
  return value;
}

// What ReferenceVerify accepts: the Identity fields.
struct ReferenceIdentity {
  std::string subject;
  std::string email;
  std::vector<std::string> roles;
  std::string token_id;
  int64_t expires_at = 0;
};

TokenResult<std::string> ReferenceStringClaim(const Json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end()) return TokenError::kMissingClaim;
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return TokenError::kInvalidClaim;
  }
  return it->get<std::string>();
}

// AccessTokenVerifier::Verify as it was, over JwsVerifyCompact's DOM.
TokenResult<ReferenceIdentity> ReferenceVerify(std::string_view token, const JwkSet& keys,
                                               int64_t now) {
  const AccessTokenVerifierOptions& options = Verifier().options();
  auto jws = JwsVerifyCompact(token, keys, "at+jwt");
  if (!jws.ok()) return jws.error();
  const Json& claims = jws.value().payload;
  const auto issuer = ReferenceStringClaim(claims, "iss");
  if (!issuer.ok()) return issuer.error();
  if (issuer.value() != options.issuer) return TokenError::kWrongIssuer;
  const auto aud = claims.find("aud");
  if (aud == claims.end()) return TokenError::kMissingClaim;
  bool audience_matches = false;
  if (aud->is_string()) {
    audience_matches = *aud == options.audience;
  } else if (aud->is_array()) {
    for (const auto& entry : *aud) {
      if (!entry.is_string()) return TokenError::kInvalidClaim;
      audience_matches = audience_matches || entry == options.audience;
    }
  } else {
    return TokenError::kInvalidClaim;
  }
  if (!audience_matches) return TokenError::kWrongAudience;
  if (!claims.contains("iat")) return TokenError::kMissingClaim;
  if (auto time_error = CheckTimeClaims(claims, now, options.leeway_seconds)) return *time_error;
  ReferenceIdentity identity;
  auto subject = ReferenceStringClaim(claims, "sub");
  if (!subject.ok()) return subject.error();
  identity.subject = subject.value();
  auto token_id = ReferenceStringClaim(claims, "jti");
  if (!token_id.ok()) return token_id.error();
  identity.token_id = token_id.value();
  identity.expires_at = claims["exp"].get<int64_t>();
  if (const auto email = claims.find("email"); email != claims.end()) {
    if (!email->is_string()) return TokenError::kInvalidClaim;
    identity.email = email->get<std::string>();
  }
  if (const auto roles = claims.find("roles"); roles != claims.end()) {
    if (!roles->is_array()) return TokenError::kInvalidClaim;
    for (const auto& role : *roles) {
      if (!role.is_string()) return TokenError::kInvalidClaim;
      identity.roles.push_back(role.get<std::string>());
    }
  }
  return identity;
}

// Verify and ReferenceVerify agree on `token` at `now`.
void CompareWithReference(std::string_view token, const JwkSet& keys, int64_t now,
                          const TokenResult<Identity>& result) {
  const auto reference = ReferenceVerify(token, keys, now);
  if (result.ok() != reference.ok()) Fail("Verify and ReferenceVerify disagree on acceptance");
  if (!result.ok()) {
    if (result.error() != reference.error()) Fail("Verify and ReferenceVerify disagree on the error");
    return;
  }
  const Identity& identity = result.value();
  const ReferenceIdentity& expected = reference.value();
  if (identity.subject() != expected.subject || identity.email() != expected.email ||
      identity.roles() != expected.roles || identity.token_id() != expected.token_id ||
      identity.expires_at_unix_seconds() != expected.expires_at) {
    Fail("Verify and ReferenceVerify give different identities");
  }
}

// Verifies `token` at every time in kNows and checks what an Identity
// promises.
void VerifyAtSeveralTimes(std::string_view token, const JwkSet& keys) {
  for (const int64_t now : kNows) {
    const auto result = Verifier().Verify(token, keys, now);
    CompareWithReference(token, keys, now, result);
    if (!result.ok()) {
      if (ToString(result.error()).empty()) Fail("TokenError without text");
      // Only the time checks depend on `now`; any other refusal is final.
      if (result.error() != TokenError::kExpired && result.error() != TokenError::kNotYetValid) {
        return;
      }
      continue;
    }
    const Identity& identity = result.value();
    if (identity.subject().empty()) Fail("verified token with an empty sub");
    if (identity.token_id().empty()) Fail("verified token with an empty jti");
    if (identity.expires_at_unix_seconds() < 0 ||
        identity.expires_at_unix_seconds() > kMaxNumericDate) {
      Fail("verified token with an absurd exp");
    }
    if (now >= identity.expires_at_unix_seconds() + kLeewaySeconds) {
      Fail("verified a token past exp + leeway");
    }
  }
}

// Input's "header.payload" part, signed with the fixed HS256 key.
void VerifyResigned(std::string_view input) {
  const size_t first_dot = input.find('.');
  if (first_dot == std::string_view::npos) return;
  const size_t second_dot = input.find('.', first_dot + 1);
  const std::string_view signing_input = input.substr(0, second_dot);
  auto tag = JwsSign(FixedKey("fuzz-hs256"), signing_input);
  if (!tag.ok()) Fail("HS256 signing failed");
  const std::string token = std::string(signing_input) + "." + Base64UrlEncode(*tag);
  VerifyAtSeveralTimes(token, FixedKeySet());
  VerifyAtSeveralTimes(token, Hs256OnlyKeySet());
}

// "<header JSON>\n<payload JSON>", encoded and signed with the HS256 key.
void VerifyJsonPair(std::string_view input) {
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return;
  auto token = JwsSignCompact(FixedKey("fuzz-hs256"), input.substr(0, newline),
                              input.substr(newline + 1));
  if (!token.ok()) Fail("HS256 signing failed");
  VerifyAtSeveralTimes(*token, FixedKeySet());
  VerifyAtSeveralTimes(*token, Hs256OnlyKeySet());
}

void CheckBase64Url(std::string_view input) {
  if (const auto decoded = Base64UrlDecode(input)) {
    // Strict decoding means one encoding per byte string.
    if (Base64UrlEncode(*decoded) != input) Fail("encode(decode(x)) != x");
  }
  const auto round_trip = Base64UrlDecode(Base64UrlEncode(input));
  if (!round_trip || *round_trip != input) Fail("decode(encode(x)) != x");
}

// FlatJsonObject::Parse agrees with the DOM `value` of the same text.
void CompareFlatWithDom(const FlatJsonObject& flat, const Json& value) {
  using Kind = FlatJsonMember::Kind;
  if (flat.members().size() != value.size()) Fail("FlatJsonObject has another member count");
  for (const auto& [name, member] : value.items()) {
    const FlatJsonMember* read = flat.Find(name);
    if (read == nullptr) Fail("FlatJsonObject lacks a member");
    bool same = false;
    switch (member.type()) {
      case Json::value_t::null: same = read->kind == Kind::kNull; break;
      case Json::value_t::boolean:
        same = read->kind == Kind::kBoolean && read->boolean == member.get<bool>();
        break;
      case Json::value_t::number_unsigned:
        same = read->kind == Kind::kUnsigned && read->unsigned_value == member.get<uint64_t>();
        break;
      case Json::value_t::number_integer:
        same = read->kind == Kind::kInteger && read->integer_value == member.get<int64_t>();
        break;
      case Json::value_t::number_float:
        same = read->kind == Kind::kFloat && read->float_value == member.get<double>();
        break;
      case Json::value_t::string:
        same = read->kind == Kind::kString && read->string == member.get_ref<const std::string&>();
        break;
      case Json::value_t::object: same = read->kind == Kind::kObject; break;
      case Json::value_t::array: {
        bool only_strings = true;
        for (const auto& element : member) only_strings = only_strings && element.is_string();
        same = read->kind == Kind::kArray && read->only_strings == only_strings;
        if (same && only_strings) {
          const auto strings = flat.Strings(*read);
          same = strings.size() == member.size();
          for (size_t i = 0; same && i < strings.size(); ++i) {
            same = strings[i] == member[i].get_ref<const std::string&>();
          }
        }
        break;
      }
      default: break;
    }
    if (!same) Fail("FlatJsonObject reads a member differently");
  }
}

void CheckStrictJson(std::string_view input) {
  const auto parsed = ParseStrictJsonObject(input);
  const auto reference = ReferenceParse(input);
  const auto flat = FlatJsonObject::Parse(input);
  if (parsed.ok() != reference.ok() || parsed.ok() != flat.ok()) {
    Fail("ParseStrictJsonObject, the reference and FlatJsonObject disagree on acceptance");
  }
  if (!parsed.ok()) {
    if (parsed.error() != TokenError::kMalformed &&
        parsed.error() != TokenError::kDuplicateMember) {
      Fail("ParseStrictJsonObject returned an unexpected error");
    }
    if (parsed.error() != reference.error() || parsed.error() != flat.error()) {
      Fail("ParseStrictJsonObject, the reference and FlatJsonObject disagree on the error");
    }
    return;
  }
  if (!parsed.value().is_object()) Fail("ParseStrictJsonObject accepted a non-object");
  // dump() also tells the number types apart (1 / -1 / 1.0).
  if (parsed.value() != reference.value() || parsed.value().dump() != reference.value().dump()) {
    Fail("ParseStrictJsonObject and the reference read different values");
  }
  CompareFlatWithDom(flat.value(), parsed.value());
  const auto reparsed = ParseStrictJsonObject(parsed.value().dump());
  if (!reparsed.ok() || reparsed.value() != parsed.value()) Fail("dump -> parse changed the value");
}

void CheckJwkSet(std::string_view input) {
  const auto set = JwkSet::FromJson(input);
  if (!set.ok()) return;
  const std::string published = set->ToPublicJson();
  const auto document = ParseStrictJsonObject(published);
  if (!document.ok()) Fail("ToPublicJson is not a strict JSON object");
  for (const auto& jwk : document.value().at("keys")) {
    // Private RSA/EC/OKP members and an oct secret must never be published.
    for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
      if (jwk.contains(member)) Fail("public JWKS carries a private member");
    }
  }
  const auto republished = JwkSet::FromJson(published);
  if (!republished.ok()) Fail("public JWKS does not parse back");
  size_t asymmetric = 0;
  for (const Jwk& key : set->keys()) {
    if (key.is_symmetric()) continue;
    ++asymmetric;
    const Jwk* again = republished->Find(key.kid());
    if (again == nullptr || again->algorithm() != key.algorithm() ||
        again->thumbprint() != key.thumbprint() || again->has_private_key()) {
      Fail("public JWKS does not give back the same public keys");
    }
  }
  if (republished->keys().size() != asymmetric) Fail("public JWKS has extra keys");
}

}  // namespace
}  // namespace tollgate::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tollgate::fuzz;  // NOLINT: entry point only
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  VerifyAtSeveralTimes(input, FixedKeySet());
  VerifyResigned(input);
  VerifyJsonPair(input);
  CheckBase64Url(input);
  CheckStrictJson(input);
  CheckJwkSet(input);
  return 0;
}
