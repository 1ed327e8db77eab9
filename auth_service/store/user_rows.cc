#include "auth_service/store/user_rows.h"

#include <pqxx/pqxx>

#include "nlohmann/json.hpp"

namespace tollgate::auth {

bool IsCanonicalUuid(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool UserRecord::HasRole(const std::string& role) const {
  for (const std::string& held : roles) {
    if (held == role) return true;
  }
  return false;
}

std::vector<std::string> TextArrayFrom(const pqxx::field& field) {
  std::vector<std::string> values;
  pqxx::array_parser parser = field.as_array();
  for (auto [juncture, value] = parser.get_next(); juncture != pqxx::array_parser::done;
       std::tie(juncture, value) = parser.get_next()) {
    if (juncture == pqxx::array_parser::string_value) values.push_back(value);
  }
  return values;
}

std::string TextArrayParameter(const std::vector<std::string>& values) {
  return nlohmann::json(values).dump();
}

UserRecord UserFromRow(const pqxx::row& row) {
  UserRecord user;
  user.id = row["id"].as<std::string>();
  user.email = row["email"].as<std::string>();
  user.email_key = row["email_normalized"].as<std::string>();
  user.first_name = row["first_name"].as<std::string>();
  user.last_name = row["last_name"].as<std::string>();
  user.password_hash = row["password_hash"].as<std::string>();
  user.roles = TextArrayFrom(row["roles"]);
  user.is_active = row["is_active"].as<bool>();
  user.is_verified = row["is_verified"].as<bool>();
  user.created_at = row["created_at"].as<int64_t>();
  user.updated_at = row["updated_at"].as<int64_t>();
  return user;
}

}  // namespace tollgate::auth
