#include "common/token/base64url.h"

#include <array>
#include <cstdint>

namespace tollgate {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kInvalid = 0xff;

constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = i;
  return table;
}
constexpr std::array<uint8_t, 256> kDecode = MakeDecodeTable();
static_assert((kInvalid & 0x80) != 0, "Base64UrlDecode tests bit 7 to find invalid characters");

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = in[i] << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    const uint32_t v = (in[i] << 16) | (in[i + 1] << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  const size_t rest = text.size() % 4;
  if (rest == 1) return std::nullopt;
  const size_t whole = text.size() - rest;
  // Sized once and filled in place: this runs three times per verified token.
  std::string out(whole / 4 * 3 + (rest == 0 ? 0 : rest - 1), '\0');
  const auto* in = reinterpret_cast<const uint8_t*>(text.data());
  char* o = out.data();
  // kInvalid is the only table value with bit 7 set, so one test per group
  // refuses any character outside the alphabet (padding, whitespace, '+').
  for (size_t i = 0; i < whole; i += 4, o += 3) {
    const uint32_t a = kDecode[in[i]], b = kDecode[in[i + 1]], c = kDecode[in[i + 2]],
                   d = kDecode[in[i + 3]];
    if (((a | b | c | d) & 0x80) != 0) return std::nullopt;
    const uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    o[0] = static_cast<char>(v >> 16);
    o[1] = static_cast<char>((v >> 8) & 0xff);
    o[2] = static_cast<char>(v & 0xff);
  }
  // Leftover bits must be zero: "QR" and "QQ" would otherwise both decode to "A".
  if (rest == 2) {
    const uint32_t a = kDecode[in[whole]], b = kDecode[in[whole + 1]];
    if (((a | b) & 0x80) != 0 || (b & 0x0f) != 0) return std::nullopt;
    o[0] = static_cast<char>((a << 2) | (b >> 4));
  } else if (rest == 3) {
    const uint32_t a = kDecode[in[whole]], b = kDecode[in[whole + 1]], c = kDecode[in[whole + 2]];
    if (((a | b | c) & 0x80) != 0 || (c & 0x03) != 0) return std::nullopt;
    o[0] = static_cast<char>((a << 2) | (b >> 4));
    o[1] = static_cast<char>(((b & 0x0f) << 4) | (c >> 2));
  }
  return out;
}

}  // namespace tollgate
