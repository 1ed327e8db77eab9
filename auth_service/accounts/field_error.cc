#include "auth_service/accounts/field_error.h"

#include <string>

namespace tollgate::auth {

absl::Status InvalidFieldError(std::string_view field, std::string_view why) {
  std::string message(field);
  message += ": ";
  message += why;
  return absl::InvalidArgumentError(message);
}

}  // namespace tollgate::auth
