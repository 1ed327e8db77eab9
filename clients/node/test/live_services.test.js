'use strict';
// The client against the real auth_service and sum_service, started by the
// ctest driver (tests/clients/node_client_test.cc), which passes:
//   TOLLGATE_AUTH_ADDR, TOLLGATE_SUM_ADDR          the two services
//   TOLLGATE_AUTH_METRICS, TOLLGATE_SUM_METRICS    their /metrics URLs
//   TOLLGATE_FOREIGN_SUM_ADDR, _METRICS           a SumService trusting other keys
//   TOLLGATE_ACCESS_TTL                            AUTH_ACCESS_TTL of auth_service (3)
// sum_service runs with TOKEN_LEEWAY=0, so an access token that the client
// failed to renew in time is refused. Calls are counted at the servers
// (grpc_server_handled_total), so the tests run one after another.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');
const { execFile } = require('node:child_process');
const grpc = require('@grpc/grpc-js');
const { TollgateClient, SessionEndedError } = require('../index');
const { handledCalls, delta } = require('./server_metrics');

function required(name) {
  const value = process.env[name];
  // No skip: without the services this file fails, loudly.
  assert.ok(value, `${name} is not set: run this file through ctest (node_client_test)`);
  return value;
}

const env = {
  auth: required('TOLLGATE_AUTH_ADDR'),
  sum: required('TOLLGATE_SUM_ADDR'),
  authMetrics: required('TOLLGATE_AUTH_METRICS'),
  sumMetrics: required('TOLLGATE_SUM_METRICS'),
  foreignSum: required('TOLLGATE_FOREIGN_SUM_ADDR'),
  foreignSumMetrics: required('TOLLGATE_FOREIGN_SUM_METRICS'),
  accessTtl: Number(required('TOLLGATE_ACCESS_TTL')),
};
const AUTH = 'tollgate.auth.v1.AuthService';
const SUM = 'tollgate.sum.v1.SumService';
const PASSWORD = 'correct horse battery staple';

const newEmail = () => `node-${crypto.randomUUID()}@example.com`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A client on the real services; `clock.offset` moves its clock.
function newClient({ sumAddress = env.sum, ...options } = {}) {
  const clock = { offset: 0 };
  const ended = [];
  const client = new TollgateClient({
    authAddress: env.auth,
    sumAddress,
    now: () => Date.now() / 1000 + clock.offset,
    onSessionEnded: (error) => ended.push(error),
    ...options,
  });
  return { client, clock, ended };
}

async function registered(options) {
  const made = newClient(options);
  const email = newEmail();
  await made.client.register({ email, password: PASSWORD, first_name: 'Ada', last_name: 'Lovelace' });
  return { ...made, email };
}

// The server-side call counts of AuthService and of one SumService.
async function serverCounts(sumMetrics = env.sumMetrics) {
  return { auth: await handledCalls(env.authMetrics, AUTH), sum: await handledCalls(sumMetrics, SUM) };
}
function countsSince(before, after) {
  return { auth: delta(before.auth, after.auth), sum: delta(before.sum, after.sum) };
}

test('registers, logs in and calls Sum with the token', async () => {
  const { client, email } = await registered();
  assert.equal(await client.sum(40, 2), '42');
  assert.equal(await client.sum('-9223372036854775807', '-1'), '-9223372036854775808');
  client.close();

  const { client: again } = newClient();
  const response = await again.login(email, PASSWORD);
  assert.equal(response.user.email, email);
  assert.equal(response.expires_in, String(env.accessTtl));
  assert.equal(await again.sum(1, 2), '3');
  await assert.rejects(again.sum('9223372036854775807', '1'), { code: grpc.status.OUT_OF_RANGE });
  again.close();
});

