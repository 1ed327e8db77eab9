#include "auth_service/accounts/account_mail.h"

namespace tollgate::auth {
namespace {

std::string Lifetime(int64_t seconds) {
  if (seconds % 3600 == 0) {
    const int64_t hours = seconds / 3600;
    return std::to_string(hours) + (hours == 1 ? " hour" : " hours");
  }
  if (seconds % 60 == 0) {
    const int64_t minutes = seconds / 60;
    return std::to_string(minutes) + (minutes == 1 ? " minute" : " minutes");
  }
  return std::to_string(seconds) + " seconds";
}

std::string CodeBlock(const std::string& code, const std::string& link_base) {
  std::string block = "\n" + code + "\n\n";
  if (!link_base.empty()) block += "Or open this link:\n" + link_base + code + "\n\n";
  return block;
}

}  // namespace

OutgoingMail PasswordResetMail(const std::string& to, const std::string& code,
                               int64_t ttl_seconds, const std::string& link_base) {
  return OutgoingMail{
      to, "Reset your password",
      "Someone asked to reset the password of the account " + to +
          ".\n\nTo choose a new password, use this code within " + Lifetime(ttl_seconds) +
          " (it works once):\n" + CodeBlock(code, link_base) +
          "If it was not you, ignore this mail: your password stays as it is.\n"};
}

OutgoingMail EmailVerificationMail(const std::string& to, const std::string& code,
                                   int64_t ttl_seconds, const std::string& link_base) {
  return OutgoingMail{
      to, "Verify your email address",
      "To confirm that " + to + " is your address, use this code within " +
          Lifetime(ttl_seconds) + " (it works once):\n" + CodeBlock(code, link_base) +
          "If you did not ask for this, ignore this mail.\n"};
}

OutgoingMail EmailChangedNotice(const std::string& old_address, const std::string& new_address) {
  return OutgoingMail{
      old_address, "Your account's email address was changed",
      "The email address of your account was changed from " + old_address + " to " +
          new_address +
          ".\n\nIf you did not do this, reset your password from the new address's mail or "
          "contact your administrator at once.\n"};
}

}  // namespace tollgate::auth
