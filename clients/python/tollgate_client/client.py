"""Client: a session with AuthService, and calls that carry its token.

Contract:
- register() and login() start a session (Register logs in too) and return
  the account's User message; logout() revokes it on the server (Logout,
  RFC 7009: OK even when the server no longer knew it) and forgets it;
  refresh() renews it now, or, given a saved refresh token, resumes that
  session.
- call(stub_method, request) makes a unary call on any stub (SumService,
  or a service of yours behind the tollgate interceptor; stub() makes one
  on a channel to its address) with `authorization: Bearer <token>`. The
  token is renewed before the call when it is due (proactive, see
  TokenPair), and when the server refuses the token itself
  (UNAUTHENTICATED with `www-authenticate: Bearer error="invalid_token"`)
  the token is renewed and the call sent once more (reactive). Never more
  than once: a second refusal is raised. Before any login the call goes
  out without a token. Streaming calls are the caller's (auth_metadata()):
  a retry would need the request stream again.
- Every RPC is retried on UNAVAILABLE as retry_policy says, each attempt
  with its own timeout_seconds; every failure is raised as the TollgateError
  subclass of its gRPC code (errors.py), never as a grpc.RpcError.
- When the session ends on its own (its refresh token refused), the call
  that found out raises SessionEndedError, on_session_ended(error) runs once,
  and every later call raises SessionEndedError without being sent, until
  the next login(). A logout() is not an end: no callback.
- Thread-safe: one Client is meant to be shared by every thread of a
  program, and however many threads find the token due, one Refresh is sent.
- As a context manager it closes its channels on exit, after a logout()
  unless logout_on_exit=False (to keep the session for later, save
  `tokens.refresh_token` and pass logout_on_exit=False).
"""

import logging
import threading
import time

import grpc

from .errors import (NotLoggedInError, SessionEndedError, TollgateError, error_from_rpc_error,
                     is_invalid_token)
from .protos import auth_pb2, auth_pb2_grpc
from .retry_policy import RetryPolicy
from .session import Session

logger = logging.getLogger("tollgate_client")

DEFAULT_RENEW_THRESHOLD_SECONDS = 300


