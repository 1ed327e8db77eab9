"""A session's life through the Python client against the real services:
register, login, Sum, logout, resuming from a saved refresh token, the
context manager, and the typed error of each code the services answer."""

import unittest

import grpc

import stack
from tollgate_client import (AlreadyExistsError, Client, InvalidArgumentError, NotLoggedInError,
                             OutOfRangeError, PermissionDeniedError, SessionEndedError,
                             TollgateError, UnauthenticatedError)
from tollgate.auth.v1 import auth_pb2
from tollgate.sum.v1 import sum_pb2, sum_pb2_grpc

INT64_MAX = 2**63 - 1


class SessionFlowTest(unittest.TestCase):
    def setUp(self):
        self.client = Client(stack.auth_target(), logout_on_exit=False)
        self.sums = self.client.stub(sum_pb2_grpc.SumServiceStub, stack.sum_target())

    def tearDown(self):
        self.client.close()

    def test_register_login_sum_logout(self):
        email = stack.new_email()
        registered = self.client.register(email, stack.PASSWORD, "Ada", "Lovelace")
        self.assertEqual(registered.email, email)
        self.assertEqual(list(registered.roles), ["user"])
        self.assertEqual(self.client.call(self.sums.Sum, sum_pb2.SumRequest(a=40, b=2)).result, 42)

        user = self.client.login(email, stack.PASSWORD)
        self.assertEqual(user.id, registered.id)
        me = self.client.call(self.client.auth.GetCurrentUser, auth_pb2.GetCurrentUserRequest())
        self.assertEqual((me.id, me.email), (registered.id, email))
        spent = self.client.tokens.refresh_token

        self.client.logout()
        self.assertIsNone(self.client.tokens)
        # Logged out, a call goes without a token and the interceptor says so.
        with self.assertRaises(UnauthenticatedError) as refused:
            self.client.call(self.sums.Sum, sum_pb2.SumRequest(a=1, b=1))
        self.assertNotIsInstance(refused.exception, SessionEndedError)
        self.assertEqual(refused.exception.message,
                         "authorization metadata is required: send 'authorization: Bearer <token>'")
        # The server revoked the session: its refresh token no longer resumes it.
        with self.assertRaises(SessionEndedError) as ended:
            self.client.refresh(spent)
        self.assertEqual(ended.exception.message, "session ended: invalid refresh token")

    def test_resumes_a_saved_session(self):
        stack.register(self.client)
        saved = self.client.tokens.refresh_token
        with Client(stack.auth_target(), logout_on_exit=False) as later:
            later.refresh(saved)
            self.assertNotEqual(later.tokens.refresh_token, saved)  # rotated
            sums = later.stub(sum_pb2_grpc.SumServiceStub, stack.sum_target())
            self.assertEqual(later.call(sums.Sum, sum_pb2.SumRequest(a=2, b=3)).result, 5)

    def test_context_manager_logs_out_on_exit(self):
        with Client(stack.auth_target()) as scoped:
            stack.register(scoped)
            saved = scoped.tokens.refresh_token
        with self.assertRaises(SessionEndedError):
            self.client.refresh(saved)

    def test_refresh_and_logout_need_a_session(self):
        with self.assertRaises(NotLoggedInError):
            self.client.refresh()
        with self.assertRaises(NotLoggedInError):
            self.client.logout()


class TypedErrorsTest(unittest.TestCase):
    """Each failure is a TollgateError subclass with the gRPC code and the
    server's message; none is renewed or retried."""

    @classmethod
    def setUpClass(cls):
        cls.client = Client(stack.auth_target(), logout_on_exit=False)
        cls.email = stack.register(cls.client)
        cls.sums = cls.client.stub(sum_pb2_grpc.SumServiceStub, stack.sum_target())

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def assertError(self, raised, error_class, code, message):
        self.assertIs(type(raised), error_class)
        self.assertIsInstance(raised, TollgateError)
        self.assertEqual((raised.code, raised.message), (code, message))

    def test_email_taken_is_already_exists(self):
        with self.assertRaises(AlreadyExistsError) as raised:
            self.client.register(self.email, stack.PASSWORD, "Ada", "Lovelace")
        self.assertError(raised.exception, AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS,
                         "email: an account with this email already exists")

    def test_malformed_email_is_invalid_argument(self):
        with self.assertRaises(InvalidArgumentError) as raised:
            self.client.register("not-an-email", stack.PASSWORD, "Ada", "Lovelace")
        self.assertEqual(raised.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(raised.exception.message.startswith("email: "), raised.exception.message)

    def test_wrong_password_is_unauthenticated_and_renews_nothing(self):
        refreshes = stack.auth_calls("Refresh")
        logins = stack.auth_calls("Login", "Unauthenticated")
        wrong = auth_pb2.LoginRequest(email=self.email, password="not the password")
        with self.assertRaises(UnauthenticatedError) as raised:
            self.client.call(self.client.auth.Login, wrong)
        self.assertError(raised.exception, UnauthenticatedError, grpc.StatusCode.UNAUTHENTICATED,
                         "invalid email or password")
        # No www-authenticate challenge: not a token problem, so no renewal
        # and no second Login.
        self.assertEqual((refreshes.delta(), logins.delta()), (0, 1))

    def test_missing_role_is_permission_denied(self):
        with self.assertRaises(PermissionDeniedError) as raised:
            self.client.call(self.sums.GetUsage, sum_pb2.GetUsageRequest())
        self.assertError(raised.exception, PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED,
                         "method tollgate.sum.v1.SumService/GetUsage requires role 'admin'")

    def test_overflow_is_out_of_range(self):
        with self.assertRaises(OutOfRangeError) as raised:
            self.client.call(self.sums.Sum, sum_pb2.SumRequest(a=INT64_MAX, b=1))
        self.assertError(raised.exception, OutOfRangeError, grpc.StatusCode.OUT_OF_RANGE,
                         "the sum does not fit in int64")


if __name__ == "__main__":
    unittest.main()
