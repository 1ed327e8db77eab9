'use strict';
// Reads an access token's claims WITHOUT verifying it. A client only needs
// to know when its own token runs out; whether the token is genuine is the
// server's business (it verifies every call). Never use these claims for
// an access decision.

class MalformedTokenError extends Error {
  constructor(reason) {
    super(`malformed access token: ${reason}`);
    this.name = 'MalformedTokenError';
  }
}

// The payload of a compact JWS as an object. Throws MalformedTokenError when
// the token is not three base64url segments with a JSON object in the middle.
function decodeClaimsUnverified(token) {
  if (typeof token !== 'string') throw new MalformedTokenError('not a string');
  const segments = token.split('.');
  if (segments.length !== 3) throw new MalformedTokenError('expected three segments');
  if (!/^[A-Za-z0-9_-]+$/.test(segments[1])) {
    throw new MalformedTokenError('the payload is not base64url');
  }
  let claims;
  try {
    claims = JSON.parse(Buffer.from(segments[1], 'base64url').toString('utf8'));
  } catch (error) {
    throw new MalformedTokenError(`the payload is not JSON (${error.message})`);
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    throw new MalformedTokenError('the payload is not a JSON object');
  }
  return claims;
}

// { expiresAt, issuedAt } in Unix seconds from the token's exp and iat.
// Throws MalformedTokenError without an integer exp; issuedAt is null when
// iat is absent.
function tokenTimes(token) {
  const claims = decodeClaimsUnverified(token);
  if (!Number.isSafeInteger(claims.exp)) throw new MalformedTokenError('exp is not an integer');
  const issuedAt = Number.isSafeInteger(claims.iat) ? claims.iat : null;
  return { expiresAt: claims.exp, issuedAt };
}

module.exports = { MalformedTokenError, decodeClaimsUnverified, tokenTimes };
