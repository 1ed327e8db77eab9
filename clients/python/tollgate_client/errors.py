"""Typed errors: one class per gRPC status code a tollgate call can end with.

Every error the client raises for a failed call is a TollgateError that
carries the gRPC `code` (a grpc.StatusCode) and the server's `message`, so
programs branch on the class (`except PermissionDeniedError`) or on the code,
never on message text. SessionEndedError is an UnauthenticatedError raised
when the session's refresh token is refused: the user must log in again.
"""

import grpc


class TollgateError(Exception):
    """A call that did not succeed: its gRPC code and the server's message."""

    def __init__(self, code, message):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message


class CancelledError(TollgateError):
    pass


class UnknownError(TollgateError):
    pass


class InvalidArgumentError(TollgateError):
    """A field broke a rule; the message names the field and why."""


class DeadlineExceededError(TollgateError):
    """The call took longer than its timeout. It may still have run."""


class NotFoundError(TollgateError):
    pass


class AlreadyExistsError(TollgateError):
    """Register with an email that is taken."""


class PermissionDeniedError(TollgateError):
    """The caller is known but lacks the role, or the account is deactivated."""


class ResourceExhaustedError(TollgateError):
    """Too much work queued, or Login throttled ("retry after N s")."""


class FailedPreconditionError(TollgateError):
    pass


class AbortedError(TollgateError):
    pass


class OutOfRangeError(TollgateError):
    """Sum overflowed int64."""


class UnimplementedError(TollgateError):
    pass


class InternalError(TollgateError):
    pass


class UnavailableError(TollgateError):
    """The server could not be reached (after the configured retries)."""


class DataLossError(TollgateError):
    pass


class UnauthenticatedError(TollgateError):
    """The server could not identify the caller (bad login, bad token)."""


class SessionEndedError(UnauthenticatedError):
    """The session is over: its refresh token was refused (revoked by a
    Logout elsewhere, expired, or the account deactivated). Every call fails
    with this error, without reaching the network, until the next login."""

    def __init__(self, message):
        super().__init__(grpc.StatusCode.UNAUTHENTICATED, f"session ended: {message}")


class NotLoggedInError(UnauthenticatedError):
    """refresh() or logout() with no session: nothing was sent."""

    def __init__(self):
        super().__init__(grpc.StatusCode.UNAUTHENTICATED,
                         "not logged in: call login() or register() first")


_ERROR_BY_CODE = {
    grpc.StatusCode.CANCELLED: CancelledError,
    grpc.StatusCode.UNKNOWN: UnknownError,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.ABORTED: AbortedError,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRangeError,
    grpc.StatusCode.UNIMPLEMENTED: UnimplementedError,
    grpc.StatusCode.INTERNAL: InternalError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DATA_LOSS: DataLossError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
}


def error_from_rpc_error(rpc_error):
    """The TollgateError for a grpc.RpcError raised by a stub call."""
    code = rpc_error.code()
    return _ERROR_BY_CODE.get(code, UnknownError)(code, rpc_error.details() or "")


def is_invalid_token(rpc_error):
    """Whether the server refused the call's access token itself.

    The tollgate interceptor answers every refused token UNAUTHENTICATED with
    `www-authenticate: Bearer error="invalid_token"` (RFC 6750 section 3).
    Other UNAUTHENTICATED replies (Login's "invalid email or password") carry
    no such trailer: renewing the token would not help them.
    """
    if rpc_error.code() != grpc.StatusCode.UNAUTHENTICATED:
        return False
    for key, value in rpc_error.trailing_metadata() or ():
        if key == "www-authenticate" and 'error="invalid_token"' in value:
            return True
    return False
