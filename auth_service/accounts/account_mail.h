#pragma once

#include <cstdint>
#include <string>

#include "auth_service/mail/mail_message.h"

namespace tollgate::auth {

// The texts of the mails the account flows send. Plain text; the code
// stands alone on its own line (easy to copy, easy for a test to find),
// followed by a link when `link_base` is set (AUTH_MAIL_LINK_BASE, e.g.
// "https://app.example.com/reset?code=": the code is appended as is, it is
// URL-safe base64).
OutgoingMail PasswordResetMail(const std::string& to, const std::string& code,
                               int64_t ttl_seconds, const std::string& link_base);
OutgoingMail EmailVerificationMail(const std::string& to, const std::string& code,
                                   int64_t ttl_seconds, const std::string& link_base);
// To the old address after an email change: no code, so a hijacker who
// changed the address cannot use it, but the owner learns of it.
OutgoingMail EmailChangedNotice(const std::string& old_address, const std::string& new_address);

}  // namespace tollgate::auth
