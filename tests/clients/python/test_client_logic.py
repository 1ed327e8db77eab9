"""The client's logic without a server: reading a token's lifetime, when a
pair is due, the retry schedule, typed errors, and the Session's single
flight, end and outage rules under a fake clock and a fake Refresh."""

import base64
import json
import threading
import unittest

import grpc

from tollgate_client import (RetryPolicy, SessionEndedError, TokenPair, UnauthenticatedError,
                             UnavailableError, decode_unverified_claims)
from tollgate_client.errors import (AlreadyExistsError, OutOfRangeError, TollgateError,
                                    error_from_rpc_error, is_invalid_token)
from tollgate_client.protos import auth_pb2
from tollgate_client.session import Session


def make_token(claims):
    """An unsigned compact JWS-shaped token with `claims` (the client never
    verifies signatures, so none is needed)."""
    def segment(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{segment({'alg': 'ES256', 'typ': 'at+jwt'})}.{segment(claims)}.c2ln"


def auth_response(number, lifetime=3, expires_in=None):
    """Token pair number `number`: access token with iat 1000, exp 1000+lifetime."""
    return auth_pb2.AuthResponse(
        access_token=make_token({"sub": "u", "iat": 1000, "exp": 1000 + lifetime, "n": number}),
        refresh_token=f"tgr_{number}", token_type="Bearer",
        expires_in=lifetime if expires_in is None else expires_in)


class FakeClock:
    def __init__(self, now=100.0):
        self.now = now

    def __call__(self):
        return self.now


class FakeRpcError(grpc.RpcError):
    def __init__(self, code, details, trailers=()):
        super().__init__()
        self._code, self._details, self._trailers = code, details, trailers

    def code(self):
        return self._code

    def details(self):
        return self._details

    def trailing_metadata(self):
        return self._trailers


class TokenPairTest(unittest.TestCase):
    def test_decodes_claims_without_verifying(self):
        self.assertEqual(decode_unverified_claims(make_token({"exp": 5, "iat": 2})), {"exp": 5, "iat": 2})

    def test_refuses_what_is_not_a_jws_with_a_json_object(self):
        self.assertIsNone(decode_unverified_claims("only.two"))
        self.assertIsNone(decode_unverified_claims("a.!!!.c"))
        not_object = base64.urlsafe_b64encode(b"[1,2]").rstrip(b"=").decode()
        self.assertIsNone(decode_unverified_claims(f"a.{not_object}.c"))

    def test_threshold_above_the_lifetime_renews_at_half_life(self):
        pair = TokenPair.from_response(auth_response(1, lifetime=3), sent_at=50.0,
                                       renew_threshold_seconds=300)
        self.assertEqual(pair.expires_at, 53.0)
        self.assertEqual(pair.renew_at, 51.5)

    def test_threshold_below_half_the_lifetime_is_used_as_is(self):
        pair = TokenPair.from_response(auth_response(1, lifetime=900), sent_at=0.0,
                                       renew_threshold_seconds=300)
        self.assertEqual(pair.renew_at, 600.0)

    def test_threshold_zero_turns_proactive_renewal_off(self):
        pair = TokenPair.from_response(auth_response(1), sent_at=0.0, renew_threshold_seconds=0)
        self.assertEqual(pair.renew_at, float("inf"))

    def test_opaque_token_falls_back_to_expires_in(self):
        response = auth_pb2.AuthResponse(access_token="opaque", refresh_token="r", expires_in=60)
        pair = TokenPair.from_response(response, sent_at=10.0, renew_threshold_seconds=300)
        self.assertEqual((pair.expires_at, pair.renew_at), (70.0, 40.0))


class RetryPolicyTest(unittest.TestCase):
    def test_backoff_doubles_up_to_the_cap_without_jitter(self):
        policy = RetryPolicy(initial_backoff_seconds=0.1, max_backoff_seconds=1.0, jitter=0)
        self.assertEqual([round(policy.backoff_seconds(n), 6) for n in range(6)],
                         [0.1, 0.2, 0.4, 0.8, 1.0, 1.0])

    def test_jitter_stays_within_its_band(self):
        policy = RetryPolicy(initial_backoff_seconds=1.0, max_backoff_seconds=1.0, jitter=0.2)
        for _ in range(200):
            self.assertTrue(0.8 <= policy.backoff_seconds(0) <= 1.2)

    def test_retries_only_unavailable(self):
        sleeps = []
        policy = RetryPolicy(retries=2, jitter=0, sleep=sleeps.append)
        attempts = []

        def fails_with(code):
            def attempt():
                attempts.append(code)
                raise FakeRpcError(code, "no")
            return attempt

        with self.assertRaises(grpc.RpcError):
            policy.run(fails_with(grpc.StatusCode.DEADLINE_EXCEEDED), "call")
        self.assertEqual((len(attempts), sleeps), (1, []))
        attempts.clear()
        with self.assertLogs("tollgate_client", "WARNING") as logs:
            with self.assertRaises(grpc.RpcError):
                policy.run(fails_with(grpc.StatusCode.UNAVAILABLE), "call")
        self.assertEqual(len(attempts), 3)
        self.assertEqual([record.getMessage() for record in logs.records],
                         ["call: UNAVAILABLE (no), retry 1 of 2 in 0.100 s",
                          "call: UNAVAILABLE (no), retry 2 of 2 in 0.200 s"])
        self.assertEqual([round(s, 6) for s in sleeps], [0.1, 0.2])

    def test_rejects_nonsense(self):
        for arguments in ({"retries": -1}, {"initial_backoff_seconds": 0},
                          {"initial_backoff_seconds": 2, "max_backoff_seconds": 1},
                          {"multiplier": 0.5}, {"jitter": 1}):
            with self.assertRaises(ValueError, msg=arguments):
                RetryPolicy(**arguments)


class ErrorsTest(unittest.TestCase):
    def test_each_code_has_its_class_with_code_and_message(self):
        error = error_from_rpc_error(FakeRpcError(grpc.StatusCode.ALREADY_EXISTS, "email taken"))
        self.assertIsInstance(error, AlreadyExistsError)
        self.assertEqual((error.code, error.message), (grpc.StatusCode.ALREADY_EXISTS, "email taken"))
        self.assertEqual(str(error), "ALREADY_EXISTS: email taken")
        self.assertIsInstance(error_from_rpc_error(FakeRpcError(grpc.StatusCode.OUT_OF_RANGE, "")),
                              OutOfRangeError)

    def test_only_the_interceptor_challenge_marks_a_refused_token(self):
        challenge = (("www-authenticate", 'Bearer error="invalid_token", error_description="token expired"'),)
        self.assertTrue(is_invalid_token(FakeRpcError(grpc.StatusCode.UNAUTHENTICATED, "token expired", challenge)))
        self.assertFalse(is_invalid_token(FakeRpcError(grpc.StatusCode.UNAUTHENTICATED, "invalid email or password")))
        self.assertFalse(is_invalid_token(FakeRpcError(grpc.StatusCode.PERMISSION_DENIED, "no", challenge)))


class FakeRefresh:
    """Refresh RPC stand-in: counts calls, answers pair n+1, or raises
    `error`; blocks until `release` is set when `gate` is on."""

    def __init__(self):
        self.calls = 0
        self.error = None
        self.gate = False
        self.entered = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, refresh_token):
        with self._lock:
            self.calls += 1
            number = self.calls + 1
        self.entered.set()
        if self.gate:
            self.release.wait(10)
        if self.error is not None:
            raise self.error
        return auth_response(number)


