'use strict';
// Token-shaped strings for unit tests: a real header and claims, and a
// signature nobody checks (the client never verifies tokens).
function fakeAccessToken({ iat, exp, jti }) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    encode({ alg: 'ES256', typ: 'at+jwt', kid: 'test' }),
    encode({ sub: 'user-1', iat, exp, jti }),
    'c2lnbmF0dXJl',
  ].join('.');
}

module.exports = { fakeAccessToken };
