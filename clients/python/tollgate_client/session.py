"""A session's token pair, renewed by one thread at a time.

Contract:
- token_for_call() gives the access token to send (None before any login)
  and the pair's generation. When the pair is due for renewal (see
  TokenPair.renew_at) it renews first, proactively. While the due token is
  still valid, only the thread that takes the refresh lock renews; the
  others keep calling with the current token instead of waiting. Once it
  has expired, every caller waits for the one Refresh in flight.
- renew_after_refusal(generation) is the reactive path: the server refused
  the token of that generation. If another thread already replaced it, the
  newer token is returned without a Refresh; otherwise one Refresh runs.
- However many threads ask, each generation is refreshed at most once: a
  Refresh RPC is sent only by the holder of the refresh lock, and only if
  the pair is still the one the caller saw.
- A refused Refresh (UNAUTHENTICATED: the refresh token is revoked, expired,
  reused, or its account deactivated) ends the session: the pair is
  dropped, on_ended(error) runs once, outside the locks, on the thread that
  found out (an exception it raises is logged, not propagated), and every
  later token_for_call raises SessionEndedError without any RPC, until
  start() begins a new session.
- A proactive renewal that fails UNAVAILABLE or DEADLINE_EXCEEDED while the
  token is still valid is not an error: the call goes on with the current
  token, and the next due call tries again.
- start() and end() replace the session whatever a Refresh in flight
  returns later: its reply is dropped.
"""

import logging
import threading
import time

from .errors import (DeadlineExceededError, NotLoggedInError, SessionEndedError,
                     UnauthenticatedError, UnavailableError)
from .token_pair import TokenPair

logger = logging.getLogger("tollgate_client")


class Session:
    def __init__(self, refresh_rpc, renew_threshold_seconds, on_ended=None, clock=time.monotonic):
        """refresh_rpc(refresh_token) sends Refresh and returns the
        AuthResponse or raises a TollgateError. clock gives monotonic
        seconds (tests pass a fake)."""
        if renew_threshold_seconds < 0:
            raise ValueError("renew_threshold_seconds must be >= 0 (0: no proactive renewal)")
        self._refresh_rpc = refresh_rpc
        self._renew_threshold_seconds = renew_threshold_seconds
        self._on_ended = on_ended
        self._clock = clock
        self._refresh_lock = threading.Lock()  # held for the one Refresh in flight
        self._lock = threading.Lock()  # guards the fields below; never held across an RPC
        self._pair = None
        self._generation = 0
        self._ended_reason = None  # the refused Refresh's message, once ended
        self._unreported_end = None  # the SessionEndedError on_ended has yet to get

    def start(self, response, sent_at):
        """Begins a session from a Register, Login or Refresh reply to a
        request sent at monotonic time `sent_at`."""
        pair = TokenPair.from_response(response, sent_at, self._renew_threshold_seconds)
        with self._lock:
            self._pair = pair
            self._generation += 1
            self._ended_reason = None

    def end(self):
        """Forgets the session (after a Logout); no callback."""
        with self._lock:
            self._pair = None
            self._generation += 1
            self._ended_reason = None

    @property
    def pair(self):
        with self._lock:
            return self._pair

    def token_for_call(self):
        with self._lock:
            self._raise_if_ended_locked()
            pair, generation = self._pair, self._generation
        if pair is None:
            return None, generation
        now = self._clock()
        if now < pair.renew_at:
            return pair.access_token, generation
        if now < pair.expires_at:
            renewed = self._renew(generation, blocking=False)
            return renewed if renewed is not None else (pair.access_token, generation)
        return self._renew(generation, blocking=True)

    def renew_after_refusal(self, generation):
        return self._renew(generation, blocking=True)

    def renew_now(self):
        """Refresh now, whatever the token's age (Client.refresh)."""
        with self._lock:
            generation = self._generation
        return self._renew(generation, blocking=True)

    def _renew(self, seen_generation, blocking):
        """(access token, generation) after renewing the pair of
        seen_generation; None if not blocking and another thread renews."""
        if not self._refresh_lock.acquire(blocking=blocking):
            return None
        try:
            return self._renew_holding_lock(seen_generation, keep_valid_token_on_outage=not blocking)
        finally:
            self._refresh_lock.release()
            self._report_end()

    def _renew_holding_lock(self, seen_generation, keep_valid_token_on_outage):
        with self._lock:
            if self._generation != seen_generation:
                return self._current_locked()
            self._raise_if_ended_locked()
            if self._pair is None:
                raise NotLoggedInError()
            old_pair = self._pair
        sent_at = self._clock()
        try:
            response = self._refresh_rpc(old_pair.refresh_token)
        except UnauthenticatedError as refused:
            return self._end_after_refusal(seen_generation, refused)
        except (UnavailableError, DeadlineExceededError) as outage:
            if keep_valid_token_on_outage and self._clock() < old_pair.expires_at:
                logger.warning("proactive renewal failed (%s); the current token is still valid", outage)
                return old_pair.access_token, seen_generation
            raise
        pair = TokenPair.from_response(response, sent_at, self._renew_threshold_seconds)
        with self._lock:
            if self._generation == seen_generation:
                self._pair = pair
                self._generation += 1
            return self._current_locked()

    def _end_after_refusal(self, seen_generation, refused):
        with self._lock:
            if self._generation != seen_generation:
                # A login or logout replaced this session while its Refresh
                # was in flight: the refusal is about a session already gone.
                return self._current_locked()
            self._pair = None
            self._generation += 1
            self._ended_reason = refused.message
            self._unreported_end = SessionEndedError(refused.message)
            raise self._unreported_end

    def _raise_if_ended_locked(self):
        # A new exception each time: one instance raised in several threads
        # would collect all their tracebacks.
        if self._ended_reason is not None:
            raise SessionEndedError(self._ended_reason)

    def _current_locked(self):
        self._raise_if_ended_locked()
        if self._pair is None:
            raise NotLoggedInError()
        return self._pair.access_token, self._generation

    def _report_end(self):
        with self._lock:
            ended, self._unreported_end = self._unreported_end, None
        if ended is None or self._on_ended is None:
            return
        try:
            self._on_ended(ended)
        except Exception:  # the program's bug must not replace the call's error
            logger.exception("on_session_ended raised")