// A token the server refuses although its exp looks fine here (its signature
// was changed): the client renews once, retries once, and succeeds.
test('reactive renewal: a refused token is renewed and the call retried once', async () => {
  const { client } = await registered();
  const before = await serverCounts();
  const good = client.session.tokens.accessToken;
  const [header, payload, signature] = good.split('.');
  const forged = `${header}.${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
  client.session.tokens.accessToken = forged;

  assert.equal(await client.sum(2, 3), '5');
  assert.deepEqual(client.session.stats, { refreshes: 1, reactiveRetries: 1 });
  assert.notEqual(client.session.tokens.accessToken, good);
  assert.deepEqual(countsSince(before, await serverCounts()), {
    auth: { 'Refresh OK': 1 },
    sum: { 'Sum Unauthenticated': 1, 'Sum OK': 1 },
  });
  client.close();
});

// A SumService that trusts other keys refuses every token: one renewal, one
// retry, then the error; no storm of calls.
test('reactive renewal retries once only when the server keeps refusing', async () => {
  const { client, ended } = await registered({ sumAddress: env.foreignSum });
  const before = await serverCounts(env.foreignSumMetrics);
  await assert.rejects(client.sum(1, 1), (error) => {
    assert.equal(error.code, grpc.status.UNAUTHENTICATED);
    assert.ok(!(error instanceof SessionEndedError));
    return true;
  });
  assert.deepEqual(client.session.stats, { refreshes: 1, reactiveRetries: 1 });
  assert.deepEqual(countsSince(before, await serverCounts(env.foreignSumMetrics)), {
    auth: { 'Refresh OK': 1 },
    sum: { 'Sum Unauthenticated': 2 },
  });
  assert.equal(ended.length, 0);
  client.close();
});

// Real time across several lifetimes of a 3-second token, with no leeway at
// sum_service: every call succeeds on its first try, because the token is
// renewed before it runs out.
test('proactive renewal keeps a 3-second token alive across its expiries', async (t) => {
  const { client } = await registered();
  const before = await serverCounts();
  const runSeconds = 2.5 * env.accessTtl;
  const started = Date.now();
  let calls = 0;
  while (Date.now() - started < runSeconds * 1000) {
    assert.equal(await client.sum(calls, 1), String(calls + 1));
    calls += 1;
    await sleep(100);
  }
  const { refreshes, reactiveRetries } = client.session.stats;
  t.diagnostic(`${calls} calls in ${runSeconds} s, ${refreshes} refreshes`);
  assert.equal(reactiveRetries, 0);
  // At least one renewal per expiry crossed.
  assert.ok(refreshes >= Math.floor(runSeconds / env.accessTtl), `${refreshes} refreshes`);
  assert.deepEqual(countsSince(before, await serverCounts()), {
    auth: { 'Refresh OK': refreshes },
    sum: { 'Sum OK': calls },
  });
  client.close();
});

test('proactive renewal is single flight: 16 calls at once send one Refresh', async () => {
  const { client, clock } = await registered();
  const before = await serverCounts();
  clock.offset = env.accessTtl - 1; // inside the renewal threshold
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) => client.sum(i, i)));
  assert.deepEqual(results, Array.from({ length: 16 }, (_, i) => String(2 * i)));
  assert.equal(client.session.stats.refreshes, 1);
  assert.deepEqual(countsSince(before, await serverCounts()), {
    auth: { 'Refresh OK': 1 },
    sum: { 'Sum OK': 16 },
  });
  client.close();
});

// Logout of every session elsewhere revokes this client's refresh token: its
// next renewal ends the session, the callback fires once, and later calls
// fail at once without reaching a server.
test('a session revoked elsewhere ends at the next renewal, once', async () => {
  const { client, clock, ended, email } = await registered();
  const { client: elsewhere } = newClient();
  await elsewhere.login(email, PASSWORD);
  await elsewhere.logout({ allSessions: true });
  elsewhere.close();

  const before = await serverCounts();
  clock.offset = env.accessTtl; // the access token needs renewing
  for (let i = 0; i < 3; i += 1) {
    await assert.rejects(client.sum(1, 1), (error) => {
      assert.ok(error instanceof SessionEndedError);
      assert.equal(error.code, grpc.status.UNAUTHENTICATED);
      assert.equal(error.message, 'session ended: invalid refresh token');
      return true;
    });
  }
  assert.equal(ended.length, 1);
  assert.deepEqual(countsSince(before, await serverCounts()), {
    auth: { 'Refresh Unauthenticated': 1 },
    sum: {},
  });
  client.close();
});

test('the example program registers and calls Sum', async () => {
  const example = path.join(__dirname, '..', 'example.js');
  const { stdout } = await new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [example, '--register', '--email', newEmail(), '--calls', '3', '--interval', '0.1'],
      {
        env: { ...process.env, TOLLGATE_PASSWORD: PASSWORD },
        timeout: 30000,
      },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve({ stdout: out })),
    );
  });
  assert.deepEqual(
    stdout.trim().split('\n').map((line) => line.replace(/\s+\(.*\)$/, '')),
    ['sum(0, 1) = 1', 'sum(1, 1) = 2', 'sum(2, 1) = 3'],
  );
});
