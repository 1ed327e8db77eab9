#include "auth_service/accounts/user_view.h"

namespace tollgate::auth {

void ToProto(const UserRecord& user, v1::User* out) {
  out->set_id(user.id);
  out->set_email(user.email);
  out->set_first_name(user.first_name);
  out->set_last_name(user.last_name);
  out->clear_roles();
  for (const auto& role : user.roles) out->add_roles(role);
  out->set_is_active(user.is_active);
  out->set_is_verified(user.is_verified);
  out->mutable_created_at()->set_seconds(user.created_at);
  out->mutable_created_at()->set_nanos(0);
  out->mutable_updated_at()->set_seconds(user.updated_at);
  out->mutable_updated_at()->set_nanos(0);
}

v1::User ToProto(const UserRecord& user) {
  v1::User out;
  ToProto(user, &out);
  return out;
}

}  // namespace tollgate::auth
