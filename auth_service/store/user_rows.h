#pragma once

#include <pqxx/row>

#include <string>
#include <vector>

#include "auth_service/store/user_record.h"

namespace tollgate::auth {

// Reads a UserRecord from a row that has the columns of `users` under their
// own names (SELECT * or RETURNING *, or u.* in a join), by name, so a
// query may add columns in any order.
UserRecord UserFromRow(const pqxx::row& row);

// A PostgreSQL text[] field as strings.
std::vector<std::string> TextArrayFrom(const pqxx::field& field);

// The JSON array literal that the statements turn into text[] with
// ARRAY(SELECT json_array_elements_text($n::json)): libpqxx 6.4 has no
// array parameters, and JSON quoting leaves no role able to break out.
std::string TextArrayParameter(const std::vector<std::string>& values);

}  // namespace tollgate::auth
