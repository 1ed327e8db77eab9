'use strict';
const grpc = require('@grpc/grpc-js');
const { SessionEndedError } = require('./errors');
const { tokenTimes } = require('./token_claims');
const { unaryCall } = require('./unary_call');

// A logged-in session with AuthService that keeps itself alive.
//
// Contract:
// - login(), register() and resume(refreshToken) start it; the token pair
//   lives in this object's memory only.
// - withAccessToken(invoke) runs invoke(metadata), metadata carrying
//   `authorization: Bearer <access token>`:
//   - proactive renewal: when less than the renewal threshold is left on the
//     access token, a Refresh runs first. The threshold is
//     renewBeforeSeconds (60), but at most half the token's lifetime, so a
//     short-lived token is not renewed before every call;
//   - reactive renewal: when invoke fails with UNAUTHENTICATED (the server
//     refused a token that looked fine here: a key rotation, a clock ahead
//     of ours), one Refresh runs and invoke runs once more, and only once.
// - Renewals are single flight: however many calls need one at the same
//   time, one Refresh goes out and they all wait for it.
// - A Refresh answered UNAUTHENTICATED means the session has ended (the
//   refresh token was revoked or expired): onSessionEnded(error) is called
//   once, and this and every later call reject with SessionEndedError
//   without any network traffic, so a dead session never loops. Any other
//   Refresh failure (UNAVAILABLE, DEADLINE_EXCEEDED) rejects only the calls
//   that waited for it; the next call tries again.
// - The expiry is taken from the token's exp and iat (decoded, not
//   verified) and counted from when the token arrived on this machine, so a
//   local clock that is off does not matter.
class Session {
  // authStub: a grpc-js AuthService client. now(): Unix seconds (tests
  // inject a clock). deadlineSeconds: the deadline of every call.
  constructor({
    authStub,
    renewBeforeSeconds = 60,
    deadlineSeconds = 10,
    now = () => Date.now() / 1000,
    onSessionEnded = () => {},
  }) {
    this.authStub = authStub;
    this.renewBeforeSeconds = renewBeforeSeconds;
    this.deadlineSeconds = deadlineSeconds;
    this.now = now;
    this.onSessionEnded = onSessionEnded;
    this.tokens = null; // { accessToken, refreshToken, localExpiry, lifetime }
    this.renewing = null; // the Refresh in flight, if any
    this.ended = null; // the SessionEndedError once the session is over
    // Counters for programs and tests: Refresh calls sent, and calls
    // retried after an UNAUTHENTICATED answer.
    this.stats = { refreshes: 0, reactiveRetries: 0 };
  }

  // Register (email, password, first_name, last_name): the new account's
  // session. Resolves with the AuthResponse.
  async register(account) {
    return this.start(await this.authCall('Register', account));
  }

  async login(email, password) {
    return this.start(await this.authCall('Login', { email, password }));
  }

  // Starts from a refresh token saved earlier: one Refresh.
  async resume(refreshToken) {
    return this.start(await this.authCall('Refresh', { refresh_token: refreshToken }));
  }

  // Revokes this session (allSessions: every session of the account). The
  // session is over afterwards; onSessionEnded is not called for it.
  async logout({ allSessions = false } = {}) {
    if (!this.tokens) return;
    await this.authCall('Logout', {
      refresh_token: this.tokens.refreshToken,
      all_sessions: allSessions,
    });
    this.tokens = null;
    this.ended = new SessionEndedError(new Error('logged out'));
  }

  // The access token of the session, renewed first when the threshold is
  // reached.
  async accessToken() {
    this.throwIfEnded();
    if (!this.tokens) throw new Error('not logged in: call login() or register() first');
    const { accessToken, localExpiry, lifetime } = this.tokens;
    const threshold = Math.min(this.renewBeforeSeconds, lifetime / 2);
    if (localExpiry - this.now() < threshold) await this.renew(accessToken);
    return this.tokens.accessToken;
  }

  // Runs invoke(metadata) with the access token, renewing proactively and,
  // on UNAUTHENTICATED, reactively (once). Resolves with invoke's result.
  async withAccessToken(invoke) {
    const token = await this.accessToken();
    try {
      return await invoke(bearerMetadata(token));
    } catch (error) {
      if (error.code !== grpc.status.UNAUTHENTICATED) throw error;
      this.stats.reactiveRetries += 1;
      await this.renew(token);
      return invoke(bearerMetadata(await this.accessToken()));
    }
  }

  // Single flight: renews unless the token in use is no longer `staleToken`
  // (another call renewed meanwhile), joining a Refresh in flight.
  async renew(staleToken) {
    this.throwIfEnded();
    if (this.renewing) return this.renewing;
    if (this.tokens.accessToken !== staleToken) return undefined;
    this.renewing = this.refreshNow().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  async refreshNow() {
    this.stats.refreshes += 1;
    let response;
    try {
      response = await this.authCall('Refresh', { refresh_token: this.tokens.refreshToken });
    } catch (error) {
      if (error.code === grpc.status.UNAUTHENTICATED) this.end(error);
      throw this.ended || error;
    }
    this.start(response);
  }

  start(response) {
    const received = this.now();
    const { expiresAt, issuedAt } = tokenTimes(response.access_token);
    // exp - iat is the lifetime the server meant; counting it from arrival
    // makes the local clock's offset irrelevant. iat has whole seconds, so
    // the token may be up to a second older than it says: take that second
    // off.
    const lifetime = issuedAt === null ? Number(response.expires_in) : expiresAt - issuedAt;
    this.tokens = {
      accessToken: response.access_token,
      refreshToken: response.refresh_token,
      localExpiry: received + lifetime - 1,
      lifetime,
    };
    this.ended = null;
    return response;
  }

  end(cause) {
    if (this.ended) return;
    this.ended = new SessionEndedError(cause);
    this.tokens = null;
    this.onSessionEnded(this.ended);
  }

  throwIfEnded() {
    if (this.ended) throw this.ended;
  }

  authCall(method, request) {
    return unaryCall(this.authStub, method, request, { deadlineSeconds: this.deadlineSeconds });
  }
}

function bearerMetadata(token) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

module.exports = { Session };