class Client:
    """A session with AuthService shared by every thread; see the module
    docstring for the contract."""

    def __init__(self, target, *, renew_threshold_seconds=DEFAULT_RENEW_THRESHOLD_SECONDS,
                 timeout_seconds=10.0, retry_policy=None, tls=None, on_session_ended=None,
                 logout_on_exit=True, channel_options=()):
        """target: AuthService's gRPC address ("host:port", or any gRPC
        target). renew_threshold_seconds: renew when less than this is left
        of the access token, but at most half its lifetime; 0 turns
        proactive renewal off. timeout_seconds: each attempt of each call.
        tls: a TlsOptions for every channel, None for plaintext.
        channel_options: extra gRPC channel arguments."""
        self._retry_policy = retry_policy or RetryPolicy()
        self._timeout_seconds = timeout_seconds
        self._logout_on_exit = logout_on_exit
        self._tls = tls
        self._channel_options = [
            # Reconnect at the pace of the retries: gRPC's own first
            # reconnect waits 1 s, and until then every retry would fail at
            # once without trying the server.
            ("grpc.initial_reconnect_backoff_ms", int(self._retry_policy.initial_backoff_seconds * 1000)),
            ("grpc.max_reconnect_backoff_ms", int(self._retry_policy.max_backoff_seconds * 1000)),
            *(tls.channel_options() if tls is not None else []),
            *channel_options,
        ]
        self._channels = {}  # target -> grpc.Channel
        self._channels_lock = threading.Lock()
        self.auth = auth_pb2_grpc.AuthServiceStub(self.channel_to(target))
        self._session = Session(self._send_refresh, renew_threshold_seconds, on_session_ended)

    def channel_to(self, target):
        """The client's channel to `target` (made once, with the same TLS
        options and reconnect pace), for stubs of other services."""
        with self._channels_lock:
            channel = self._channels.get(target)
            if channel is None:
                if self._tls is None:
                    channel = grpc.insecure_channel(target, options=self._channel_options)
                else:
                    channel = grpc.secure_channel(target, self._tls.channel_credentials(),
                                                  options=self._channel_options)
                self._channels[target] = channel
            return channel

    def stub(self, stub_class, target):
        """stub_class (e.g. sum_pb2_grpc.SumServiceStub) on channel_to(target)."""
        return stub_class(self.channel_to(target))

    @property
    def tokens(self):
        """The current TokenPair (access_token, refresh_token, monotonic
        expires_at and renew_at), or None without a session."""
        return self._session.pair

    def register(self, email, password, first_name, last_name):
        request = auth_pb2.RegisterRequest(email=email, password=password,
                                           first_name=first_name, last_name=last_name)
        return self._start_session(self.auth.Register, request)

    def login(self, email, password):
        return self._start_session(self.auth.Login, auth_pb2.LoginRequest(email=email, password=password))

    def refresh(self, refresh_token=None):
        """Renews the session now; with refresh_token, resumes that saved
        session instead (SessionEndedError if the server refuses it)."""
        if refresh_token is None:
            self._session.renew_now()
            return
        sent_at = time.monotonic()
        try:
            response = self._send_refresh(refresh_token)
        except TollgateError as error:
            if error.code == grpc.StatusCode.UNAUTHENTICATED:
                raise SessionEndedError(error.message) from None
            raise
        self._session.start(response, sent_at)

    def logout(self, all_sessions=False):
        """Revokes this session (all_sessions: every session of the account)."""
        pair = self._session.pair
        if pair is None:
            raise NotLoggedInError()
        request = auth_pb2.LogoutRequest(refresh_token=pair.refresh_token, all_sessions=all_sessions)
        self._unary(self.auth.Logout, request, metadata=())
        self._session.end()

    def call(self, stub_method, request, *, timeout_seconds=None, metadata=()):
        token, generation = self._session.token_for_call()
        try:
            return self._unary_raw(stub_method, request, _with_token(metadata, token), timeout_seconds)
        except grpc.RpcError as error:
            if token is None or not is_invalid_token(error):
                raise error_from_rpc_error(error) from None
            logger.info("%s: token refused (%s); renewing and sending once more",
                        _method_name(stub_method), error.details())
        token, _ = self._session.renew_after_refusal(generation)
        return self._unary(stub_method, request, _with_token(metadata, token), timeout_seconds)

    def auth_metadata(self):
        """(("authorization", "Bearer ..."),) with the token renewed if due
        (empty before any login), for streaming calls."""
        token, _ = self._session.token_for_call()
        return _with_token((), token)

    def close(self):
        with self._channels_lock:
            channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            channel.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        try:
            if self._logout_on_exit and self._session.pair is not None:
                try:
                    self.logout()
                except TollgateError as error:
                    logger.warning("logout on exit failed: %s", error)
        finally:
            self.close()
        return False

    def _start_session(self, stub_method, request):
        sent_at = time.monotonic()
        response = self._unary(stub_method, request, metadata=())
        self._session.start(response, sent_at)
        return response.user

    def _send_refresh(self, refresh_token):
        return self._unary(self.auth.Refresh, auth_pb2.RefreshRequest(refresh_token=refresh_token),
                           metadata=())

    def _unary(self, stub_method, request, metadata, timeout_seconds=None):
        try:
            return self._unary_raw(stub_method, request, metadata, timeout_seconds)
        except grpc.RpcError as error:
            raise error_from_rpc_error(error) from None

    def _unary_raw(self, stub_method, request, metadata, timeout_seconds):
        timeout = self._timeout_seconds if timeout_seconds is None else timeout_seconds
        return self._retry_policy.run(
            lambda: stub_method(request, timeout=timeout, metadata=metadata),
            _method_name(stub_method))


def _with_token(metadata, token):
    if token is None:
        return tuple(metadata)
    return (*metadata, ("authorization", "Bearer " + token))


def _method_name(stub_method):
    # grpc's multi-callables keep the path in a private field; it only
    # names the call in log lines.
    name = getattr(stub_method, "_method", b"call")
    return name.decode() if isinstance(name, bytes) else str(name)