class SessionTest(unittest.TestCase):
    def setUp(self):
        self.clock = FakeClock(100.0)
        self.refresh = FakeRefresh()
        self.ended = []
        self.session = Session(self.refresh, renew_threshold_seconds=300,
                               on_ended=self.ended.append, clock=self.clock)
        self.session.start(auth_response(1), sent_at=100.0)  # expires 103, due 101.5

    def token_number(self, token):
        return decode_unverified_claims(token)["n"]

    def in_threads(self, count, function):
        results, errors = [], []
        barrier = threading.Barrier(count)

        def run():
            barrier.wait()
            try:
                results.append(function())
            except Exception as error:  # collected and asserted by the test
                errors.append(error)
        threads = [threading.Thread(target=run) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        return results, errors

    def test_a_fresh_token_is_used_without_refresh(self):
        token, _ = self.session.token_for_call()
        self.assertEqual((self.token_number(token), self.refresh.calls), (1, 0))

    def test_expired_token_is_renewed_once_for_many_threads(self):
        self.clock.now = 103.5
        results, errors = self.in_threads(8, lambda: self.session.token_for_call()[0])
        self.assertEqual(errors, [])
        self.assertEqual([self.token_number(token) for token in results], [2] * 8)
        self.assertEqual(self.refresh.calls, 1)

    def test_due_but_valid_token_keeps_serving_while_one_thread_renews(self):
        self.clock.now = 102.0
        self.refresh.gate = True
        renewer = threading.Thread(target=self.session.token_for_call)
        renewer.start()
        self.assertTrue(self.refresh.entered.wait(10))
        token, _ = self.session.token_for_call()  # does not wait for the Refresh in flight
        self.assertEqual(self.token_number(token), 1)
        self.refresh.release.set()
        renewer.join(10)
        self.assertEqual(self.token_number(self.session.token_for_call()[0]), 2)
        self.assertEqual(self.refresh.calls, 1)

    def test_refusal_of_a_replaced_token_needs_no_refresh(self):
        _, old_generation = self.session.token_for_call()
        self.session.renew_now()
        token, _ = self.session.renew_after_refusal(old_generation)
        self.assertEqual((self.token_number(token), self.refresh.calls), (2, 1))

    def test_refused_refresh_ends_the_session_once(self):
        self.refresh.error = UnauthenticatedError(grpc.StatusCode.UNAUTHENTICATED, "invalid refresh token")
        self.clock.now = 104.0
        _, errors = self.in_threads(6, self.session.token_for_call)
        self.assertEqual(len(errors), 6)
        for error in errors:
            self.assertIsInstance(error, SessionEndedError)
            self.assertEqual(error.message, "session ended: invalid refresh token")
            self.assertEqual(error.code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(self.refresh.calls, 1)
        self.assertEqual(len(self.ended), 1)
        with self.assertRaises(SessionEndedError):
            self.session.token_for_call()
        self.assertEqual((self.refresh.calls, len(self.ended)), (1, 1))
        self.session.start(auth_response(9), sent_at=104.0)  # a new login
        self.assertEqual(self.token_number(self.session.token_for_call()[0]), 9)

    def test_a_failing_callback_does_not_replace_the_error(self):
        def broken_callback(error):
            raise RuntimeError("bug in the program")
        session = Session(self.refresh, renew_threshold_seconds=300, on_ended=broken_callback,
                          clock=self.clock)
        session.start(auth_response(1), sent_at=100.0)
        self.refresh.error = UnauthenticatedError(grpc.StatusCode.UNAUTHENTICATED, "invalid refresh token")
        self.clock.now = 104.0
        with self.assertLogs("tollgate_client", "ERROR"):
            with self.assertRaises(SessionEndedError):
                session.token_for_call()

    def test_outage_during_proactive_renewal_keeps_the_valid_token(self):
        self.refresh.error = UnavailableError(grpc.StatusCode.UNAVAILABLE, "down")
        self.clock.now = 102.0
        with self.assertLogs("tollgate_client", "WARNING") as logs:
            self.assertEqual(self.token_number(self.session.token_for_call()[0]), 1)
        self.assertEqual([record.getMessage() for record in logs.records],
                         ["proactive renewal failed (UNAVAILABLE: down); the current token is still valid"])
        self.clock.now = 103.0
        with self.assertRaises(UnavailableError):
            self.session.token_for_call()
        self.assertEqual((self.refresh.calls, self.ended), (2, []))

    def test_login_during_a_refresh_wins(self):
        self.clock.now = 104.0
        self.refresh.gate = True
        renewer = threading.Thread(target=self.session.token_for_call)
        renewer.start()
        self.assertTrue(self.refresh.entered.wait(10))
        self.session.start(auth_response(7), sent_at=104.0)
        self.refresh.release.set()
        renewer.join(10)
        self.assertEqual(self.token_number(self.session.pair.access_token), 7)


if __name__ == "__main__":
    unittest.main()
