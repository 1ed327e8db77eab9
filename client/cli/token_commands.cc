#include "client/cli/token_commands.h"

#include <time.h>

#include <optional>
#include <ostream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli.h"
#include "client/cli/int_arguments.h"
#include "common/token/base64url.h"
#include "common/token/jws.h"
#include "common/token/strict_json.h"
#include "common/token/token_error.h"

namespace tollgate::cli {
namespace {

constexpr int64_t kMaxLeewaySeconds = 86400;

// A compact JWS taken apart without any check of its signature or claims.
struct DecodedToken {
  nlohmann::json header;
  std::string payload;                   // the bytes
  std::optional<nlohmann::json> claims;  // when the payload is a JSON object
};

// kMalformed: not three segments of strict base64url (the signature may be
// empty), or a header that is not a JSON object; kDuplicateMember as the
// verifier would say it.
TokenResult<DecodedToken> DecodeUnverified(std::string_view token) {
  std::vector<std::string_view> segments;
  for (size_t start = 0;;) {
    const size_t dot = token.find('.', start);
    segments.push_back(token.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (segments.size() != 3) return TokenError::kMalformed;
  std::optional<std::string> header_text = Base64UrlDecode(segments[0]);
  std::optional<std::string> payload = Base64UrlDecode(segments[1]);
  if (!header_text || !payload || !Base64UrlDecode(segments[2])) return TokenError::kMalformed;
  TokenResult<nlohmann::json> header = ParseStrictJsonObject(*header_text);
  if (!header.ok()) return header.error();
  DecodedToken decoded{std::move(header).value(), *std::move(payload), std::nullopt};
  TokenResult<nlohmann::json> claims = ParseStrictJsonObject(decoded.payload);
  if (claims.ok()) decoded.claims = std::move(claims).value();
  return decoded;
}

// "2027-01-15T08:00:00Z"
std::string UtcDate(int64_t unix_seconds) {
  const time_t seconds = static_cast<time_t>(unix_seconds);
  struct tm parts {};
  if (gmtime_r(&seconds, &parts) == nullptr) return absl::StrCat(unix_seconds);
  char text[32];
  strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

// The JSON text of a value for a message; a string keeps its quotes.
std::string Shown(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<int64_t> IntegerClaim(const DecodedToken& decoded, const char* name) {
  if (!decoded.claims || !decoded.claims->contains(name)) return std::nullopt;
  const nlohmann::json& value = (*decoded.claims)[name];
  if (!value.is_number_integer()) return std::nullopt;
  return value.get<int64_t>();
}

// What was wrong, for the checks where the token and the options can say
// more than ToString's phrase.
std::string WhyInvalid(TokenError error, std::string_view token,
                       const TokenVerifyOptions& options, const JwkSet& keys) {
  std::string why(ToString(error));
  TokenResult<DecodedToken> decoded = DecodeUnverified(token);
  if (!decoded.ok()) return why;
  const DecodedToken& parts = decoded.value();
  const std::string checked_at =
      absl::StrCat("checked at ", UtcDate(options.now_unix_seconds), " with a leeway of ",
                   options.verifier.leeway_seconds, " s");
  switch (error) {
    case TokenError::kExpired:
      if (auto exp = IntegerClaim(parts, "exp")) {
        absl::StrAppend(&why, ": exp is ", UtcDate(*exp), ", ", checked_at);
      }
      break;
    case TokenError::kNotYetValid: {
      const std::optional<int64_t> nbf = IntegerClaim(parts, "nbf");
      const std::optional<int64_t> iat = IntegerClaim(parts, "iat");
      const int64_t latest = options.now_unix_seconds + options.verifier.leeway_seconds;
      const char* name = nbf && *nbf > latest ? "nbf" : "iat";
      const std::optional<int64_t> value = nbf && *nbf > latest ? nbf : iat;
      if (value) absl::StrAppend(&why, ": ", name, " is ", UtcDate(*value), ", ", checked_at);
      break;
    }
    case TokenError::kWrongIssuer:
      if (parts.claims && parts.claims->contains("iss")) {
        absl::StrAppend(&why, ": iss is ", Shown((*parts.claims)["iss"]), ", expected ",
                        Shown(options.verifier.issuer), " (--iss)");
      }
      break;
    case TokenError::kWrongAudience:
      if (parts.claims && parts.claims->contains("aud")) {
        absl::StrAppend(&why, ": aud is ", Shown((*parts.claims)["aud"]), ", expected ",
                        Shown(options.verifier.audience), " (--aud)");
      }
      break;
    case TokenError::kUnknownKid: {
      std::vector<std::string> kids;
      for (const Jwk& key : keys.keys()) kids.push_back(Shown(key.kid()));
      const std::string held =
          kids.empty() ? "the key set is empty" : absl::StrCat("the key set holds ", absl::StrJoin(kids, ", "));
      if (parts.header.contains("kid")) {
        absl::StrAppend(&why, ": no key ", Shown(parts.header["kid"]), "; ", held);
      } else {
        absl::StrAppend(&why, ": the token names no kid; ", held);
      }
      break;
    }
    case TokenError::kAlgorithmMismatch: {
      // The key the verifier chose: by kid, or the only one.
      const Jwk* key = nullptr;
      if (parts.header.contains("kid") && parts.header["kid"].is_string()) {
        key = keys.Find(parts.header["kid"].get<std::string>());
      } else if (keys.keys().size() == 1) {
        key = &keys.keys()[0];
      }
      if (parts.header.contains("alg") && key != nullptr) {
        absl::StrAppend(&why, ": alg is ", Shown(parts.header["alg"]), ", the key ",
                        Shown(key->kid()), " is for ", std::string(AlgorithmName(key->algorithm())));
      }
      break;
    }
    case TokenError::kWrongType:
      absl::StrAppend(&why, ": typ is ",
                      parts.header.contains("typ") ? Shown(parts.header["typ"]) : "absent",
                      " (--jws-only checks a JWS of any typ)");
      break;
    default:
      break;
  }
  return why;
}

int Invalid(const char* command, TokenError error, const std::string& why, std::ostream& err) {
  err << "tollgate: token " << command << ": " << TokenErrorName(error) << ": " << why << "\n";
  return kExitFailure;
}

// "900 s", "15 min", "36 h", "5734 days": rounded down, readable at a glance.
std::string Duration(int64_t seconds) {
  if (seconds < 120) return absl::StrCat(seconds, " s");
  if (seconds < 2 * 3600) return absl::StrCat(seconds / 60, " min");
  if (seconds < 2 * 86400) return absl::StrCat(seconds / 3600, " h");
  return absl::StrCat(seconds / 86400, " days");
}

// One line per time claim: "exp  2027-01-15T08:15:00Z  (1800000900, in 15 min)".
void PrintTimeClaims(const DecodedToken& decoded, int64_t now_unix_seconds, std::ostream& out) {
  for (const char* name : {"iat", "nbf", "exp"}) {
    const std::optional<int64_t> value = IntegerClaim(decoded, name);
    if (!value) continue;
    const int64_t from_now = *value - now_unix_seconds;
    out << name << "  " << UtcDate(*value) << "  (" << *value << ", "
        << (from_now >= 0 ? absl::StrCat("in ", Duration(from_now))
                          : absl::StrCat(Duration(-from_now), " ago"))
        << ")\n";
  }
}

absl::StatusOr<int64_t> WholeNumberIn(const CommandLine& command_line, const char* flag,
                                      int64_t min, int64_t max) {
  const std::string text = *command_line.Value(flag);
  absl::StatusOr<int64_t> value = ParseInt64(text);
  if (!value.ok() || *value < min || *value > max) {
    return command_line.command()->UsageError(absl::StrCat(
        "--", flag, ": expected a whole number from ", min, " to ", max, ", got '", text, "'"));
  }
  return value;
}

}  // namespace

absl::StatusOr<TokenVerifyOptions> TokenVerifyOptions::FromCommandLine(
    const CommandLine& command_line, int64_t clock_now_unix_seconds) {
  TokenVerifyOptions options;
  options.jwks = *command_line.Value("jwks");
  options.jws_only = command_line.Has("jws-only");
  options.now_unix_seconds = clock_now_unix_seconds;
  if (options.jws_only) {
    for (const char* claim_flag : {"iss", "aud", "now", "leeway"}) {
      if (command_line.Has(claim_flag)) {
        return command_line.command()->UsageError(
            absl::StrCat("--", claim_flag, " does not apply with --jws-only, which checks no claims"));
      }
    }
    return options;
  }
  if (auto issuer = command_line.Value("iss")) options.verifier.issuer = *issuer;
  if (auto audience = command_line.Value("aud")) options.verifier.audience = *audience;
  if (command_line.Has("now")) {
    absl::StatusOr<int64_t> now = WholeNumberIn(command_line, "now", 0, kMaxNumericDate);
    if (!now.ok()) return now.status();
    options.now_unix_seconds = *now;
  }
  if (command_line.Has("leeway")) {
    absl::StatusOr<int64_t> leeway = WholeNumberIn(command_line, "leeway", 0, kMaxLeewaySeconds);
    if (!leeway.ok()) return leeway.status();
    options.verifier.leeway_seconds = *leeway;
  }
  return options;
}

int InspectToken(std::string_view token, int64_t now_unix_seconds, std::ostream& out,
                 std::ostream& err) {
  TokenResult<DecodedToken> decoded = DecodeUnverified(token);
  if (!decoded.ok()) {
    const TokenError error = decoded.error();
    return Invalid("inspect", error,
                   error == TokenError::kMalformed
                       ? "not a compact JWS (three base64url segments, a JSON object header)"
                       : std::string(ToString(error)),
                   err);
  }
  const DecodedToken& parts = decoded.value();
  out << "NOT VERIFIED: decoded only; the signature, issuer, audience and times were not "
         "checked (use 'tollgate token verify').\n"
      << "header:\n"
      << parts.header.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  if (parts.claims) {
    out << "claims:\n"
        << parts.claims->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    PrintTimeClaims(parts, now_unix_seconds, out);
  } else {
    out << "payload (not a JSON object):\n"
        << Shown(nlohmann::json(parts.payload)) << "\n";
  }
  out << std::flush;
  return kExitSuccess;
}

int VerifyToken(std::string_view token, const TokenVerifyOptions& options, const JwkSet& keys,
                std::ostream& out, std::ostream& err) {
  if (options.jws_only) {
    TokenResult<VerifiedJwsBytes> verified = JwsVerifyCompactBytes(token, keys);
    if (!verified.ok()) {
      return Invalid("verify", verified.error(), WhyInvalid(verified.error(), token, options, keys),
                     err);
    }
    nlohmann::json shown = {{"header", nlohmann::json::parse(verified.value().header)}};
    const std::string& payload = verified.value().payload;
    try {
      nlohmann::json(payload).dump();  // throws unless the bytes are UTF-8
      shown["payload"] = payload;
    } catch (const nlohmann::json::type_error&) {
      shown["payload_base64url"] = Base64UrlEncode(payload);
    }
    out << shown.dump() << "\n" << std::flush;
    return kExitSuccess;
  }
  const AccessTokenVerifier verifier(options.verifier);
  TokenResult<Identity> identity = verifier.Verify(token, keys, options.now_unix_seconds);
  if (!identity.ok()) {
    return Invalid("verify", identity.error(), WhyInvalid(identity.error(), token, options, keys),
                   err);
  }
  // Verified: the payload is a strict JSON object.
  out << DecodeUnverified(token).value().claims->dump() << "\n" << std::flush;
  return kExitSuccess;
}

}  // namespace tollgate::cli
