"""The token pair of a session and when its access token should be renewed.

The access token's claims are decoded WITHOUT verifying the signature: the
client only needs `exp` and `iat` to schedule a renewal, and trusting them
costs nothing (a forged `exp` could only make this client renew sooner or
later; the server still verifies every token it receives).

Times are on the monotonic clock, counted from the moment the request that
returned the pair was sent: the lifetime `exp - iat` is the server's, so a
client whose wall clock is off by minutes still renews on time. `iat` is in
whole seconds, so the estimated expiry can be up to a second late; the
renewal window (the threshold, or half a short lifetime) absorbs that.
"""

import base64
import binascii
import json
from dataclasses import dataclass


def decode_unverified_claims(access_token):
    """The JSON claims of a compact JWS, signature not checked; None if the
    token is not three base64url segments with a JSON object in the middle."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1]
    try:
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(decoded)
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def access_lifetime_seconds(access_token, expires_in):
    """`exp - iat` of the token; the reply's `expires_in` when the token
    carries no usable integer claims (not a JWT the client can read)."""
    claims = decode_unverified_claims(access_token) or {}
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, int) and isinstance(iat, int) and exp > iat:
        return exp - iat
    return max(0, int(expires_in))


@dataclass(frozen=True)
class TokenPair:
    """One AuthResponse's tokens and the monotonic times that matter.

    renew_at is `expires_at - window`, where the window is the configured
    threshold but at most half the lifetime: with a threshold at or above
    the lifetime (300 s against a 3-minute token) every token would be due
    the moment it arrives and each call would renew.
    """

    access_token: str
    refresh_token: str
    expires_at: float  # monotonic seconds
    renew_at: float  # monotonic seconds; inf when proactive renewal is off

    @classmethod
    def from_response(cls, response, sent_at, renew_threshold_seconds):
        lifetime = access_lifetime_seconds(response.access_token, response.expires_in)
        expires_at = sent_at + lifetime
        if renew_threshold_seconds > 0:
            renew_at = expires_at - min(renew_threshold_seconds, lifetime / 2)
        else:
            renew_at = float("inf")
        return cls(response.access_token, response.refresh_token, expires_at, renew_at)
