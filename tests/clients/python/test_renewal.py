"""Renewal against the real services (access tokens live 3 s, and both
services have TOKEN_LEEWAY=0, so an expired token is refused at once):

- proactive: several threads share one Client through several token
  lifetimes; zero failed calls, and AuthService counts one Refresh per
  lifetime crossed, not one per thread;
- reactive: with proactive renewal off, an expired token is refused once,
  renewed, and the call sent again;
- a session revoked by a Logout elsewhere: one SessionEndedError per call,
  the callback once, one Refresh sent, no call sent with the dead session.

Calls are counted by the services themselves (grpc_server_handled_total on
their /metrics). The waits are real: they wait for tokens to age.
"""

import threading
import time
import unittest

import stack
from tollgate_client import DEFAULT_RENEW_THRESHOLD_SECONDS, Client, SessionEndedError
from tollgate.sum.v1 import sum_pb2, sum_pb2_grpc

THREADS = 4
CALLS_PER_THREAD = 10
# Lifetimes the proactive test crosses: in even ones the threads call
# while the token is due but valid, in odd ones after it expired.
LIFETIMES = 6


def sleep_until(monotonic_time):
    time.sleep(max(0.0, monotonic_time - time.monotonic()))


def in_threads(count, work):
    """work(thread_number) in `count` threads released together; the
    exceptions they raised."""
    barrier = threading.Barrier(count)
    errors = []
    errors_lock = threading.Lock()

    def run(number):
        barrier.wait()
        try:
            work(number)
        except Exception as error:  # collected and asserted by the test
            with errors_lock:
                errors.append(error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


class RenewalTest(unittest.TestCase):
    def setUp(self):
        self.clients = []
        self.ended = []

    def tearDown(self):
        for client in self.clients:
            client.close()

    def new_client(self, **options):
        client = Client(stack.auth_target(), logout_on_exit=False,
                        on_session_ended=self.ended.append, **options)
        self.clients.append(client)
        return client, client.stub(sum_pb2_grpc.SumServiceStub, stack.sum_target())

    def sum_calls(self, client, sums, first, count):
        for number in range(count):
            result = client.call(sums.Sum, sum_pb2.SumRequest(a=first, b=number)).result
            self.assertEqual(result, first + number)

    def test_proactive_renewal_across_lifetimes_refreshes_once_per_lifetime(self):
        self.assertGreater(DEFAULT_RENEW_THRESHOLD_SECONDS, stack.access_ttl_seconds())
        client, sums = self.new_client()  # default threshold, above the lifetime
        stack.register(client)
        refreshes = stack.auth_calls("Refresh")
        refused_refreshes = stack.auth_calls("Refresh", "Unauthenticated")
        ok_sums = stack.sum_calls("Sum")
        refused_sums = stack.sum_calls("Sum", "Unauthenticated")
        started = time.monotonic()

        for lifetime in range(LIFETIMES):
            pair = client.tokens
            expired = lifetime % 2 == 1
            # Due: the estimate of expires_at can be a second late (iat is
            # whole seconds), so the token has at least 0.45 s left here.
            sleep_until(pair.expires_at + 0.1 if expired else pair.renew_at + 0.05)
            errors = in_threads(THREADS, lambda thread: self.sum_calls(
                client, sums, 1000 * lifetime + 100 * thread, CALLS_PER_THREAD))
            self.assertEqual(errors, [], f"lifetime {lifetime}")
            self.assertIsNot(client.tokens, pair, f"lifetime {lifetime}: not renewed")
            self.assertEqual(refreshes.delta(), lifetime + 1,
                             f"lifetime {lifetime} ({'expired' if expired else 'due'})")

        elapsed = time.monotonic() - started
        self.assertEqual(ok_sums.delta(), LIFETIMES * THREADS * CALLS_PER_THREAD)
        self.assertEqual(refused_sums.delta(), 0)
        self.assertEqual(refused_refreshes.delta(), 0)
        self.assertEqual(self.ended, [])
        print(f"\nproactive: {THREADS} threads, {LIFETIMES * THREADS * CALLS_PER_THREAD} Sum calls "
              f"over {elapsed:.1f} s ({elapsed / stack.access_ttl_seconds():.1f} token lifetimes), "
              f"{refreshes.delta()} Refresh calls, 0 failed", flush=True)

    def test_reactive_renewal_sends_a_refused_call_once_more(self):
        client, sums = self.new_client(renew_threshold_seconds=0)
        stack.register(client)
        self.sum_calls(client, sums, 1, 1)
        refreshes = stack.auth_calls("Refresh")
        ok_sums = stack.sum_calls("Sum")
        refused_sums = stack.sum_calls("Sum", "Unauthenticated")

        sleep_until(client.tokens.expires_at + 0.1)
        self.sum_calls(client, sums, 2, 1)

        self.assertEqual(refused_sums.delta(), 1)  # the expired token, refused once
        self.assertEqual(refreshes.delta(), 1)
        self.assertEqual(ok_sums.delta(), 1)  # the same call, sent again

    def test_reactive_renewal_refreshes_once_for_all_threads(self):
        client, sums = self.new_client(renew_threshold_seconds=0)
        stack.register(client)
        refreshes = stack.auth_calls("Refresh")
        ok_sums = stack.sum_calls("Sum")
        refused_sums = stack.sum_calls("Sum", "Unauthenticated")

        sleep_until(client.tokens.expires_at + 0.1)
        errors = in_threads(THREADS, lambda thread: self.sum_calls(
            client, sums, 100 * thread, CALLS_PER_THREAD))

        self.assertEqual(errors, [])
        self.assertEqual(refreshes.delta(), 1)
        # Each thread's first call may have gone out with the expired token
        # before the one Refresh replaced it; none is sent twice more.
        self.assertIn(refused_sums.delta(), range(1, THREADS + 1))
        self.assertEqual(ok_sums.delta(), THREADS * CALLS_PER_THREAD)

    def revoke_elsewhere(self, email):
        """Logs the account out of every session from another client."""
        elsewhere, _ = self.new_client()
        elsewhere.login(email, stack.PASSWORD)
        elsewhere.logout(all_sessions=True)

    def test_session_revoked_elsewhere_ends_once_without_a_retry_storm(self):
        client, sums = self.new_client()
        email = stack.register(client)
        self.revoke_elsewhere(email)
        refreshes = stack.auth_calls("Refresh")
        refused_refreshes = stack.auth_calls("Refresh", "Unauthenticated")
        ok_sums = stack.sum_calls("Sum")
        refused_sums = stack.sum_calls("Sum", "Unauthenticated")

        sleep_until(client.tokens.expires_at + 0.1)
        errors = in_threads(THREADS, lambda thread: [
            self.assertRaises(SessionEndedError, client.call, sums.Sum, sum_pb2.SumRequest(a=1, b=2))
            for _ in range(CALLS_PER_THREAD)])

        self.assertEqual(errors, [])
        self.assertEqual(refused_refreshes.delta(), 1)  # one Refresh for every thread
        self.assertEqual(refreshes.delta(), 0)
        self.assertEqual((ok_sums.delta(), refused_sums.delta()), (0, 0))  # nothing sent dead
        self.assertEqual(len(self.ended), 1)
        self.assertIsInstance(self.ended[0], SessionEndedError)
        self.assertEqual(self.ended[0].message, "session ended: invalid refresh token")
        self.assertIsNone(client.tokens)

        client.login(email, stack.PASSWORD)  # a new session works
        self.sum_calls(client, sums, 7, 2)
        self.assertEqual(len(self.ended), 1)

    def test_session_revoked_elsewhere_found_by_a_refused_call(self):
        client, sums = self.new_client(renew_threshold_seconds=0)
        email = stack.register(client)
        self.revoke_elsewhere(email)
        refused_refreshes = stack.auth_calls("Refresh", "Unauthenticated")
        refused_sums = stack.sum_calls("Sum", "Unauthenticated")

        sleep_until(client.tokens.expires_at + 0.1)
        for _ in range(20):
            with self.assertRaises(SessionEndedError) as raised:
                client.call(sums.Sum, sum_pb2.SumRequest(a=1, b=2))
            self.assertEqual(str(raised.exception),
                             "UNAUTHENTICATED: session ended: invalid refresh token")

        self.assertEqual(refused_sums.delta(), 1)  # the expired token, once
        self.assertEqual(refused_refreshes.delta(), 1)
        self.assertEqual(len(self.ended), 1)


if __name__ == "__main__":
    unittest.main()
