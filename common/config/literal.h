#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "absl/strings/string_view.h"

namespace tollgate::config {

// Text joined at compile time, so that a `constexpr Setting` built for one
// service's prefix can name its own variables: a Setting holds
// string_views, and the text they view must outlive the program's start.
//
//   Joined<"AUTH_", "TLS_KEY">  // "AUTH_TLS_KEY", with static storage
//
// Literal is a string literal usable as a template argument (C++20).
template <size_t N>
struct Literal {
  // Implicit, so that a literal can be written where a Literal is expected.
  constexpr Literal(const char (&text)[N]) { std::copy_n(text, N, chars); }  // NOLINT

  static constexpr size_t size() { return N - 1; }  // without the '\0'

  char chars[N];
};

namespace internal {

template <Literal... Parts>
inline constexpr auto kJoinedChars = [] {
  std::array<char, (Parts.size() + ... + 0) + 1> joined{};  // zeroed: ends in '\0'
  auto out = joined.begin();
  ((out = std::copy_n(Parts.chars, Parts.size(), out)), ...);
  return joined;
}();

}  // namespace internal

// The parts one after the other.
template <Literal... Parts>
inline constexpr absl::string_view Joined{internal::kJoinedChars<Parts...>.data(),
                                          internal::kJoinedChars<Parts...>.size() - 1};

}  // namespace tollgate::config
