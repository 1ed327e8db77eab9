"""TLS options against a real auth_service that serves TLS with a test CA
and requires client certificates signed by it (AUTH_TLS_CLIENT_CA)."""

import unittest

import grpc

import stack
from tollgate_client import Client, RetryPolicy, TlsOptions, UnavailableError
from tollgate.auth.v1 import auth_pb2

NO_RETRIES = RetryPolicy(retries=0)


class TlsTest(unittest.TestCase):
    def client(self, tls):
        client = Client(stack.setting("TLS_AUTH_TARGET"), tls=tls, retry_policy=NO_RETRIES,
                        logout_on_exit=False)
        self.addCleanup(client.close)
        return client

    def test_ca_and_client_certificate_reach_the_service(self):
        client = self.client(TlsOptions(ca_file=stack.setting("TLS_CA"),
                                        cert_file=stack.setting("TLS_CLIENT_CERT"),
                                        key_file=stack.setting("TLS_CLIENT_KEY")))
        email = stack.register(client)
        self.assertEqual(client.login(email, stack.PASSWORD).email, email)
        me = client.call(client.auth.GetCurrentUser, auth_pb2.GetCurrentUserRequest())
        self.assertEqual(me.email, email)
        client.logout()

    def test_without_a_client_certificate_the_handshake_fails(self):
        client = self.client(TlsOptions(ca_file=stack.setting("TLS_CA")))
        with self.assertRaises(UnavailableError) as raised:
            client.call(client.auth.GetJwks, auth_pb2.GetJwksRequest())
        self.assertEqual(raised.exception.code, grpc.StatusCode.UNAVAILABLE)

    def test_a_server_certificate_from_another_ca_is_refused(self):
        client = self.client(TlsOptions(ca_file=stack.setting("TLS_OTHER_CA"),
                                        cert_file=stack.setting("TLS_CLIENT_CERT"),
                                        key_file=stack.setting("TLS_CLIENT_KEY")))
        with self.assertRaises(UnavailableError):
            client.call(client.auth.GetJwks, auth_pb2.GetJwksRequest())

    def test_plaintext_to_a_tls_port_fails(self):
        client = self.client(None)
        with self.assertRaises(UnavailableError):
            client.call(client.auth.GetJwks, auth_pb2.GetJwksRequest())

    def test_certificate_without_key_is_refused_at_construction(self):
        with self.assertRaises(ValueError):
            TlsOptions(cert_file=stack.setting("TLS_CLIENT_CERT"))


if __name__ == "__main__":
    unittest.main()
