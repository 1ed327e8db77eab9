"""Faults the real services do not produce on demand, against a port where
nothing listens and a small in-process AuthService stand-in (grpcio's
server) that can come up late, be slow, or refuse every token:

- UNAVAILABLE retried with the configured backoff, then raised typed;
- a server that comes up while the client backs off is reached;
- DEADLINE_EXCEEDED raised typed and not retried (the call may have run);
- a token refused again after its renewal is raised, not renewed again.
All on 127.0.0.1, with a bounded number of attempts.
"""

import base64
import json
import threading
import time
import unittest
from concurrent import futures

import grpc

import stack
from tollgate_client import (Client, DeadlineExceededError, RetryPolicy, UnauthenticatedError,
                            UnavailableError)
from tollgate.auth.v1 import auth_pb2, auth_pb2_grpc

INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token", error_description="invalid token: unknown kid"'


def unsigned_token(lifetime_seconds):
    def segment(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    now = int(time.time())
    return (f"{segment({'alg': 'ES256', 'typ': 'at+jwt'})}."
            f"{segment({'sub': 'fake', 'iat': now, 'exp': now + lifetime_seconds})}.c2ln")


class StandInAuthService(auth_pb2_grpc.AuthServiceServicer):
    """Counts calls per method. Login and Refresh hand out 300-second
    tokens; GetJwks waits `jwks_delay_seconds`; GetCurrentUser refuses
    every token the way the tollgate interceptor does."""

    def __init__(self):
        self.calls = {}
        self.jwks_delay_seconds = 0.0
        self._lock = threading.Lock()

    def count(self, method):
        with self._lock:
            return self.calls.get(method, 0)

    def _called(self, method):
        with self._lock:
            self.calls[method] = self.calls.get(method, 0) + 1

    def _pair(self):
        return auth_pb2.AuthResponse(access_token=unsigned_token(300), token_type="Bearer",
                                     expires_in=300, refresh_token="tgr_fake")

    def Login(self, request, context):
        self._called("Login")
        return self._pair()

    def Refresh(self, request, context):
        self._called("Refresh")
        return self._pair()

    def GetJwks(self, request, context):
        self._called("GetJwks")
        time.sleep(self.jwks_delay_seconds)
        return auth_pb2.GetJwksResponse(jwks_json='{"keys":[]}')

    def GetCurrentUser(self, request, context):
        self._called("GetCurrentUser")
        context.set_trailing_metadata((("www-authenticate", INVALID_TOKEN_CHALLENGE),))
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid token: unknown kid")


def start_stand_in(port, service):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    auth_pb2_grpc.add_AuthServiceServicer_to_server(service, server)
    if server.add_insecure_port(f"127.0.0.1:{port}") != port:
        raise RuntimeError(f"cannot listen on 127.0.0.1:{port}")
    server.start()
    return server


class RecordingSleep:
    """RetryPolicy.sleep that records each delay, really waits it, and runs
    `on_sleep(number)` first (number counts from 1)."""

    def __init__(self, on_sleep=None):
        self.delays = []
        self._on_sleep = on_sleep

    def __call__(self, seconds):
        self.delays.append(seconds)
        if self._on_sleep is not None:
            self._on_sleep(len(self.delays))
        time.sleep(seconds)


class FaultsTest(unittest.TestCase):
    def setUp(self):
        self.port = stack.unused_port()
        self.target = f"127.0.0.1:{self.port}"
        self.service = StandInAuthService()
        self.servers = []
        self.clients = []

    def tearDown(self):
        for client in self.clients:
            client.close()
        for server in self.servers:
            server.stop(grace=None)

    def new_client(self, **options):
        client = Client(self.target, logout_on_exit=False, **options)
        self.clients.append(client)
        return client

    def test_unavailable_is_retried_with_backoff_then_raised(self):
        sleep = RecordingSleep()
        client = self.new_client(retry_policy=RetryPolicy(
            retries=3, initial_backoff_seconds=0.05, max_backoff_seconds=0.15, multiplier=2,
            jitter=0, sleep=sleep))
        started = time.monotonic()
        with self.assertLogs("tollgate_client", "WARNING") as logs:
            with self.assertRaises(UnavailableError) as raised:
                client.login("nobody@example.com", stack.PASSWORD)
        self.assertEqual(raised.exception.code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual([round(delay, 6) for delay in sleep.delays], [0.05, 0.1, 0.15])
        self.assertEqual([record.getMessage().split(": UNAVAILABLE")[0] for record in logs.records],
                         ["/tollgate.auth.v1.AuthService/Login"] * 3)
        self.assertIn("retry 3 of 3 in 0.150 s", logs.records[-1].getMessage())
        self.assertLess(time.monotonic() - started, 10)

    def test_no_retries_means_one_attempt(self):
        sleep = RecordingSleep()
        client = self.new_client(retry_policy=RetryPolicy(retries=0, sleep=sleep))
        with self.assertRaises(UnavailableError):
            client.call(client.auth.GetJwks, auth_pb2.GetJwksRequest())
        self.assertEqual(sleep.delays, [])

    def test_a_server_that_comes_up_during_the_backoff_is_reached(self):
        def come_up_on_second_wait(number):
            if number == 2:
                self.servers.append(start_stand_in(self.port, self.service))
        sleep = RecordingSleep(come_up_on_second_wait)
        client = self.new_client(retry_policy=RetryPolicy(
            retries=8, initial_backoff_seconds=0.05, max_backoff_seconds=0.2, jitter=0, sleep=sleep))
        reply = client.call(client.auth.GetJwks, auth_pb2.GetJwksRequest())
        self.assertEqual(reply.jwks_json, '{"keys":[]}')
        self.assertGreaterEqual(len(sleep.delays), 2)  # at least two attempts failed first
        self.assertLess(len(sleep.delays), 8)  # and it did not need the whole budget
        self.assertEqual(self.service.count("GetJwks"), 1)

    def test_deadline_exceeded_is_raised_typed_and_not_retried(self):
        self.servers.append(start_stand_in(self.port, self.service))
        self.service.jwks_delay_seconds = 0.5
        client = self.new_client(timeout_seconds=0.1)
        with self.assertRaises(DeadlineExceededError) as raised:
            client.call(client.auth.GetJwks, auth_pb2.GetJwksRequest())
        self.assertEqual(raised.exception.code, grpc.StatusCode.DEADLINE_EXCEEDED)
        time.sleep(0.6)  # let the slow handler finish before counting
        self.assertEqual(self.service.count("GetJwks"), 1)

    def test_a_token_refused_after_renewal_is_raised_not_renewed_again(self):
        self.servers.append(start_stand_in(self.port, self.service))
        client = self.new_client()
        client.login("someone@example.com", stack.PASSWORD)
        with self.assertRaises(UnauthenticatedError) as raised:
            client.call(client.auth.GetCurrentUser, auth_pb2.GetCurrentUserRequest())
        self.assertEqual(raised.exception.message, "invalid token: unknown kid")
        self.assertEqual(self.service.count("GetCurrentUser"), 2)
        self.assertEqual(self.service.count("Refresh"), 1)


if __name__ == "__main__":
    unittest.main()
