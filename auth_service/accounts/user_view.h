#pragma once

#include "auth_service/store/user_record.h"
#include "tollgate/auth/v1/auth.pb.h"

namespace tollgate::auth {

// The public view of a user: never the hash.
void ToProto(const UserRecord& user, v1::User* out);
v1::User ToProto(const UserRecord& user);

}  // namespace tollgate::auth
