#pragma once

#include <string>

namespace tollgate::tools {

// The README's "Configuration" table (Markdown, header row included) built
// from AuthConfig::Settings() and SumConfig::Settings(), the arrays --help
// prints; a setting both services have alike is one row, service "both".
std::string ConfigurationTable();

}  // namespace tollgate::tools
