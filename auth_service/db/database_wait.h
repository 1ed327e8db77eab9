#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <pqxx/connection>

#include "absl/status/status.h"

namespace tollgate::auth {

// Start-up's first contact with PostgreSQL (issue 9): connect, run `work` on
// the connection, and wait for a database that is not up yet, but only for
// failures that can recover.
//
// Contract:
// - Each attempt opens a pqxx::connection to `url` with connect_timeout set
//   (unless the URL sets one) to at most the time left, and at least 2 s
//   (libpq's minimum), then returns what `work` returns.
// - A connect failure that can recover (connection refused, a timeout, no
//   socket file yet, the server starting up or shutting down, too many
//   clients, a name that does not resolve *yet*) is retried every
//   `retry_every` until `wait` has passed since the call. The first such
//   failure logs one warn line ("waiting for the database", `wait_s`,
//   `reason` CAUSE); success after retries logs one info line ("database
//   reachable", `attempts`). Nothing is logged per attempt.
// - When the wait runs out: UNAVAILABLE "database unreachable after N
//   attempts in W s: CAUSE", CAUSE being libpq's first line of the last
//   failure.
// - Any other connect failure (a database or role that does not exist, a
//   refused password, a URL libpq cannot parse) can never succeed by
//   waiting: FAILED_PRECONDITION "database connection failed: CAUSE" at once.
// - CAUSE never holds the URL's password: libpq quotes the whole URL in some
//   parse errors, so the password's text is replaced by "***".
// - A failure inside `work` is returned as `work` returns it (not retried).
absl::Status RunWhenDatabaseReachable(const std::string& url, std::chrono::seconds wait,
                                      const std::function<absl::Status(pqxx::connection&)>& work,
                                      std::chrono::milliseconds retry_every =
                                          std::chrono::milliseconds(250));

// Whether a libpq connect error (its first line) can go away by waiting.
bool IsRecoverableConnectError(const std::string& message);

// `message` with every occurrence of the password in `url` (URI
// user:password@ or a password= setting, percent-decoded or not) replaced
// by "***".
std::string WithoutPassword(const std::string& message, const std::string& url);

}  // namespace tollgate::auth
