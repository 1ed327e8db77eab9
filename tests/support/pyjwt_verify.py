#!/usr/bin/python3
"""Verifies an access token the way a third-party gateway would: fetches the
JWK Set over HTTP and checks the token with PyJWT (Debian python3-jwt and its
cryptography backend). Run by /usr/bin/python3 from jwks_pyjwt_test.

    PYJWT_TOKEN=<token> pyjwt_verify.py --jwks-url URL --issuer ISS --audience AUD

The token comes in the environment, so it never shows in `ps`. The key is
the set's key with the token's kid, and the algorithm is that key's `alg`,
never the token header's. PyJWT checks the signature, exp (required), iss
and aud (both required and compared); sub must be present.

Exit status:
  0  valid: prints the claims as one JSON object;
  1  refused: prints "refused: <PyJWT exception class>" (or
     "refused: UnknownKid" when no key of the set has the token's kid);
  2  could not check (bad usage, JWKS not fetched, PyJWT missing): the
     reason on stderr.
"""

import argparse
import json
import os
import sys
import urllib.request

try:
    import jwt
except ImportError as error:  # python3-jwt missing: a broken set-up, not a refusal
    print(f"pyjwt_verify: cannot import PyJWT: {error}", file=sys.stderr)
    sys.exit(2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jwks-url", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--audience", required=True)
    args = parser.parse_args()
    token = os.environ.get("PYJWT_TOKEN", "")
    if not token:
        print("pyjwt_verify: PYJWT_TOKEN is not set", file=sys.stderr)
        return 2

    try:
        with urllib.request.urlopen(args.jwks_url, timeout=10) as response:
            content_type = response.headers.get("Content-Type", "")
            jwks = json.load(response)
    except Exception as error:  # unreachable, not JSON: nothing was checked
        print(f"pyjwt_verify: cannot fetch {args.jwks_url}: {error}", file=sys.stderr)
        return 2
    if content_type != "application/jwk-set+json":
        print(f"pyjwt_verify: Content-Type is {content_type!r}", file=sys.stderr)
        return 2

    try:
        kid = jwt.get_unverified_header(token).get("kid")
        jwk = next((key for key in jwks.get("keys", []) if key.get("kid") == kid), None)
        if jwk is None:
            print("refused: UnknownKid")
            return 1
        key = jwt.PyJWK(jwk)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[jwk["alg"]],
            issuer=args.issuer,
            audience=args.audience,
            options={"require": ["exp", "iss", "aud", "sub"], "verify_signature": True},
        )
    except jwt.PyJWTError as error:
        print(f"refused: {type(error).__name__}")
        return 1
    print(json.dumps(claims, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
