'use strict';
// The renewal rules of Session against a fake AuthService stub and a fake
// clock: proactive threshold, single flight, one reactive retry, the end
// of a session, and a failed Refresh that does not end it.
const test = require('node:test');
const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const { Session, SessionEndedError } = require('../index');
const { fakeAccessToken } = require('./fake_tokens');

const LIFETIME = 900;

function grpcError(code, details) {
  return Object.assign(new Error(`${code} ${details}`), { code, details });
}

// AuthService's Login and Refresh as a grpc-js stub would answer them, on
// the fake clock; refreshOutcome() may return an error to answer instead.
class FakeAuth {
  constructor(clock) {
    this.clock = clock;
    this.issued = 0;
    this.refreshCalls = 0;
    this.refreshOutcome = () => null;
    this.refreshDelayMs = 5;
  }
  pair() {
    this.issued += 1;
    const iat = Math.floor(this.clock.now);
    return {
      access_token: fakeAccessToken({ iat, exp: iat + LIFETIME, jti: `t${this.issued}` }),
      refresh_token: `tgr_${this.issued}`,
      expires_in: String(LIFETIME),
    };
  }
  Login(request, metadata, options, callback) {
    setImmediate(() => callback(null, this.pair()));
  }
  Refresh(request, metadata, options, callback) {
    this.refreshCalls += 1;
    const error = this.refreshOutcome(request);
    setTimeout(() => callback(error, error ? undefined : this.pair()), this.refreshDelayMs);
  }
}

async function loggedIn(options = {}) {
  const clock = { now: 1700000000 };
  const auth = new FakeAuth(clock);
  const ended = [];
  const session = new Session({
    authStub: auth,
    now: () => clock.now,
    onSessionEnded: (error) => ended.push(error),
    ...options,
  });
  await session.login('ada@example.com', 'secret');
  return { clock, auth, session, ended };
}

const tokenOf = (metadata) => metadata.get('authorization')[0].replace(/^Bearer /, '');

test('uses the token as it is while more than the threshold is left', async () => {
  const { clock, auth, session } = await loggedIn();
  const first = await session.accessToken();
  clock.now += LIFETIME - 62; // 1 s of the lifetime is taken off for iat's rounding
  assert.equal(await session.accessToken(), first);
  assert.equal(auth.refreshCalls, 0);
  clock.now += 2; // 59 s left: below 60 s
  assert.notEqual(await session.accessToken(), first);
  assert.equal(auth.refreshCalls, 1);
});

test('caps the threshold at half the lifetime of a short-lived token', async () => {
  const { clock, auth, session } = await loggedIn({ renewBeforeSeconds: 600 });
  clock.now += LIFETIME / 2 - 2;
  await session.accessToken();
  assert.equal(auth.refreshCalls, 0);
  clock.now += 2;
  await session.accessToken();
  assert.equal(auth.refreshCalls, 1);
});

test('sends one Refresh however many calls find the token stale', async () => {
  const { clock, auth, session } = await loggedIn();
  clock.now += LIFETIME - 10;
  const seen = await Promise.all(
    Array.from({ length: 32 }, () => session.withAccessToken(async (metadata) => tokenOf(metadata))),
  );
  assert.equal(auth.refreshCalls, 1);
  assert.equal(new Set(seen).size, 1);
  assert.equal(session.stats.refreshes, 1);
});

test('renews once and retries once when a call answers UNAUTHENTICATED', async () => {
  const { auth, session } = await loggedIn();
  const tokens = [];
  const result = await session.withAccessToken(async (metadata) => {
    tokens.push(tokenOf(metadata));
    if (tokens.length === 1) throw grpcError(grpc.status.UNAUTHENTICATED, 'invalid token: bad signature');
    return 'ok';
  });
  assert.equal(result, 'ok');
  assert.equal(tokens.length, 2);
  assert.notEqual(tokens[0], tokens[1]);
  assert.equal(auth.refreshCalls, 1);
  assert.equal(session.stats.reactiveRetries, 1);
});

test('gives up after the one retry when the server keeps refusing', async () => {
  const { auth, session } = await loggedIn();
  let calls = 0;
  await assert.rejects(
    session.withAccessToken(async () => {
      calls += 1;
      throw grpcError(grpc.status.UNAUTHENTICATED, 'invalid token: unknown key id');
    }),
    (error) => error.code === grpc.status.UNAUTHENTICATED && !(error instanceof SessionEndedError),
  );
  assert.equal(calls, 2);
  assert.equal(auth.refreshCalls, 1);
});

test('does not renew for other errors', async () => {
  const { auth, session } = await loggedIn();
  let calls = 0;
  await assert.rejects(
    session.withAccessToken(async () => {
      calls += 1;
      throw grpcError(grpc.status.PERMISSION_DENIED, 'needs role admin');
    }),
    { code: grpc.status.PERMISSION_DENIED },
  );
  assert.equal(calls, 1);
  assert.equal(auth.refreshCalls, 0);
});

test('ends the session once when Refresh is refused, and never calls again', async () => {
  const { clock, auth, session, ended } = await loggedIn();
  auth.refreshOutcome = () => grpcError(grpc.status.UNAUTHENTICATED, 'invalid refresh token');
  clock.now += LIFETIME;
  let invoked = 0;
  const call = () => session.withAccessToken(async () => (invoked += 1));
  const outcomes = await Promise.allSettled([call(), call(), call()]);
  for (const outcome of outcomes) {
    assert.equal(outcome.status, 'rejected');
    assert.ok(outcome.reason instanceof SessionEndedError);
    assert.equal(outcome.reason.code, grpc.status.UNAUTHENTICATED);
    assert.match(outcome.reason.message, /^session ended: invalid refresh token$/);
  }
  await assert.rejects(call(), SessionEndedError);
  assert.equal(auth.refreshCalls, 1);
  assert.equal(invoked, 0);
  assert.equal(ended.length, 1);
});

test('a Refresh that fails for another reason fails the call, not the session', async () => {
  const { clock, auth, session, ended } = await loggedIn();
  auth.refreshOutcome = () => grpcError(grpc.status.UNAVAILABLE, 'connection refused');
  clock.now += LIFETIME;
  await assert.rejects(session.accessToken(), { code: grpc.status.UNAVAILABLE });
  auth.refreshOutcome = () => null;
  await session.accessToken();
  assert.equal(auth.refreshCalls, 2);
  assert.equal(ended.length, 0);
});
