// Session::Credentials(): the access token as gRPC call credentials.
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <map>
#include <string>

#include "client/session/session.h"

namespace tollgate::client {

// A metadata plugin that gives each call the Session's token.
//
// gRPC runs a plugin that says IsBlocking() on a thread pool of its own and
// any other inline, on the thread that starts the call. gRPC 1.51 asks
// IsBlocking() once when it wraps the plugin (to decide whether to make
// that pool) and then before every call, so this plugin answers true the
// first time, and afterwards only when the call would have to make or wait
// for a Refresh. The common case, a token that is not due, is then served
// inline from the PublishedAccess: no thread hop, no lock, no shared write.
// Everything else asks the Session. In the rare race where the token turns
// due between the two questions, the Refresh runs on the calling thread,
// as in a synchronous call.
class Session::CredentialsPlugin final : public grpc::MetadataCredentialsPlugin {
 public:
  CredentialsPlugin(std::weak_ptr<Session> session, std::shared_ptr<PublishedAccess> published,
                    const Clock* clock)
      : session_(std::move(session)), published_(std::move(published)), clock_(clock) {}

  bool IsBlocking() const override {
    if (!asked_.exchange(true, std::memory_order_relaxed)) return true;
    if (published_->UsableAt(NowMillis(clock_))) return false;
    const std::shared_ptr<Session> session = session_.lock();
    return session != nullptr && !session->AnswersAtOnce();
  }

  const char* GetType() const override { return "tollgate.session"; }

  grpc::Status GetMetadata(grpc::string_ref /*service_url*/, grpc::string_ref /*method_name*/,
                           const grpc::AuthContext& /*channel_auth_context*/,
                           std::multimap<grpc::string, grpc::string>* metadata) override {
    std::string authorization;
    if (published_->CopyIfUsable(NowMillis(clock_), &authorization)) {
      metadata->emplace("authorization", std::move(authorization));
      return grpc::Status::OK;
    }
    const std::shared_ptr<Session> session = session_.lock();
    if (session == nullptr) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "session closed: the Session behind these credentials was destroyed");
    }
    absl::StatusOr<AccessPtr> access = session->FreshAccess();
    if (!access.ok()) {
      return grpc::Status(static_cast<grpc::StatusCode>(access.status().code()),
                          std::string(access.status().message()));
    }
    metadata->emplace("authorization", (*access)->authorization);
    return grpc::Status::OK;
  }

 private:
  // Weak: the Session keeps its credentials, which must not keep it.
  const std::weak_ptr<Session> session_;
  const std::shared_ptr<PublishedAccess> published_;
  const Clock* const clock_;
  mutable std::atomic<bool> asked_{false};
};

std::shared_ptr<grpc::CallCredentials> Session::Credentials() {
  std::call_once(credentials_once_, [this] {
    // GRPC_SECURITY_NONE: the services listen in plaintext unless TLS is
    // configured, and gRPC would otherwise refuse to send the token there.
    credentials_ = grpc::experimental::MetadataCredentialsFromPlugin(
        std::make_unique<CredentialsPlugin>(weak_from_this(), published_, options_.clock),
        GRPC_SECURITY_NONE);
  });
  return credentials_;
}

}  // namespace tollgate::client
