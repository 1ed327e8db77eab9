'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { decodeClaimsUnverified, tokenTimes, MalformedTokenError } = require('../index');
const { fakeAccessToken } = require('./fake_tokens');

test('reads exp and iat without verifying', () => {
  const token = fakeAccessToken({ iat: 1700000000, exp: 1700000900, jti: 'a' });
  assert.deepEqual(tokenTimes(token), { expiresAt: 1700000900, issuedAt: 1700000000 });
  assert.equal(decodeClaimsUnverified(token).sub, 'user-1');
});

test('refuses what is not a compact JWS with a JSON object payload', () => {
  const payload = (text) => `e30.${Buffer.from(text).toString('base64url')}.c2ln`;
  for (const token of ['', 'a.b', 'a.b.c.d', payload('[1]'), payload('not json'), 'e30.e3+.c2ln']) {
    assert.throws(() => decodeClaimsUnverified(token), MalformedTokenError, token);
  }
  assert.throws(() => tokenTimes(payload('{"exp":"soon"}')), /exp is not an integer/);
});
