#include "tools/config_table.h"

#include "auth_service/auth_config.h"
#include "common/config/settings.h"
#include "sum_service/sum_config.h"

namespace tollgate::tools {

std::string ConfigurationTable() {
  const config::ServiceSettings services[] = {
      {"auth", auth::AuthConfig::Settings()},
      {"sum", sum::SumConfig::Settings()},
  };
  return config::MarkdownTable(services);
}

}  // namespace tollgate::tools
