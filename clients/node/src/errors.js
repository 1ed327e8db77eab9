'use strict';
const grpc = require('@grpc/grpc-js');

// The session can no longer be renewed: the refresh token was revoked
// (logout elsewhere, password change, reuse detection), expired, or the
// account was deactivated. Only a new login helps; the client never retries
// on its own after this.
class SessionEndedError extends Error {
  constructor(cause) {
    super(`session ended: ${cause ? cause.details || cause.message : 'no session'}`);
    this.name = 'SessionEndedError';
    this.code = grpc.status.UNAUTHENTICATED;
    this.cause = cause;
  }
}

module.exports = { SessionEndedError };
