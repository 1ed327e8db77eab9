#pragma once

#include <string_view>

namespace tollgate::auth {

// The text of common_passwords.txt exactly as it was at build time (one
// password a line, '#' comments). CMake writes its definition into the build
// tree, so the list lives in one plain file. Used by password_policy.cc and
// by the test that checks the list itself.
std::string_view CommonPasswordsText();

}  // namespace tollgate::auth
